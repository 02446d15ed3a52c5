-- labs/06-performance.lua: the performance comparison of the course.
--
-- The student predicts, for each of the seven metrics of the slides, which
-- technology wins; then vlab measures all seven on the VM, the container,
-- the unikernel and the host baseline (as `vlab bench` does: repeated runs,
-- medians with min and max); one step per metric reads the figures, says
-- why they come out that way and compares them with the prediction; the
-- last step sums up how to choose the most suited technology.  Numeric
-- questions are computed from the student's own figures.

local ENGINES = { "vm", "container", "unikernel", "host" }
local CANDIDATES = { "vm", "container", "unikernel" } -- the host is the baseline
local NAMES = { vm = "the virtual machine", container = "the container", unikernel = "the unikernel" }

-- The seven metrics: the figure that decides each, and the prediction.
local METRICS = {
  { id = "startup", key = "startup", question = "Which one will be ready soonest after it is created?" },
  { id = "image", key = "image", question = "Which one has the smallest image to ship?" },
  { id = "footprint", key = "footprint", question = "Which one will cost the host the least memory?" },
  { id = "cpu", key = "cpu.int", question = "Which one will compute fastest (a sieve of primes)?" },
  { id = "mem", key = "mem.triad", question = "Which one will move memory fastest (STREAM)?" },
  { id = "disk", key = "disk.write", question = "Which one will write to its disk fastest?" },
  { id = "net", key = "net.rtt", question = "Which one will answer a UDP packet with the shortest round trip?" },
}
local CHOICES = { "the virtual machine", "the container", "the unikernel" }

-- Workload sizes: small enough for an emulated VM, large enough to measure.
local MiB = 1024 * 1024
local SIZES = { cpu_sieve = 500000, mem_bytes = 4 * MiB, mem_reps = 3, disk_bytes = 8 * MiB,
                net_count = 200 }

-- The figures the reading steps show, kept in the workbook as perf.<engine>.<key>.
local KEYS = { "startup", "image", "footprint", "cpu.int", "cpu.fp", "mem.triad", "disk.write",
               "disk.read", "net.rtt", "net.tps" }

-- A figure of engine: from this run's bench result (with its spread), or
-- the median kept in the workbook.
local function figure(lab, engine, key)
  local e = lab.perf and lab.perf[engine]
  if e and e.rows[key] then return e.rows[key] end
  local v = vlab.measurements()["perf." .. engine .. "." .. key]
  return v and { value = v, min = v, max = v, runs = 1 } or nil
end

-- The candidate with the best figure for key (lower or higher is better).
local function winner(lab, key, lower)
  local best, bestv
  for _, e in ipairs(CANDIDATES) do
    local f = figure(lab, e, key)
    if f and (not bestv or (lower and f.value < bestv) or (not lower and f.value > bestv)) then
      best, bestv = e, f.value
    end
  end
  return best
end

local LOWER = { startup = true, image = true, footprint = true, ["net.rtt"] = true }

local function chart(lab, key, title, unit)
  local bars = {}
  for _, e in ipairs(ENGINES) do
    local f = figure(lab, e, key)
    local emulated = lab.perf and lab.perf[e] and lab.perf[e].emulated
      or vlab.measurements()["perf." .. e .. ".emulated"] == 1
    bars[#bars + 1] = f and { label = e, value = f.value, min = f.min, max = f.max, runs = f.runs,
                              note = emulated and "emulated" or "" }
      or { label = e, note = "not measured" }
  end
  vlab.chart { title = title, unit = unit, lower_is_better = LOWER[key] or false, bars = bars }
end

-- The choice the student predicted for metric id (its number), or nil.
local function predicted(id)
  local a = vlab.answer("predict-" .. id)
  if not a then return nil end
  local n = tonumber(a)
  if n and CHOICES[n] then return n end
  for i, c in ipairs(CHOICES) do
    if c == a:lower():gsub("^%s+", ""):gsub("%s+$", "") then return i end
  end
  return nil
end

local function index_of(engine)
  for i, e in ipairs(CANDIDATES) do
    if e == engine then return i end
  end
end

-- Prints the student's prediction against the winner; returns the winner.
local function verdict(lab, m)
  local w = winner(lab, m.key, LOWER[m.key])
  local p = predicted(m.id)
  if not w then
    vlab.print("Not measured on this host.")
  elseif not p then
    vlab.print(("Best: %s. (You made no prediction for this one.)"):format(NAMES[w]))
  else
    vlab.print(("You predicted %s; the best was %s: %s."):format(CHOICES[p], NAMES[w],
      index_of(w) == p and "well predicted" or "a surprise worth understanding"))
  end
  return w
end

local function need_figure(lab, key)
  local n = 0
  for _, e in ipairs(CANDIDATES) do
    if figure(lab, e, key) then n = n + 1 end
  end
  if n == 0 then return false, "measure first (the measuring step)" end
  return true, ("%d of 3 technologies measured"):format(n)
end

-- A step that reads one metric.
local function reading(m, title, text, show)
  return vlab.step {
    id = m.id,
    title = title,
    text = text,
    run = function(lab)
      local ok, why = need_figure(lab, m.key)
      if not ok then error(why) end
      show(lab)
      verdict(lab, m)
    end,
    check = function(lab) return need_figure(lab, m.key) end,
    points = 1,
  }
end

local function ratio(m, a, b)
  return m[a] and m[b] and m[b] ~= 0 and m[a] / m[b] or nil
end

local steps = {}

for _, m in ipairs(METRICS) do
  steps[#steps + 1] = vlab.question {
    id = "predict-" .. m.id,
    prompt = "Predict (" .. m.id .. "): " .. m.question,
    choices = CHOICES,
    answer = { 1, 2, 3 },
    explain = "Any answer is fine: it is your prediction, compared with the measurement later.",
    points = 0,
  }
end

steps[#steps + 1] = vlab.step {
  id = "measure",
  title = "Measure all seven, on all four",
  text = [[
vlab now measures the seven metrics on a VM, a container, a unikernel and
the host baseline, exactly as `vlab bench` does: each engine is started
three times (startup, image size, footprint), then the same workloads run
three times on the last one. Each figure is the *median* of its runs, with
the fastest and slowest beside it.

An emulated VM is slow to boot: this step takes a minute or two. Watch the
progress in the log.]],
  timeout = 900,
  run = function(lab)
    local m = vlab.measurements()
    if vlab.replaying() and m["perf.host.startup"] then
      return -- restoring the lab's state: the figures are in the workbook
    end
    local perf, err = vlab.bench {
      engines = ENGINES, runs = 3, warmup = 0, sizes = SIZES, charts = false,
    }
    if not perf then error("measuring failed: " .. err) end
    lab.perf = perf
    for _, e in ipairs(ENGINES) do
      local col = perf[e]
      if not col.available then
        vlab.print(("%s: cannot run here: %s"):format(e, col.reason))
      else
        vlab.record("perf." .. e .. ".emulated", col.emulated and 1 or 0, "")
        for _, key in ipairs(KEYS) do
          local f = col.rows[key]
          if f then vlab.record("perf." .. e .. "." .. key, f.value, f.unit) end
        end
        if col.error ~= "" then
          vlab.print(("%s%s: %s"):format(e, col.emulated and " (emulated)" or "", col.error))
        end
      end
    end
    vlab.print(("Measured: %d runs per figure%s."):format(3,
      perf.cancelled and ", stopped early at the step's time limit" or ""))
  end,
  check = function(lab)
    -- Every figure the reading steps need, on every engine this host runs
    -- (the network ones where the lab network works: it needs root).
    local net = false
    for _, e in ipairs(CANDIDATES) do
      net = net or figure(lab, e, "net.rtt") ~= nil
    end
    local n, missing = 0, {}
    for _, e in ipairs(ENGINES) do
      if vlab.available(e) then
        n = n + 1
        for _, m in ipairs(METRICS) do
          if not figure(lab, e, m.key) and (net or m.id ~= "net") then
            missing[#missing + 1] = e .. " " .. m.key
          end
        end
      end
    end
    if #missing > 0 then
      local col = lab.perf and lab.perf[missing[1]:match("^%S+")]
      return false, ("not measured: %s%s (press r to measure again)"):format(
        table.concat(missing, ", "), col and col.error ~= "" and (": " .. col.error) or "")
    end
    return n >= 2, ("all seven metrics on the %d engines this host runs"):format(n)
  end,
  points = 2,
}

steps[#steps + 1] = reading(METRICS[1], "1. Startup time", [[
The time from *create* to the agent's READY. A VM boots a whole kernel on
virtual hardware; a container is a process the host kernel fences in; a
unikernel boots a few thousand lines of library OS.]], function(lab)
  chart(lab, "startup", "Startup (create to READY)", "ms")
end)

steps[#steps + 1] = vlab.question {
  id = "q-startup",
  prompt = "How many times longer than the container did the VM take to start? (within 10%)",
  expected = function(m) return ratio(m, "perf.vm.startup", "perf.container.startup") end,
  tolerance = "10%",
  points = 1,
}

steps[#steps + 1] = reading(METRICS[2], "2. Image size", [[
What must be shipped to run it: the VM's kernel and initramfs, the
container's root file system (busybox and the agent), the unikernel's ELF,
the host's agent binary.]], function(lab)
  chart(lab, "image", "Image to ship", "MiB")
end)

steps[#steps + 1] = vlab.question {
  id = "q-image",
  prompt = "How many times larger is the VM's image than the unikernel's? (within 5%)",
  expected = function(m) return ratio(m, "perf.vm.image", "perf.unikernel.image") end,
  tolerance = "5%",
  points = 1,
}

steps[#steps + 1] = reading(METRICS[3], "3. Memory footprint", [[
What each instance costs the host's memory right after READY: the PSS of
its processes (for the container, its memory cgroup's usage). A VM pays
for a guest kernel, its caches and (when emulated) the emulator.]], function(lab)
  chart(lab, "footprint", "Memory footprint at READY", "MiB")
end)

steps[#steps + 1] = vlab.question {
  id = "q-footprint",
  prompt = "How many MiB did the VM cost the host at READY, in your run? (within 10%)",
  unit = "MiB",
  expected = function(m) return m["perf.vm.footprint"] end,
  tolerance = "10%",
  points = 1,
}

steps[#steps + 1] = reading(METRICS[4], "4. CPU", [[
A sieve of primes (integers) and a matrix multiply (floating point): pure
computation. Hardware virtualization runs guest code directly on the CPU;
a container *is* a host process; emulation translates every instruction.]],
function(lab)
  chart(lab, "cpu.int", "Sieve (integers)", "Mops/s")
  chart(lab, "cpu.fp", "Matrix multiply (floating point)", "MFLOP/s")
end)

steps[#steps + 1] = vlab.question {
  id = "q-cpu",
  prompt = "What percentage of the host's sieve speed did the container reach? (within 10%)",
  unit = "%",
  expected = function(m)
    local r = ratio(m, "perf.container.cpu.int", "perf.host.cpu.int")
    return r and 100 * r
  end,
  tolerance = "10%",
  points = 1,
}

steps[#steps + 1] = reading(METRICS[5], "5. Memory throughput", [[
STREAM's triad (a[i] = b[i] + q * c[i]) over arrays larger than the CPU's
caches: what the memory system sustains. Once a page is mapped, guest
memory is host memory.]], function(lab)
  chart(lab, "mem.triad", "STREAM triad", "MB/s")
end)

steps[#steps + 1] = reading(METRICS[6], "6. Disk I/O", [[
Sequential writes with a final fsync, then reading back: the VM through its
virtio disk, the container through its overlay layer on the host's file
system, the unikernel through its block hypercalls, the host directly.

Look at *where* each one writes before you believe a figure: the VM's and
the unikernel's disks are image files and the container's layer a folder,
all in vlab's runtime folder, which is often in memory (tmpfs). A figure
far above what a real disk does measures the path from the application to
memory, and that path is exactly what differs between the technologies.]],
function(lab)
  chart(lab, "disk.write", "Disk: write + fsync", "MB/s")
  chart(lab, "disk.read", "Disk: read back", "MB/s")
end)

steps[#steps + 1] = vlab.question {
  id = "q-disk",
  prompt = "How many times faster than the VM did the container write its disk? (within 10%)",
  expected = function(m) return ratio(m, "perf.container.disk.write", "perf.vm.disk.write") end,
  tolerance = "10%",
  points = 1,
}

steps[#steps + 1] = reading(METRICS[7], "7. Network latency and transactions", [[
A UDP echo: one datagram in flight, from the lab network's host side to the
guest and back, a couple of hundred times. The round trip (median) is the
*latency*; the requests answered per second are the *transactions*. The
host's agent answers over loopback, with no virtual network in the way.]],
function(lab)
  chart(lab, "net.rtt", "UDP round trip (median)", "us")
  chart(lab, "net.tps", "Request/response transactions", "tx/s")
end)

steps[#steps + 1] = vlab.question {
  id = "q-net",
  prompt = "What was the unikernel's median UDP round trip in your run, in microseconds? (within 10%)",
  unit = "us",
  expected = function(m) return m["perf.unikernel.net.rtt"] end,
  tolerance = "10%",
  points = 1,
}

steps[#steps + 1] = vlab.step {
  id = "choose",
  title = "Your predictions, and how to choose",
  text = [[
The slides' summary: lightweight technologies offer shorter startup, tiny
images, less memory and denser deployment; containers add almost no
overhead but share the host's kernel (versatility and ease against
security); hypervisors keep improving; the network is delicate for all.
Here are your seven predictions against your seven measurements.]],
  run = function(lab)
    local right, made = 0, 0
    for _, m in ipairs(METRICS) do
      local w = winner(lab, m.key, LOWER[m.key])
      local p = predicted(m.id)
      made = made + (p and 1 or 0)
      local ok = p and w and index_of(w) == p
      right = right + (ok and 1 or 0)
      vlab.print(("%-10s predicted %-20s best %-20s %s"):format(m.id, p and CHOICES[p] or "-",
        w and NAMES[w] or "(not measured)", ok and "ok" or ""))
    end
    vlab.record("predictions.right", right, "")
    vlab.print(("%d of your %d predictions matched the measurements."):format(right, made))
  end,
  check = function()
    local missing = {}
    for _, m in ipairs(METRICS) do
      if not predicted(m.id) then missing[#missing + 1] = "predict-" .. m.id end
    end
    if #missing > 0 then return false, "make your predictions first: " .. table.concat(missing, ", ") end
    return true, "seven predictions compared with seven measurements"
  end,
  points = 2,
}

steps[#steps + 1] = vlab.question {
  id = "q-choose-kernel",
  prompt = "You must run an application that needs a different operating system kernel than the host's. Which technology?",
  choices = { "a container", "a virtual machine", "a unikernel built from the host's kernel" },
  answer = 2,
  explain = "Only a VM brings its own complete kernel; a container shares the host's.",
  points = 1,
}
steps[#steps + 1] = vlab.question {
  id = "q-choose-density",
  prompt = "You run hundreds of copies of one trusted Linux service on each server and deploy often. Which technology?",
  choices = { "containers", "virtual machines", "one VM per copy" },
  answer = 1,
  explain = "Small images, fast starts and little memory per copy, with the usual Linux tools.",
  points = 1,
}
steps[#steps + 1] = vlab.question {
  id = "q-choose-tenants",
  prompt = "Untrusted customers each run their own full Linux system on your servers. Which technology isolates them best?",
  choices = { "containers: they are lighter", "virtual machines: a separate kernel behind a hypervisor",
              "processes with different users" },
  answer = 2,
  explain = "Containers expose the host kernel to every tenant; a hypervisor is a much smaller surface.",
  points = 1,
}
steps[#steps + 1] = vlab.question {
  id = "q-choose-function",
  prompt = "A single-purpose network function must boot in milliseconds, with the smallest attack surface, and needs no shell. Which technology fits best?",
  choices = { "a unikernel", "a full VM", "a container with a complete distribution" },
  answer = 1,
  points = 1,
}

return vlab.lab {
  id = "06-performance",
  title = "The performance comparison",
  version = "1",
  engines = ENGINES,
  timeout = 120,
  intro = [[
# The performance comparison

The slides name the metrics to compare virtualization technologies by:
instance **startup time**, **image size**, memory **footprint**, **CPU**,
**memory** throughput, **disk** I/O, **network** latency and transactions.

First you predict, for each metric, which of the three technologies will do
best. Then vlab measures all of them on a VM, a container and a unikernel,
beside the host itself (the baseline), with the same probe agent and the
same workloads in each. Then you read the results, one metric at a time,
and end with the course's question: how to choose the most suited
technology.

If this host runs its VM *emulated*, the VM's figures show what software
emulation costs, not what a hardware-assisted hypervisor would give: the
charts mark them.]],
  steps = steps,
}
