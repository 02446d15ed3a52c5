-- labs/02-container-isolation.lua: what fences a container in.
--
-- Namespaces (what a process can see: its own PID 1, host name, network),
-- a cgroup limit hit on purpose (memory, then processes), and a seccomp
-- rule the student adds and sees deny a system call.  Every check looks at
-- the real container; on a host without the container engine each step is
-- skipped with the doctor's reason.

local function need_container()
  local ok, why = vlab.available("container")
  if not ok then vlab.skip(why) end
end

-- The lab's main container: 64 MiB of memory, at most 32 processes.
local function box(lab)
  need_container()
  if not lab.box then
    lab.box = assert(vlab.container { name = "box", hostname = "box", memory = "64M", pids = 32 })
  end
  if lab.box:state() ~= "running" then assert(lab.box:start()) end
  return lab.box
end

-- The host baseline, to compare with.
local function host(lab)
  if not lab.host then
    lab.host = assert(vlab.host { name = "host" })
    assert(lab.host:start())
  end
  return lab.host
end

local function sh(inst, cmd)
  local r = assert(inst:exec(cmd))
  return r.stdout:gsub("%s+$", ""), r
end

-- Waits up to two seconds for counter name of inst to exceed zero.
local function counter(inst, name)
  for _ = 1, 20 do
    local n = inst:stats().counters[name]
    if n and n > 0 then return n end
    vlab.sleep(0.1)
  end
  return 0
end

return vlab.lab {
  id = "02-container-isolation",
  title = "Container isolation: namespaces, cgroups, seccomp",
  version = "1",
  engines = { "container", "host" },
  timeout = 60,
  intro = [[
# Container isolation

A container is a process like any other, started with three kinds of
fences: **namespaces** decide what it can *see*, **cgroups** decide how much
it can *use*, and a **seccomp** filter decides which system calls it may
*make*. In this lab you look at each one from inside, and you hit two of
them on purpose.]],

  steps = {
    vlab.step {
      id = "start",
      title = "A container of your own",
      text = [[
Start a container named *box*, with its own host name, a 64 MiB memory
limit and room for at most 32 processes.]],
      run = function(lab)
        local b = box(lab)
        local s = b:stats()
        vlab.print(("box is running (%s), ready after %.1f ms."):format(s.backend, s.startup_ms))
        vlab.record("startup.box", s.startup_ms, "ms")
      end,
      check = function(lab)
        local name = sh(box(lab), "hostname")
        return name == "box", "the container's host name is '" .. name .. "'"
      end,
      points = 1,
    },

    vlab.step {
      id = "pid-ns",
      title = "PID namespace: a world of its own",
      text = [[
In its *PID namespace* the container has its own process numbers, starting
at 1. Count the processes each side can see.]],
      run = function(lab)
        local b, h = box(lab), host(lab)
        local first = sh(b, "cat /proc/1/comm")
        local inside = tonumber((sh(b, "ls /proc | grep -c '^[0-9]'")))
        local outside = tonumber((sh(h, "ls /proc | grep -c '^[0-9]'")))
        vlab.print(("Inside, PID 1 is '%s' and %d processes are visible; the host sees %d.")
          :format(first, inside, outside))
        vlab.record("box.processes", inside, "")
        vlab.record("host.processes", outside, "")
        lab.pid1 = first
      end,
      check = function(lab)
        local m = vlab.measurements()
        local inside, outside = m["box.processes"], m["host.processes"]
        if not inside then return false, "run this step first" end
        return inside < outside and lab.pid1 ~= "systemd" and lab.pid1 ~= "init",
          ("%d processes inside against %d on the host"):format(inside, outside)
      end,
      points = 2,
      hints = { "PID 1 inside is the container's own init, not the host's." },
    },

    vlab.step {
      id = "shared-kernel",
      title = "One kernel for all",
      text = [[
Namespaces change what a process sees, not what runs it: ask both sides
for the kernel release.]],
      run = function(lab)
        lab.k_in = sh(box(lab), "uname -r")
        lab.k_out = sh(host(lab), "uname -r")
        vlab.print("Inside: " .. lab.k_in .. "   Host: " .. lab.k_out)
      end,
      check = function(lab)
        return lab.k_in ~= nil and lab.k_in == lab.k_out, "both say " .. tostring(lab.k_in)
      end,
      points = 1,
    },

    vlab.step {
      id = "net-ns",
      title = "Network namespace: nothing but loopback",
      text = [[
The container has its own *network namespace*. Started without the lab
network, it has no interface besides loopback.]],
      run = function(lab)
        lab.ifaces = {}
        for line in sh(box(lab), "cat /proc/net/dev"):gmatch("[^\n]+") do
          local name = line:match("^%s*([%w%.%-_]+):")
          if name then lab.ifaces[#lab.ifaces + 1] = name end
        end
        vlab.print("Interfaces inside: " .. table.concat(lab.ifaces, ", "))
      end,
      check = function(lab)
        local only_lo = lab.ifaces and #lab.ifaces == 1 and lab.ifaces[1] == "lo"
        return only_lo, "interfaces: " .. table.concat(lab.ifaces or {}, ", ")
      end,
      points = 1,
    },

    vlab.step {
      id = "memory-limit",
      title = "A cgroup limit, hit on purpose",
      text = [[
The memory cgroup caps the container at 64 MiB. Now a shell inside tries
to hold 100 MB in one variable. Who wins?]],
      run = function(lab)
        local _, r = sh(box(lab), "a=$(head -c 100000000 /dev/zero | tr '\\0' x); echo survived")
        lab.hog = r
        vlab.print(("The hog ended with exit code %d, signal %d."):format(r.exit_code, r.signal))
        lab.oom = counter(lab.box, "cg.oom_kills")
        vlab.print(("The cgroup counted %d OOM kill(s)."):format(lab.oom))
      end,
      check = function(lab)
        local r = lab.hog
        if not r then return false, "run this step first" end
        local killed = r.signal == 9 or r.exit_code == 137 or r.exit_code == -1
        return killed and not r.stdout:find("survived", 1, true),
          "the kernel killed the hog (signal " .. r.signal .. "); the container lives on"
      end,
      points = 2,
      hints = { "The OOM killer picks a process inside the cgroup, never the host's." },
    },

    vlab.step {
      id = "pids-limit",
      title = "Too many processes",
      text = [[
The pids cgroup allows 32 processes. Start 40 sleepers and watch fork fail.]],
      run = function(lab)
        local _, r = sh(box(lab), "for i in $(seq 40); do sleep 1 & done 2>&1; wait")
        lab.fork_err = r.stderr .. r.stdout
        lab.denied = counter(lab.box, "cg.pids.denied")
        vlab.print(("fork failures counted by the cgroup: %d"):format(lab.denied))
        vlab.sleep(1.5) -- let the sleepers end before the next step
      end,
      check = function(lab)
        local failed = lab.fork_err and lab.fork_err:find("can't fork", 1, true)
        return failed ~= nil, failed and "fork failed: Resource temporarily unavailable"
          or "every fork succeeded"
      end,
      points = 2,
    },

    vlab.step {
      id = "seccomp",
      title = "A seccomp rule, added and seen to deny",
      text = [[
A second container, *strict*, gets one more seccomp rule than the default
profile: deny `mkdir`. Make a directory in each container.]],
      run = function(lab)
        need_container()
        lab.strict = lab.strict or assert(vlab.container {
          name = "strict", ["seccomp.deny"] = { "mkdir", "mkdirat" } })
        if lab.strict:state() ~= "running" then assert(lab.strict:start()) end
        local _, ok = sh(box(lab), "mkdir -p /tmp/allowed && echo made")
        local _, no = sh(lab.strict, "mkdir /tmp/denied && echo made")
        lab.mk_ok, lab.mk_no = ok, no
        vlab.print("box:    " .. (ok.stdout .. ok.stderr):gsub("%s+$", ""))
        vlab.print("strict: " .. (no.stdout .. no.stderr):gsub("%s+$", ""))
      end,
      check = function(lab)
        if not lab.mk_no then return false, "run this step first" end
        local denied = lab.mk_no.exit_code ~= 0 and
          lab.mk_no.stderr:find("Operation not permitted", 1, true) ~= nil
        return denied and lab.mk_ok.exit_code == 0,
          denied and "mkdir was denied in strict (EPERM) and allowed in box"
          or "mkdir was not denied"
      end,
      points = 2,
      hints = { "The filter answers EPERM instead of running the system call." },
    },

    vlab.question {
      id = "q-pid1",
      prompt = "Inside the container, which process has PID 1?",
      choices = { "the host's init (systemd)", "the container's own init", "the kernel" },
      answer = 2,
      points = 1,
    },
    vlab.question {
      id = "q-processes",
      prompt = "How many processes could the container see in YOUR run?",
      expected = function(m) return m["box.processes"] end,
      tolerance = 0,
      points = 1,
    },
    vlab.question {
      id = "q-oom",
      prompt = "What stopped the memory hog?",
      choices = { "the shell ran out of disk", "the kernel's OOM killer, enforcing the cgroup limit",
                  "seccomp", "the host ran out of memory" },
      answer = 2,
      points = 1,
    },
    vlab.question {
      id = "q-errno",
      prompt = "Which error did the denied mkdir get? (its errno name)",
      accept = { "eperm", "operation not permitted" },
      points = 1,
      hints = { "It is the error printed after 'can't create directory'." },
    },
  },
}
