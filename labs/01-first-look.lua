-- labs/01-first-look.lua: a first look at the three engines.
--
-- The student starts the same probe agent four ways (a plain host process,
-- a container, a unikernel, a virtual machine), sees what each one is, and
-- compares startup time and image size side by side.  Engines this host
-- cannot run are skipped with the doctor's reason: nothing is faked.

-- Starts one instance of an engine for a step; skips the step (with the
-- reason) when this host cannot run the engine.
local function bring_up(lab, engine, opts, timeout)
  local ok, why = vlab.available(engine)
  if not ok then vlab.skip(why) end
  local inst = lab[engine]
  if not inst then
    local err
    inst, err = vlab[engine](opts)
    if not inst then vlab.skip(err) end
    lab[engine] = inst
  end
  if inst:state() ~= "running" then
    assert(inst:start(timeout))
  end
  local s = inst:stats()
  vlab.record("startup." .. engine, s.startup_ms, "ms")
  if s.image_bytes then
    vlab.record("image." .. engine, s.image_bytes / 1048576, "MiB")
  end
  return inst, s
end

local function describe(inst, s)
  local info = assert(inst:run("sysinfo"))
  vlab.print(("%s is running (%s%s): ready %.1f ms after it was created."):format(
    s.name, s.backend, s.emulated and ", emulated" or "", s.startup_ms))
  vlab.print(("Inside, the agent sees: platform %s, kernel %s, %d CPU(s), %.0f MiB of memory."):format(
    info.platform, info.kernel or "-", info.cpus_count or 0,
    (info.mem_total_bytes or 0) / 1048576))
  if s.image_bytes then
    vlab.print(("Image to ship: %.2f MiB."):format(s.image_bytes / 1048576))
  end
  return info
end

return vlab.lab {
  id = "01-first-look",
  title = "A first look at the three engines",
  version = "1",
  engines = { "host", "container", "unikernel", "vm" },
  timeout = 240,
  intro = [[
# A first look at the three engines

You will start the same small program, the *probe agent*, four times: as an
ordinary process on this computer (the **host baseline**), inside a
**container**, as a **unikernel**, and inside a **virtual machine**. Each
time you will see how long it takes to be ready and how big the thing is
that you would have to ship. At the end you compare them side by side and
answer a few questions from what *you* measured.]],

  steps = {
    vlab.step {
      id = "host",
      title = "The host baseline",
      text = [[
The probe agent runs here as a plain process: no isolation, no second
kernel. Every other figure is compared with this one.

Press *r* to start it.]],
      run = function(lab)
        local h, s = bring_up(lab, "host", { name = "host" })
        lab.host_info = describe(h, s)
      end,
      check = function(lab)
        local info = lab.host_info
        return info ~= nil and info.platform == "linux",
          "the host agent answered sysinfo"
      end,
      points = 1,
    },

    vlab.step {
      id = "container",
      title = "A container: the host's kernel, fenced in",
      text = [[
A container is an ordinary process that the kernel fences in with
*namespaces* (what it can see) and *cgroups* (what it can use). Its files
come from a small image: busybox and the agent.

Run it, and compare the kernel the container reports with the host's.]],
      run = function(lab)
        local ct, s = bring_up(lab, "container", { name = "ct", hostname = "ct" })
        lab.ct_info = describe(ct, s)
      end,
      check = function(lab)
        local a, b = lab.ct_info, lab.host_info
        if not (a and b) then return false, "run the host step and this one first" end
        return a.kernel == b.kernel and a.kernel_version == b.kernel_version,
          "the container reports the host's kernel: " .. tostring(a.kernel)
      end,
      points = 2,
      hints = {
        "Compare the kernel version printed for the host with the container's.",
        "A container is not a machine: there is only one kernel here.",
      },
    },

    vlab.step {
      id = "unikernel",
      title = "A unikernel: one program, its own tiny OS",
      text = [[
A unikernel links the application with just enough operating system to run
it (here: a few thousand lines) and runs it directly on the hypervisor: no
Linux inside, no processes, no shell. vlab's monitor starts it on KVM.

Run it and look at its image size, and at the *hypercalls*: the only way
it talks to the outside world.]],
      run = function(lab)
        local uk, s = bring_up(lab, "unikernel", { name = "uk" })
        lab.uk_info = describe(uk, s)
        local calls = {}
        for name, n in pairs(s.counters) do
          if name:sub(1, 3) == "hc." and n > 0 then calls[#calls + 1] = name .. " " .. n end
        end
        table.sort(calls)
        vlab.print("Hypercalls so far: " .. (#calls > 0 and table.concat(calls, ", ") or "none"))
      end,
      check = function(lab)
        local info = lab.uk_info
        return info ~= nil and info.platform == "unikernel", "the unikernel answered sysinfo"
      end,
      points = 2,
    },

    vlab.step {
      id = "vm",
      title = "A virtual machine: a whole Linux of its own",
      text = [[
A virtual machine runs a complete guest kernel on virtual hardware. Where
the CPU offers hardware virtualization, vlab's own VMM runs it on KVM;
where it does not, the guest runs under software emulation (QEMU TCG) and
every figure says *emulated*: without hardware help, the hypervisor must
emulate, and you will see what it costs.

This one takes a while to boot. Watch its console.]],
      timeout = 300,
      run = function(lab)
        local vm, s = bring_up(lab, "vm", { name = "vm", memory = "256M" }, 240)
        lab.vm_info = describe(vm, s)
      end,
      check = function(lab)
        local info = lab.vm_info
        return info ~= nil and info.platform == "linux", "the VM's agent answered sysinfo"
      end,
      points = 2,
      hints = { "A slow start is expected when the VM is emulated: look for 'emulated'." },
    },

    vlab.step {
      id = "compare",
      title = "Side by side",
      text = [[
Now the same figures for all of them at once: the time from "create" to
the agent's READY, and the size of the image you would ship.]],
      run = function(lab)
        local all = {}
        for _, e in ipairs { "host", "container", "unikernel", "vm" } do
          if lab[e] and lab[e]:state() == "running" then all[#all + 1] = lab[e] end
        end
        if #all < 2 then vlab.skip("fewer than two engines ran on this host") end
        vlab.compare { instances = all, metric = "startup",
                       title = "Startup of your instances (one start each)" }
        -- One start is one sample: the metrics layer starts the quick ones
        -- five more times each, for a median with its spread.
        local quick = {}
        for _, e in ipairs { "host", "container", "unikernel" } do
          if vlab.available(e) then quick[#quick + 1] = e end
        end
        if #quick > 0 then
          vlab.bench { engines = quick, metrics = { "startup" }, runs = 5 }
        end
        local shipped = {}
        for _, i in ipairs(all) do
          if i:stats().image_bytes then shipped[#shipped + 1] = i end
        end
        if #shipped > 0 then
          vlab.compare { instances = shipped, metric = "image_size", title = "Image to ship" }
        end
        vlab.compare { instances = all, workload = "cpu", args = { size = 200000 },
                       key = "int_ops_per_s", runs = 3, unit = "ops/s",
                       title = "Integer work (sieve), higher is better", lower_is_better = false }
      end,
      points = 0,
    },

    vlab.question {
      id = "q-kernel",
      prompt = "Which of them runs on the host's own kernel?",
      choices = { "the virtual machine", "the container", "the unikernel", "all three" },
      answer = 2,
      explain = "A container is a fenced-in host process: one kernel for all.",
      points = 1,
    },
    vlab.question {
      id = "q-startup",
      prompt = "How many milliseconds did YOUR container take from create to READY? "
        .. "(the figure vlab printed; within 25%)",
      unit = "ms",
      expected = function(m) return m["startup.container"] end,
      tolerance = "25%",
      points = 1,
    },
    vlab.question {
      id = "q-smallest",
      prompt = "Which image is the smallest to ship?",
      choices = { "the VM's kernel and initramfs", "the container's root file system",
                  "the unikernel's ELF file" },
      answer = 3,
      points = 1,
    },
    vlab.question {
      id = "q-ratio",
      prompt = "How many times larger is the VM image than the unikernel image? (within 10%)",
      expected = function(m)
        local vm, uk = m["image.vm"], m["image.unikernel"]
        return vm and uk and uk > 0 and vm / uk or nil
      end,
      tolerance = "10%",
      points = 1,
    },
    vlab.question {
      id = "q-vm-kernel",
      prompt = "What kind of kernel runs inside the VM? (one word)",
      accept = { "linux", "a linux kernel", "the linux kernel" },
      points = 1,
      hints = { "Look at the platform the VM's agent reported." },
    },
  },
}
