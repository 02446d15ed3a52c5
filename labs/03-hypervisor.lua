-- labs/03-hypervisor.lua: inside the hypervisor.
--
-- Type 1 and type 2, and what "hardware abstraction" costs: the student
-- finds the hypervisor as a process of the host, counts VM exits by reason
-- while a guest computes, does I/O and sits idle, prices one I/O request
-- inside a guest against the same request on the host, and sees what
-- "emulated" means: the doctor's kernel-mode loop and a whole VM under
-- QEMU's emulator.  The exits are counted on the unikernel, which runs on
-- KVM wherever KVM exists; a VM is measured too where it runs on KVM.

local function need_unikernel(lab)
  local ok, why = vlab.available("unikernel")
  if not ok then vlab.skip(why) end
  if not lab.uk then lab.uk = assert(vlab.unikernel { name = "uk" }) end
  if lab.uk:state() ~= "running" then assert(lab.uk:start()) end
  return lab.uk
end

local function need_host(lab)
  if not lab.host then lab.host = assert(vlab.host { name = "host" }) end
  if lab.host:state() ~= "running" then assert(lab.host:start()) end
  return lab.host
end

-- A VM whose exits can be counted: only where the vm engine runs on KVM.
local function kvm_vm(lab)
  local ok, _, _, backend = vlab.available("vm")
  if not ok or backend ~= "kvm" then return nil end
  if not lab.kvm_vm then lab.kvm_vm = assert(vlab.vm { name = "vm", memory = "128M" }) end
  if lab.kvm_vm:state() ~= "running" then assert(lab.kvm_vm:start(120)) end
  return lab.kvm_vm
end

-- The exit counters of inst (exit.<reason>), as a table.
local function exits(inst)
  local t = {}
  for name, n in pairs(inst:stats().counters) do
    local reason = name:match("^exit%.(.+)$")
    if reason then t[reason] = n end
  end
  return t
end

-- What changed between two exits() snapshots, over seconds: total per
-- second, and "reason n/s, ..." by reason.
local function rate(before, after, seconds)
  local total, parts = 0, {}
  for reason, n in pairs(after) do
    local d = n - (before[reason] or 0)
    if d > 0 then
      total = total + d
      parts[#parts + 1] = ("%s %.0f/s"):format(reason, d / seconds)
    end
  end
  table.sort(parts)
  return total / seconds, total, #parts > 0 and table.concat(parts, ", ") or "none"
end

-- Runs fn while counting inst's exits; returns exits per second, the
-- count, the breakdown by reason and the seconds (by the guest's clock,
-- read just outside the window so the two pings are not counted).
local function watch(inst, fn)
  local t0 = assert(inst:request("ping")).t_ns
  local before = exits(inst)
  fn()
  local after = exits(inst)
  local t1 = assert(inst:request("ping")).t_ns
  local seconds = math.max((t1 - t0) / 1e9, 1e-3)
  local per_s, n, by = rate(before, after, seconds)
  return per_s, n, by, seconds
end

local function print_watch(what, per_s, n, by, seconds)
  vlab.print(("%-28s %6d exits in %.2f s = %8.0f exits/s  (%s)"):format(what, n, seconds, per_s, by))
end

-- What process pid has open, as the host agent sees it in /proc.
local function fd_links(host, pid)
  local r = assert(host:exec(("ls -l /proc/%d/fd 2>/dev/null | sed 's/.*-> //' | sort | uniq -c"):format(pid)))
  return r.stdout
end

return vlab.lab {
  id = "03-hypervisor",
  title = "Inside the hypervisor",
  version = "1",
  engines = { "unikernel", "host", "vm" },
  timeout = 180,
  intro = [[
# Inside the hypervisor

A **type 1** hypervisor (Xen, ESXi, Hyper-V) runs on the bare hardware; a
**type 2** hypervisor (VirtualBox, QEMU) runs on top of a host OS. Either
way it gives each guest *virtual hardware*: the guest runs its own code on
the real CPU until it touches a device; then the CPU stops the guest and
hands control to the hypervisor (a **VM exit**), which plays the device's
part and resumes the guest.

In this lab you find the hypervisor on this machine, count its VM exits
while a guest computes, does I/O and sleeps, price one I/O request, and see
what happens when the CPU cannot run a guest's kernel itself: *emulation*.]],

  steps = {
    vlab.step {
      id = "hosted",
      title = "The hypervisor is a process",
      text = [[
Start a unikernel: a tiny guest on KVM. Then look at the host: KVM is a
module of the host's kernel, and the rest of the hypervisor (the part that
loads the guest and plays its devices) is an ordinary process with open
files on `/dev/kvm`.]],
      run = function(lab)
        local uk, host = need_unikernel(lab), need_host(lab)
        local pid = uk:stats().pid
        local mods = assert(host:exec("grep -o '^kvm[a-z_]*' /proc/modules | tr '\\n' ' '")).stdout
        vlab.print("KVM modules in the host kernel: " .. (mods ~= "" and mods or "(built in)"))
        vlab.print(("The unikernel's monitor is process %d: %s"):format(pid,
          assert(host:exec(("cat /proc/%d/comm"):format(pid))).stdout:gsub("%s+$", "")))
        lab.fds = fd_links(host, pid)
        vlab.print("Its open files include:")
        for line in lab.fds:gmatch("[^\n]+") do
          if line:find("kvm") then vlab.print("  " .. line) end
        end
      end,
      check = function(lab)
        local fds = lab.fds or ""
        local ok = fds:find("/dev/kvm", 1, true) and fds:find("kvm-vcpu", 1, true)
        return ok ~= nil, ok and "the monitor holds /dev/kvm, a VM and a vCPU"
          or "no KVM files found on the monitor process"
      end,
      points = 1,
    },

    vlab.question {
      id = "q-type",
      prompt = [[
vlab's monitor is a process of the host OS that asks the host kernel's KVM
to run the guest. In the slides' terms, which architecture is that closest
to?]],
      choices = { "type 1: bare metal", "type 2: hosted", "a container", "neither: it is emulation" },
      answer = 2,
      explain = "KVM itself turns the host kernel into a hypervisor, which is why KVM is "
        .. "sometimes called type 1; the part you saw, the VMM, is a hosted process.",
      points = 1,
    },

    vlab.question {
      id = "predict-exits",
      prompt = [[
Predict before you measure: the guest will compute (a sieve), then write
and read its disk in 512-byte blocks, then sit idle. During which will it
cause the most VM exits per second?]],
      choices = { "while computing", "while doing disk I/O", "while idle", "all about the same" },
      answer = 2,
      explain = "Computing never leaves the CPU; every I/O request is an exit.",
      points = 1,
    },

    vlab.step {
      id = "exits-cpu",
      title = "VM exits while computing",
      text = [[
The guest sieves primes for a while. Count the exits during the work, by
reason. (The few you see carry the request and its answer.)]],
      run = function(lab)
        local uk = need_unikernel(lab)
        local per_s, n, by, s = watch(uk, function() assert(uk:run("cpu", { size = 4000000 })) end)
        print_watch("unikernel computing", per_s, n, by, s)
        vlab.record("exits.cpu", per_s, "exits/s")
        local vm = kvm_vm(lab)
        if vm then
          print_watch("VM computing", watch(vm, function() assert(vm:run("cpu", { size = 4000000 })) end))
        end
      end,
      check = function()
        return vlab.measurements()["exits.cpu"] ~= nil, "measured"
      end,
      points = 1,
    },

    vlab.step {
      id = "exits-io",
      title = "VM exits while doing I/O",
      text = [[
Now the guest writes 2 MiB to its disk and reads it back, 512 bytes at a
time. Its block driver hands each request to the monitor with one
*hypercall*: an `out` instruction, which exits.]],
      run = function(lab)
        local uk = need_unikernel(lab)
        local per_s, n, by, s = watch(uk, function()
          assert(uk:run("disk", { size = "2M", bs = 512 }))
        end)
        print_watch("unikernel disk, 512 B blocks", per_s, n, by, s)
        vlab.record("exits.io", per_s, "exits/s")
        vlab.record("exits.io.count", n, "")
        local calls = {}
        for name, v in pairs(uk:stats().counters) do
          if name:match("^hc%.block") then calls[#calls + 1] = name .. " " .. v end
        end
        table.sort(calls)
        vlab.print("Block hypercalls so far: " .. table.concat(calls, ", "))
        local vm = kvm_vm(lab)
        if vm then
          print_watch("VM disk, 512 B blocks", watch(vm, function()
            assert(vm:run("disk", { size = "2M", bs = 512 }))
          end))
        end
      end,
      check = function()
        local m = vlab.measurements()
        if not m["exits.io"] or not m["exits.cpu"] then
          return false, "run the computing step and this one first"
        end
        return m["exits.io"] > 10 * m["exits.cpu"],
          ("%.0f exits/s doing I/O against %.0f computing"):format(m["exits.io"], m["exits.cpu"])
      end,
      points = 2,
      hints = { "Count the block hypercalls: 2 MiB in 512-byte blocks is how many requests?" },
    },

    vlab.step {
      id = "exits-idle",
      title = "VM exits while idle",
      text = [[
For two seconds, nobody asks the guest anything. The unikernel waits for
input with a *poll* hypercall: the monitor sleeps on its behalf, and the
virtual CPU does not run at all. (A Linux guest would wake up for its timer
ticks and halt again: `hlt` exits.)]],
      run = function(lab)
        local uk = need_unikernel(lab)
        local per_s, n, by, s = watch(uk, function() vlab.sleep(2) end)
        print_watch("unikernel idle", per_s, n, by, s)
        vlab.record("exits.idle", per_s, "exits/s")
        local vm = kvm_vm(lab)
        if vm then
          print_watch("VM idle", watch(vm, function() vlab.sleep(2) end))
        else
          vlab.print("(No VM here: the vm engine is emulated on this host, and an emulator "
            .. "has no VM exits to count: QEMU translates every guest instruction itself.)")
        end
        local m = vlab.measurements()
        vlab.chart {
          title = "VM exits per second (unikernel)", unit = "exits/s", lower_is_better = true,
          bars = {
            { label = "cpu", value = m["exits.cpu"] },
            { label = "disk I/O", value = m["exits.io"] },
            { label = "idle", value = m["exits.idle"] },
          },
        }
      end,
      check = function()
        local m = vlab.measurements()
        if not m["exits.idle"] or not m["exits.io"] then
          return false, "run the I/O step and this one first"
        end
        return m["exits.idle"] < m["exits.io"] / 10,
          ("%.1f exits/s idle against %.0f doing I/O"):format(m["exits.idle"], m["exits.io"])
      end,
      points = 1,
    },

    vlab.step {
      id = "io-cost",
      title = "Why I/O is expensive in a VM",
      text = [[
What does one I/O request cost? Write the same 2 MiB in the unikernel and
on the host, with small (512 B) and large (64 KiB) blocks, and divide the
time by the number of requests.]],
      run = function(lab)
        local uk, host = need_unikernel(lab), need_host(lab)
        local function per_request(inst, bs)
          local r = assert(inst:run("disk", { size = "2M", bs = bs }))
          return r.write_ns / 1000 / (r.total_bytes / bs)
        end
        local cost = {
          uk512 = per_request(uk, 512), host512 = per_request(host, 512),
          uk64k = per_request(uk, 65536), host64k = per_request(host, 65536),
        }
        vlab.record("io.uk.512", cost.uk512, "us")
        vlab.record("io.host.512", cost.host512, "us")
        vlab.record("io.uk.64k", cost.uk64k, "us")
        vlab.record("io.host.64k", cost.host64k, "us")
        vlab.print(("One 512-byte write: %.1f us in the unikernel, %.1f us on the host (%.0fx)."):format(
          cost.uk512, cost.host512, cost.uk512 / cost.host512))
        vlab.print(("One 64 KiB write:   %.1f us in the unikernel, %.1f us on the host."):format(
          cost.uk64k, cost.host64k))
        vlab.chart {
          title = "Time per write request", unit = "us", lower_is_better = true,
          bars = {
            { label = "uk 512B", value = cost.uk512 }, { label = "host 512B", value = cost.host512 },
            { label = "uk 64K", value = cost.uk64k }, { label = "host 64K", value = cost.host64k },
          },
        }
      end,
      check = function()
        local m = vlab.measurements()
        if not m["io.uk.512"] then return false, "run this step first" end
        return m["io.uk.512"] > m["io.host.512"],
          ("a 512 B request costs %.1f us in the guest, %.1f us on the host"):format(
            m["io.uk.512"], m["io.host.512"])
      end,
      points = 2,
    },

    vlab.question {
      id = "q-io-ratio",
      prompt = [[
From your measurements: how many times more did one 512-byte write cost in
the unikernel than on the host? (within 10%)]],
      expected = function(m)
        return m["io.uk.512"] and m["io.host.512"] and m["io.uk.512"] / m["io.host.512"]
      end,
      tolerance = "10%",
      points = 1,
    },
    vlab.question {
      id = "q-virtio",
      prompt = "How do paravirtual devices such as virtio make a guest's I/O cheaper?",
      choices = {
        "they run the device inside the guest, so there is no hypervisor",
        "the guest queues many requests in shared memory and notifies the hypervisor once, "
          .. "instead of one exit per register access",
        "they compress the data",
        "they use the host's page cache instead of a disk",
      },
      answer = 2,
      points = 1,
    },

    vlab.step {
      id = "doctor",
      title = "What \"emulated\" means: the doctor's loop",
      text = [[
`vlab doctor` times the same tiny guest loop twice on this machine's KVM:
once in user mode (CPL 3) and once in kernel mode (CPL 0). With hardware
virtualization (Intel VT-x, AMD-V) both run directly on the CPU at the same
speed. Without it, the hypervisor must *emulate* the guest's privileged
code, instruction by instruction.]],
      run = function()
        local d = vlab.doctor()
        local k = d.kvm
        if not k.present then vlab.skip("no /dev/kvm on this host: " .. (k.error or "absent")) end
        if not k.measured then vlab.skip("KVM could not be measured: " .. (k.measure_error or "?")) end
        vlab.print(("KVM module: %s. One loop iteration: %.2f ns in user mode, %.2f ns in kernel mode."):format(
          k.module ~= "" and k.module or "kvm", k.cpl3_ns, k.cpl0_ns))
        vlab.print(("Kernel-mode guest code runs %.0fx slower than user-mode code here: %s."):format(
          k.ratio, k.hardware_assisted and "hardware-assisted, as it should be"
            or "this KVM emulates guest kernel code"))
        vlab.record("doctor.ratio", k.ratio, "x")
        vlab.record("doctor.hw", k.hardware_assisted and 1 or 0, "")
      end,
      check = function()
        local r = vlab.measurements()["doctor.ratio"]
        return r ~= nil and r > 0, r and ("kernel mode %.0fx user mode"):format(r) or "run this step first"
      end,
      points = 1,
    },

    vlab.question {
      id = "q-doctor",
      prompt = [[
By the doctor's measurement on your machine, how many times slower does
guest kernel-mode code run than guest user-mode code? (within 10%)]],
      expected = function(m) return m["doctor.ratio"] end,
      tolerance = "10%",
      points = 1,
    },

    vlab.step {
      id = "emulated-vm",
      title = "A whole machine, emulated or not",
      text = [[
Boot a Linux VM and run the same sieve in it and on the host. Where KVM is
hardware-assisted, vlab's own VMM runs the guest at nearly the host's
speed; where it is not, QEMU emulates the whole machine in software (TCG:
it translates the guest's code as it goes) and every figure is marked
*emulated*. The guest can tell: its CPUID names the hypervisor.]],
      timeout = 300,
      run = function(lab)
        local ok, why = vlab.available("vm")
        if not ok then vlab.skip(why) end
        if not lab.vm then lab.vm = assert(vlab.vm { name = "linux", memory = "128M" }) end
        if lab.vm:state() ~= "running" then assert(lab.vm:start(240)) end
        local host = need_host(lab)
        local s = lab.vm:stats()
        local info = assert(lab.vm:run("sysinfo"))
        vlab.print(("The VM runs on backend %s%s; its CPUID names the hypervisor '%s'."):format(
          s.backend, s.emulated and " (EMULATED)" or "", info.hypervisor or ""))
        local v = assert(lab.vm:run("cpu", { size = 1000000 })).int_ops_per_s
        local h = assert(host:run("cpu", { size = 1000000 })).int_ops_per_s
        vlab.record("sieve.vm", v / 1e6, "Mops/s")
        vlab.record("sieve.host", h / 1e6, "Mops/s")
        vlab.record("vm.emulated", s.emulated and 1 or 0, "")
        vlab.print(("Sieve: %.0f Mops/s in the VM, %.0f Mops/s on the host: the VM is %.1fx slower."):format(
          v / 1e6, h / 1e6, h / v))
        vlab.chart {
          title = "Sieve speed", unit = "Mops/s",
          bars = { { label = "host", value = h / 1e6 },
                   { label = "vm", value = v / 1e6, note = s.emulated and "emulated" or "" } },
        }
      end,
      check = function()
        local m = vlab.measurements()
        if not m["sieve.vm"] then return false, "run this step first" end
        return m["sieve.vm"] > 0, ("the VM sieved at %.0f Mops/s, the host at %.0f"):format(
          m["sieve.vm"], m["sieve.host"])
      end,
      points = 1,
    },

    vlab.question {
      id = "q-vm-slower",
      prompt = "How many times slower than the host did your VM run the sieve? (within 15%)",
      expected = function(m)
        return m["sieve.vm"] and m["sieve.host"] and m["sieve.host"] / m["sieve.vm"]
      end,
      tolerance = "15%",
      points = 1,
    },
    vlab.question {
      id = "q-why-emulate",
      prompt = "Why must a hypervisor emulate a guest's kernel when the CPU has no virtualization support?",
      choices = {
        "kernel code uses privileged instructions and page tables that would act on the real "
          .. "machine if run directly, so each must be trapped or translated",
        "kernel code is written in a different language",
        "the guest kernel is compressed",
        "emulation is always faster",
      },
      answer = 1,
      points = 1,
    },
  },
}
