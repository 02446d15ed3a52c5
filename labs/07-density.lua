-- labs/07-density.lua: how many instances fit on one host, and what each
-- one costs.
--
-- The student predicts, then starts several containers, several unikernels
-- and a couple of VMs side by side, measures what each instance costs the
-- host (memory, as vlab bench counts it, and start time), and works out how
-- many of each would fit in this host's available memory: at rest, and in
-- the worst case where each grows to its limit.  Every count is computed
-- from the student's own figures.

local KiB, MiB = 1024, 1024 * 1024

-- How many of each, and the limits each instance gets.
local FLEET = {
  container = { n = 8, opts = { memory = "32M", pids = 16 }, limit_mib = 32 },
  unikernel = { n = 8, opts = { memory = "32M" }, limit_mib = 32 },
  vm = { n = 2, opts = { memory = "128M" }, limit_mib = 128 },
}
local ORDER = { "container", "unikernel", "vm" }

-- Starts the fleet of engine (kept in lab.fleet[engine]), measures each
-- instance, records the mean cost and start time; skips where this host
-- cannot run the engine.
local function fleet(lab, engine, timeout)
  local ok, why = vlab.available(engine)
  if not ok then vlab.skip(why) end
  local spec = FLEET[engine]
  lab.fleet = lab.fleet or {}
  lab.fleet[engine] = lab.fleet[engine] or {}
  local list = lab.fleet[engine]
  local total, start_total, bars = 0, 0, {}
  for i = 1, spec.n do
    local name = ("%s%d"):format(engine == "container" and "ct" or engine == "unikernel" and "uk"
      or "vm", i)
    if not list[i] then
      local opts = { name = name }
      for k, v in pairs(spec.opts) do opts[k] = v end
      local inst, err = vlab[engine](opts)
      if not inst then vlab.skip(err) end
      list[i] = inst
    end
    if list[i]:state() ~= "running" then assert(list[i]:start(timeout)) end
    local f = assert(list[i]:footprint())
    local s = list[i]:stats()
    total = total + f.bytes
    start_total = start_total + s.startup_ms
    bars[#bars + 1] = { label = name, value = f.bytes / MiB, note = s.emulated and "emulated" or "" }
    vlab.print(("  %-5s ready after %8.1f ms, costs %9.1f KiB (%s)"):format(name, s.startup_ms,
      f.bytes / KiB, f.source))
  end
  local mean = total / spec.n / MiB
  vlab.record(engine .. ".cost", mean, "MiB")
  vlab.record(engine .. ".start", start_total / spec.n, "ms")
  vlab.record(engine .. ".limit", spec.limit_mib, "MiB")
  vlab.print(("%d %ss: %.2f MiB in all, %.3f MiB each on average; %.1f ms each to start."):format(
    spec.n, engine, total / MiB, mean, start_total / spec.n))
  vlab.chart { title = engine .. "s: memory each", unit = "MiB", lower_is_better = true, bars = bars }
end

local function host_memory(lab)
  if not lab.host then lab.host = assert(vlab.host { name = "host" }) end
  if lab.host:state() ~= "running" then assert(lab.host:start()) end
  return assert(lab.host:run("sysinfo"))
end

return vlab.lab {
  id = "07-density",
  title = "Density: how many fit, and what each costs",
  version = "1",
  engines = { "container", "unikernel", "vm", "host" },
  timeout = 120,
  intro = [[
# Density

The slides praise containers and unikernels for a *high density* of
instances: more of them on the same server. Density is a budget: the
host's memory and CPUs, divided by what one instance costs.

You will start 8 containers, 8 unikernels and 2 virtual machines side by
side, measure what each instance costs the host, and work out how many of
each would fit here.]],

  steps = {
    vlab.question {
      id = "predict-density",
      prompt = [[
Predict: in the memory that one VM costs the host, how many unikernels
could run?]],
      choices = { "about 1", "about 10", "about 100", "several hundred or more" },
      answer = { 1, 2, 3, 4 },
      explain = "Any answer is fine: the last steps compare it with your measurements.",
      points = 0,
    },

    vlab.step {
      id = "containers",
      title = "Eight containers",
      text = [[
Start 8 containers, each limited to 32 MiB of memory and 16 processes, and
measure what each one costs: its memory cgroup's usage (what the kernel
charges to the container's processes; vlab's runtime process beside each
costs a little more).]],
      run = function(lab) fleet(lab, "container") end,
      check = function()
        local c = vlab.measurements()["container.cost"]
        return c ~= nil and c > 0, c and ("%.0f KiB per container"):format(c * 1024) or "run this step"
      end,
      points = 1,
    },

    vlab.step {
      id = "unikernels",
      title = "Eight unikernels",
      text = [[
Start 8 unikernels, each given 32 MiB of guest memory, and measure what
each one costs: the memory of its monitor process (PSS), guest memory
included where the guest touched it.]],
      run = function(lab) fleet(lab, "unikernel") end,
      check = function()
        local c = vlab.measurements()["unikernel.cost"]
        return c ~= nil and c > 0, c and ("%.0f KiB per unikernel"):format(c * 1024) or "run this step"
      end,
      points = 1,
    },

    vlab.step {
      id = "vms",
      title = "Two virtual machines",
      text = [[
Start 2 VMs with 128 MiB each and measure what each one costs the host: a
whole guest kernel with its caches, the VMM and, when the VM is emulated,
the emulator's translated code. This takes a while when they are
emulated.]],
      timeout = 600,
      run = function(lab) fleet(lab, "vm", 240) end,
      check = function()
        local c = vlab.measurements()["vm.cost"]
        return c ~= nil and c > 0, c and ("%.1f MiB per VM"):format(c) or "run this step"
      end,
      points = 1,
    },

    vlab.step {
      id = "fit",
      title = "How many would fit?",
      text = [[
Divide the memory this host has available by what one instance costs. Two
answers: **at rest** (what you measured, right after start) and **at worst**
(each instance grows to the memory it was allowed: the container's limit,
the guest memory of a unikernel or a VM; or stays at what it costs now if
that is already more, as an emulator's own memory is). The host promises
more than it has whenever the count at rest is higher: that is
*overcommitment*.]],
      run = function(lab)
        local info = host_memory(lab)
        local avail = info.mem_free_bytes / MiB
        vlab.record("host.available", avail, "MiB")
        vlab.record("host.cpus", info.cpus_count, "")
        local m = vlab.measurements()
        local rest, worst = {}, {}
        vlab.print(("Memory available on this host: %.0f MiB; %d CPUs."):format(avail, info.cpus_count))
        for _, e in ipairs(ORDER) do
          if m[e .. ".cost"] then
            local r = math.floor(avail / m[e .. ".cost"])
            local w = math.floor(avail / math.max(m[e .. ".cost"], m[e .. ".limit"]))
            vlab.record("fit." .. e .. ".rest", r, "")
            vlab.record("fit." .. e .. ".worst", w, "")
            rest[#rest + 1] = { label = e, value = r }
            worst[#worst + 1] = { label = e, value = w }
            vlab.print(("  %-10s %8d at rest (%.3f MiB each)   %6d at worst (%.0f MiB each)"):format(
              e, r, m[e .. ".cost"], w, math.max(m[e .. ".cost"], m[e .. ".limit"])))
          end
        end
        if #rest == 0 then error("measure the instances first (the steps before)") end
        vlab.chart { title = "Instances that fit, at rest", unit = "", bars = rest }
        vlab.chart { title = "Instances that fit, at worst", unit = "", bars = worst }
      end,
      check = function()
        local m = vlab.measurements()
        local n = 0
        for _, e in ipairs(ORDER) do
          if m["fit." .. e .. ".rest"] then n = n + 1 end
        end
        return n >= 2, ("%d technologies counted"):format(n)
      end,
      points = 2,
    },

    vlab.step {
      id = "compare",
      title = "Your prediction",
      text = "How many unikernels cost the host as much memory as one VM?",
      run = function()
        local m = vlab.measurements()
        if not (m["vm.cost"] and m["unikernel.cost"]) then
          error("measure the unikernels and the VMs first")
        end
        local n = m["vm.cost"] / m["unikernel.cost"]
        vlab.record("uk.per.vm", n, "")
        local range = n < 3 and 1 or n < 30 and 2 or n < 300 and 3 or 4
        local choices = { "about 1", "about 10", "about 100", "several hundred or more" }
        local said = tonumber(vlab.answer("predict-density") or "")
        vlab.print(("One VM costs as much memory as %.0f unikernels here (%s). You predicted: %s."):format(
          n, choices[range], said and choices[said] or "nothing"))
      end,
      check = function()
        if not vlab.answer("predict-density") then return false, "make your prediction first" end
        return vlab.measurements()["uk.per.vm"] ~= nil, "compared"
      end,
      points = 1,
    },

    vlab.question {
      id = "q-container-cost",
      prompt = "What did one of your containers cost the host on average, in KiB? (within 10%)",
      unit = "KiB",
      expected = function(m) return m["container.cost"] and m["container.cost"] * 1024 end,
      tolerance = "10%",
      points = 1,
    },
    vlab.question {
      id = "q-fit-unikernels",
      prompt = "By your measurements, how many unikernels at rest would fit in this host's available memory? (within 5%)",
      expected = function(m) return m["fit.unikernel.rest"] end,
      tolerance = "5%",
      points = 1,
    },
    vlab.question {
      id = "q-uk-per-vm",
      prompt = "How many unikernels cost as much memory as one of your VMs? (within 10%)",
      expected = function(m) return m["uk.per.vm"] end,
      tolerance = "10%",
      points = 1,
    },
    vlab.question {
      id = "q-worst",
      prompt = "Why is the count *at rest* optimistic, especially for VMs?",
      choices = {
        "the measurement is too slow",
        "each guest may grow into all the memory it was given: the host has promised more than it has",
        "VMs share memory with each other",
        "containers use swap",
      },
      answer = 2,
      points = 1,
    },
    vlab.question {
      id = "q-cpu",
      prompt = "Besides memory, what limits how many *busy* instances one host can run well?",
      choices = {
        "the number of network interfaces",
        "the length of their names",
        "CPU time: every busy instance competes for the same cores",
        "nothing else",
      },
      answer = 3,
      points = 1,
    },
  },
}
