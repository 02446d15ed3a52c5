-- labs/05-unikernels.lua: a single application linked with its OS.
--
-- The student predicts, then measures what a unikernel is made of: its
-- image against the container's and the same agent as a Linux program, its
-- boot phase by phase, the memory it costs the host (only what the guest
-- touches), and what is missing (no processes, no shell: a dozen
-- hypercalls are its whole interface), and why that is the point.  At the
-- end the predictions are compared with the measurements.

local KiB, MiB = 1024, 1024 * 1024

local function need(engine)
  local ok, why = vlab.available(engine)
  if not ok then vlab.skip(why) end
end

-- lab[key] as an instance of engine, started.
local function up(lab, key, engine, opts)
  need(engine)
  if not lab[key] then
    local inst, err = vlab[engine](opts)
    if not inst then vlab.skip(err) end
    lab[key] = inst
  end
  if lab[key]:state() ~= "running" then assert(lab[key]:start()) end
  return lab[key]
end

-- An attribute the engine may publish shortly after READY.
local function image_bytes(inst)
  for _ = 1, 20 do
    local b = inst:stats().image_bytes
    if b then return b end
    vlab.sleep(0.1)
  end
  return nil
end

-- The range of a ratio, as the prediction's choices put it.
local function size_range(ratio)
  if ratio < 1 then return 1 elseif ratio < 10 then return 2 elseif ratio < 100 then return 3 end
  return 4
end

local function time_range(ms)
  if ms < 10 then return 1 elseif ms < 100 then return 2 elseif ms < 1000 then return 3 end
  return 4
end

-- The number of the choice the student gave (as its number or its text).
local function choice_index(choices, answer)
  if not answer then return nil end
  local n = tonumber(answer)
  if n then return choices[n] and n or nil end
  local want = answer:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  for i, c in ipairs(choices) do
    if c:lower() == want then return i end
  end
  return nil
end

local SIZE_CHOICES = {
  "larger than the container's",
  "1 to 10 times smaller",
  "10 to 100 times smaller",
  "more than 100 times smaller",
}
local TIME_CHOICES = { "under 10 ms", "10 to 100 ms", "0.1 to 1 s", "more than 1 s" }

return vlab.lab {
  id = "05-unikernels",
  title = "Unikernels: one application, its own tiny OS",
  version = "1",
  engines = { "unikernel", "container", "host" },
  timeout = 120,
  intro = [[
# Unikernels

A **unikernel** is one application compiled together with a *library
operating system*: only the OS code the application calls (here: boot
code, a memory allocator, a clock, a block driver, a small network stack)
ends up in one program, which a hypervisor runs as a virtual machine. No
general-purpose kernel, no shell, no other processes.

vlab's unikernel is the same probe agent the other engines run, linked
with vlab's library OS, on vlab's own monitor on KVM. First you predict;
then you measure; at the end you compare.]],

  steps = {
    vlab.question {
      id = "predict-size",
      prompt = [[
Predict: the container's image is busybox plus the agent. The unikernel's
image is the agent plus its whole OS. Compared with the container's image,
the unikernel's is...]],
      choices = SIZE_CHOICES,
      answer = { 1, 2, 3, 4 },
      explain = "Any answer is fine: it is your prediction. The last step compares it "
        .. "with your measurement.",
      points = 0,
    },
    vlab.question {
      id = "predict-boot",
      prompt = "Predict: how long will the unikernel take from create to READY?",
      choices = TIME_CHOICES,
      answer = { 1, 2, 3, 4 },
      explain = "Any answer is fine: the last step compares it with your measurement.",
      points = 0,
    },

    vlab.step {
      id = "image",
      title = "The image: everything there is to ship",
      text = [[
Start a unikernel, a container and the agent as a plain host program, and
compare what each one needs on disk: the unikernel's ELF file, the
container's root file system, the agent's own Linux binary.]],
      run = function(lab)
        local uk = up(lab, "uk", "unikernel", { name = "uk" })
        local ct = up(lab, "ct", "container", { name = "ct" })
        local host = up(lab, "host", "host", { name = "host" })
        local sizes = { uk = image_bytes(uk), ct = image_bytes(ct), host = image_bytes(host) }
        for k, v in pairs(sizes) do
          if not v then error(k .. " published no image size") end
        end
        vlab.record("image.uk", sizes.uk / KiB, "KiB")
        vlab.record("image.ct", sizes.ct / KiB, "KiB")
        vlab.record("image.host", sizes.host / KiB, "KiB")
        vlab.print(("unikernel ELF %.0f KiB; container root file system %.0f KiB; the agent as a "
          .. "Linux program %.0f KiB."):format(sizes.uk / KiB, sizes.ct / KiB, sizes.host / KiB))
        vlab.print("The Linux program carries a general C library (musl); the unikernel only the "
          .. "pieces of its OS the agent calls.")
        vlab.compare { instances = { uk, ct, host }, metric = "image_size", title = "Image to ship" }
      end,
      check = function()
        local m = vlab.measurements()
        if not m["image.uk"] then return false, "run this step first" end
        return m["image.uk"] < m["image.ct"],
          ("%.0f KiB against the container's %.0f KiB"):format(m["image.uk"], m["image.ct"])
      end,
      points = 2,
    },

    vlab.question {
      id = "q-image-ratio",
      prompt = "How many times smaller than the container's image is your unikernel's? (within 5%)",
      expected = function(m) return m["image.uk"] and m["image.ct"] / m["image.uk"] end,
      tolerance = "5%",
      points = 1,
    },

    vlab.step {
      id = "boot",
      title = "Booting, phase by phase",
      text = [[
vlab times the unikernel's start in phases:

- *spawn*: vlab starts the monitor process;
- *kvm*: the monitor creates the virtual machine and its one vCPU;
- *load*: it loads the ELF and builds the guest's page tables;
- *first-insn*: the guest runs its first instruction;
- *ready*: the agent says READY: the guest's whole boot.

Compare with the container's start.]],
      run = function(lab)
        local uk = up(lab, "uk", "unikernel", { name = "uk" })
        local ct = up(lab, "ct", "container", { name = "ct" })
        local s = uk:stats()
        local prev, bars = 0, {}
        for _, p in ipairs(s.phases) do
          vlab.print(("  %-11s %7.3f ms  (at %.3f ms)"):format(p.name, p.ms - prev, p.ms))
          bars[#bars + 1] = { label = p.name, value = p.ms - prev }
          vlab.record("boot.uk." .. p.name, p.ms - prev, "ms")
          prev = p.ms
        end
        vlab.print(("  %-11s %7.3f ms  (READY at %.3f ms)"):format("ready", s.startup_ms - prev,
          s.startup_ms))
        bars[#bars + 1] = { label = "ready", value = s.startup_ms - prev }
        vlab.record("boot.uk.ready", s.startup_ms - prev, "ms")
        vlab.record("boot.uk", s.startup_ms, "ms")
        vlab.record("boot.ct", ct:stats().startup_ms, "ms")
        vlab.chart { title = "Unikernel start, by phase", unit = "ms", lower_is_better = true,
                     bars = bars }
        vlab.print(("The container started in %.1f ms."):format(ct:stats().startup_ms))
      end,
      check = function()
        local m = vlab.measurements()
        return m["boot.uk"] ~= nil and m["boot.uk.ready"] ~= nil,
          m["boot.uk"] and ("ready after %.2f ms"):format(m["boot.uk"]) or "run this step first"
      end,
      points = 1,
    },

    vlab.question {
      id = "q-guest-boot",
      prompt = [[
How many milliseconds did your unikernel's own boot take, from its first
instruction to READY (the *ready* phase)? (within 10%)]],
      unit = "ms",
      expected = function(m) return m["boot.uk.ready"] end,
      tolerance = "10%",
      points = 1,
    },

    vlab.step {
      id = "memory",
      title = "Memory: only what the guest touches",
      text = [[
The unikernel was given 256 MiB of guest memory. What does it cost the
host? Measure its footprint (the memory of the monitor process, PSS), then
let the agent run STREAM over three 16 MiB arrays and measure again.

Then try a unikernel with only 8 MiB: its memory is fixed when it boots.]],
      run = function(lab)
        local uk = up(lab, "uk", "unikernel", { name = "uk" })
        local before = assert(uk:footprint()).bytes
        assert(uk:run("mem", { size = "16M", reps = 1 }))
        local after = assert(uk:footprint()).bytes
        vlab.record("uk.fp.before", before / MiB, "MiB")
        vlab.record("uk.fp.after", after / MiB, "MiB")
        vlab.print(("Footprint at READY: %.2f MiB of the 256 MiB it was given; after STREAM: %.1f MiB."):format(
          before / MiB, after / MiB))
        local small = up(lab, "small", "unikernel", { name = "small", memory = "8M" })
        local r, err = small:run("mem", { size = "16M", reps = 1 })
        lab.small_refused = r == nil
        vlab.print("The same STREAM in an 8 MiB unikernel: " .. (r and "ran" or err))
      end,
      check = function(lab)
        local m = vlab.measurements()
        if not m["uk.fp.after"] then return false, "run this step first" end
        local grew = m["uk.fp.after"] - m["uk.fp.before"]
        return m["uk.fp.before"] < 16 and grew > 40 and lab.small_refused ~= false,
          ("%.2f MiB at rest, %.1f MiB more once 48 MiB of arrays were touched"):format(
            m["uk.fp.before"], grew)
      end,
      points = 2,
      hints = { "Guest memory is host memory mapped into the VM: a page costs only once written." },
    },

    vlab.question {
      id = "q-mem-growth",
      prompt = "By how many MiB did your unikernel's footprint grow during STREAM? (within 10%)",
      unit = "MiB",
      expected = function(m) return m["uk.fp.after"] and m["uk.fp.after"] - m["uk.fp.before"] end,
      tolerance = "10%",
      points = 1,
    },

    vlab.step {
      id = "missing",
      title = "What is missing, on purpose",
      text = [[
Ask the unikernel to run a shell command, as you can in the container; ask
both who they are. Then count the *hypercalls*: the calls from the guest to
its monitor (console, clock, poll, block, network, control, exit). They
are this guest's whole interface to the world, where a Linux kernel offers
its programs more than 300 system calls.]],
      run = function(lab)
        local uk = up(lab, "uk", "unikernel", { name = "uk" })
        local ct = up(lab, "ct", "container", { name = "ct" })
        local r, err = uk:exec("ls /")
        lab.exec_refused = r == nil and err:find("unsupported", 1, true) ~= nil
        vlab.print("exec in the unikernel: " .. (r and "it ran!" or err))
        local ps = assert(ct:exec("ps -o pid,comm")).stdout
        vlab.print("processes in the container:\n" .. ps)
        local info = assert(uk:run("sysinfo"))
        lab.uk_pid = info.pid
        vlab.print(("The unikernel: kernel '%s', agent pid %d (no processes), %d CPU."):format(
          info.kernel, info.pid, info.cpus_count))
        local names = {}
        for name in pairs(uk:stats().counters) do
          local hc = name:match("^hc%.(.+)$")
          if hc then names[#names + 1] = hc end
        end
        table.sort(names)
        vlab.record("uk.hypercalls", #names, "")
        vlab.print(("%d hypercalls: %s"):format(#names, table.concat(names, ", ")))
      end,
      check = function(lab)
        if lab.exec_refused == nil then return false, "run this step first" end
        return lab.exec_refused and lab.uk_pid == 0,
          "no processes, no shell: exec is refused and the agent has no pid"
      end,
      points = 2,
    },

    vlab.question {
      id = "q-refused",
      prompt = "Which request of the agent does the unikernel refuse? (one word)",
      accept = { "exec" },
      hints = { "It is the one that runs a shell command." },
      points = 1,
    },
    vlab.question {
      id = "q-hypercalls",
      prompt = "How many different hypercalls make up your unikernel's whole interface?",
      expected = function(m) return m["uk.hypercalls"] end,
      tolerance = 0,
      points = 1,
    },
    vlab.question {
      id = "q-why",
      prompt = "Why is having no shell, no processes and no general-purpose kernel the point?",
      choices = {
        "it makes the application easier to debug",
        "less code: a smaller image, a faster boot and a smaller attack surface, "
          .. "with only what the one application needs",
        "so that many applications can share one unikernel",
        "because hypervisors cannot run a full kernel",
      },
      answer = 2,
      points = 1,
    },
    vlab.question {
      id = "q-update",
      prompt = "You fix a bug in the application. What do you ship?",
      choices = {
        "the new application binary only",
        "a patch for the monitor",
        "a whole new image: the application and its OS are one program, rebuilt together",
        "a new container layer",
      },
      answer = 3,
      points = 1,
    },

    vlab.step {
      id = "predictions",
      title = "Your predictions against the measurements",
      text = "Compare what you predicted at the start with what you measured.",
      run = function()
        local m = vlab.measurements()
        if not m["image.uk"] or not m["boot.uk"] then
          error("measure the image and the boot first (their steps)")
        end
        local rows = {
          { "image size", "predict-size", SIZE_CHOICES, size_range(m["image.ct"] / m["image.uk"]),
            ("%.0fx smaller"):format(m["image.ct"] / m["image.uk"]) },
          { "boot time", "predict-boot", TIME_CHOICES, time_range(m["boot.uk"]),
            ("%.2f ms"):format(m["boot.uk"]) },
        }
        for _, row in ipairs(rows) do
          local said = choice_index(row[3], vlab.answer(row[2]))
          vlab.print(("%-10s you predicted: %-28s measured: %s (%s)  %s"):format(row[1],
            said and row[3][said] or "(no prediction)", row[3][row[4]], row[5],
            said == row[4] and "right" or said and "not this time" or ""))
        end
      end,
      check = function()
        local missing = {}
        for _, id in ipairs { "predict-size", "predict-boot" } do
          if not vlab.answer(id) then missing[#missing + 1] = id end
        end
        if #missing > 0 then
          return false, "answer your predictions first: " .. table.concat(missing, ", ")
        end
        return true, "predictions compared"
      end,
      points = 1,
    },
  },
}
