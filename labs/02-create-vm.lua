-- labs/02-create-vm.lua: the course's VirtualBox hands-on, with vlab.
--
-- The student makes the choices the VirtualBox wizard asks for (memory,
-- virtual CPUs, a disk dynamically allocated or of fixed size, PAE/NX),
-- boots two machines, sees each choice from inside the guest and from the
-- host (the sparse disk file growing while the guest writes), and logs in
-- on a console.  On a host without hardware-assisted KVM the machines run
-- under QEMU's emulator: every step prints it and the figures are marked
-- emulated.  Every expected value comes from the student's own machines.

local MiB = 1024 * 1024

-- The two machines of the lab: the wizard's choices, one table each.
local CHOICES = {
  vm1 = { memory = "192M", cpus = 1, disk_size = "64M", disk_alloc = "dynamic", nx = true },
  vm2 = { memory = "128M", cpus = 2, disk_size = "32M", disk_alloc = "fixed", nx = false },
}

-- The machine called name, created and booted on first use; the step is
-- skipped (with the doctor's reason) where this host cannot run a VM.
local function machine(lab, name)
  local ok, why = vlab.available("vm")
  if not ok then vlab.skip(why) end
  lab.vms = lab.vms or {}
  local vm = lab.vms[name]
  if not vm then
    local opts = { name = name }
    for k, v in pairs(CHOICES[name]) do opts[k] = v end
    local err
    vm, err = vlab.vm(opts)
    if not vm then vlab.skip(err) end
    lab.vms[name] = vm
  end
  if vm:state() ~= "running" then
    assert(vm:start(240))
  end
  return vm
end

local function sh(vm, cmd)
  local r = assert(vm:exec(cmd, 60))
  return (r.stdout:gsub("%s+$", "")), r
end

local function has_flag(flags, name)
  return ("," .. (flags or "") .. ","):find("," .. name .. ",", 1, true) ~= nil
end

local SIZES = { ["32M"] = 32 * MiB, ["64M"] = 64 * MiB }

-- The host's view of the disk image: apparent size, bytes allocated (live),
-- and the file's path when the engine says it.
local function disk_usage(vm)
  local s = vm:stats()
  local alloc = s.counters["disk.alloc_bytes"] or tonumber(s.attrs.disk_alloc_bytes or "")
  local size = tonumber(s.attrs.disk_bytes or "") or SIZES[CHOICES[vm:name()].disk_size]
  return size, alloc, s.attrs.disk
end

-- The allocation once it has moved past from (the counter is refreshed a
-- few times a second), or its last value after two seconds.
local function alloc_after(vm, from)
  local alloc
  for _ = 1, 20 do
    local _, a = disk_usage(vm)
    alloc = a
    if a and from and a > from then
      vlab.sleep(0.3) -- one more refresh: the last blocks of the write
      local _, b = disk_usage(vm)
      return b
    end
    vlab.sleep(0.1)
  end
  return alloc
end

local function mib(bytes) return bytes / MiB end

local function emulated_note(vm)
  local s = vm:stats()
  if s.emulated then
    return ("%s is EMULATED here (backend %s): %s"):format(vm:name(), s.backend,
      s.attrs.backend_reason or "this host's KVM cannot run a guest kernel at native speed")
  end
  return ("%s runs on %s: hardware-assisted virtualization"):format(vm:name(), s.backend)
end

-- Waits until the console's recent output matches pattern (or seconds pass).
local function console_wait(vm, pattern, seconds)
  for _ = 1, seconds * 5 do
    local tail = vm:console()
    if tail:find(pattern) then return tail end
    vlab.sleep(0.2)
  end
  return nil
end

return vlab.lab {
  id = "02-create-vm",
  title = "Create a virtual machine",
  version = "1",
  engines = { "vm", "host" },
  timeout = 300,
  intro = [[
# Create a virtual machine

In the course's hands-on you created an Ubuntu VM with the VirtualBox
wizard. Here you make the same choices with vlab, and then *look* at each
one: from inside the guest, and from the host.

- **Name, type**: the `name` option (the guest is always 64-bit Linux here).
- **Memory size** (VirtualBox: 2048 MB): `memory`.
- **Processors** (Settings, System): `cpus`.
- **Hard disk**, *Dynamically allocated* or *Fixed size*, and its maximum
  size: `disk_size` and `disk_alloc`.
- **Enable PAE/NX** (Settings, System, Processor): `pae` and `nx`.

There is no installer to click through: the guest's kernel and its small
root file system (busybox and vlab's probe agent) are ready-made, as a cloud
image is. Booting takes a few seconds with hardware-assisted KVM; on a host
without it the machine is *emulated* by QEMU and takes longer: vlab says
which one you got.]],

  steps = {
    vlab.question {
      id = "predict-memory",
      prompt = [[
Before you boot: your first VM gets 192 MiB of memory. How much memory will
the guest's own kernel report as its total (MemTotal)?]],
      choices = {
        "exactly 192 MiB",
        "a little less than 192 MiB",
        "more than 192 MiB: it can borrow from the host",
        "as much as the host has",
      },
      answer = 2,
      explain = "The kernel keeps its own code and data, and the firmware's reserved "
        .. "areas, out of MemTotal.",
      points = 1,
    },

    vlab.step {
      id = "boot",
      title = "Choose the hardware and boot",
      text = [[
Your first machine, *vm1*, is what the wizard would call:

- memory 192 MiB, 1 processor;
- a 64 MiB hard disk, **dynamically allocated**;
- PAE/NX **enabled**.

Press *r* to create and boot it. Watch its console tab: first the kernel's
messages, then a login prompt. The lab's log says whether this machine is
hardware-assisted or emulated on this host.]],
      timeout = 300,
      run = function(lab)
        local vm = machine(lab, "vm1")
        local s = vm:stats()
        vlab.print(emulated_note(vm))
        vlab.print(("vm1 was ready %.1f s after it was created."):format(s.startup_ms / 1000))
        vlab.record("vm1.startup", s.startup_ms, "ms")
      end,
      check = function(lab)
        local vm = lab.vms and lab.vms.vm1
        if not vm then return false, "boot vm1 first (press r)" end
        local info = vm:run("sysinfo")
        return info ~= nil and info.platform == "linux",
          info and ("vm1 is up: %s"):format(info.kernel) or "vm1's agent does not answer"
      end,
      points = 2,
      hints = { "An emulated machine can take half a minute to boot: be patient." },
    },

    vlab.step {
      id = "memory",
      title = "Memory: what the guest sees",
      text = [[
Ask the guest how much memory it has, the way *free* does: from the kernel's
MemTotal. Compare it with the 192 MiB you gave the machine.]],
      run = function(lab)
        local vm = machine(lab, "vm1")
        local info = assert(vm:run("sysinfo"))
        local given = 192
        local seen = mib(info.mem_total_bytes)
        vlab.record("vm1.mem_given", given, "MiB")
        vlab.record("vm1.mem_seen", seen, "MiB")
        vlab.print(("You gave vm1 %d MiB; its kernel reports %.1f MiB (MemTotal)."):format(given, seen))
        vlab.print("Inside the guest, `free -m` says:")
        vlab.print((sh(vm, "free -m")))
      end,
      check = function(lab)
        local m = vlab.measurements()
        local given, seen = m["vm1.mem_given"], m["vm1.mem_seen"]
        if not seen then return false, "run this step first" end
        return seen <= given and seen > 0.7 * given,
          ("%.1f of %d MiB are the guest's to manage"):format(seen, given)
      end,
      points = 1,
    },

    vlab.question {
      id = "q-memory-missing",
      prompt = [[
From your measurement: how many MiB of the 192 MiB does vm1's kernel *not*
report in MemTotal? (within 2 MiB)]],
      unit = "MiB",
      expected = function(m)
        return m["vm1.mem_given"] and m["vm1.mem_seen"] and m["vm1.mem_given"] - m["vm1.mem_seen"]
      end,
      tolerance = 2,
      hints = { "Subtract what the kernel reports from what you gave the machine." },
      points = 1,
    },

    vlab.step {
      id = "cpus",
      title = "Virtual CPUs",
      text = [[
The slides suggest 2 virtual CPUs only when the host has 4 cores or more: a
vCPU is a thread on the host, and the guest cannot use more CPU than the
host has. vm1 has one. Compare the CPUs the guest sees with the host's.]],
      run = function(lab)
        local vm = machine(lab, "vm1")
        lab.host = lab.host or assert(vlab.host { name = "host" })
        if lab.host:state() ~= "running" then assert(lab.host:start()) end
        local inside = assert(vm:run("sysinfo")).cpus_count
        local host = assert(lab.host:run("sysinfo")).cpus_count
        vlab.record("vm1.cpus", inside, "")
        vlab.record("host.cpus", host, "")
        vlab.print(("The host has %d CPUs; vm1's guest sees %d."):format(host, inside))
        vlab.print("Inside: " .. sh(vm, "grep -c ^processor /proc/cpuinfo") .. " processor(s) in /proc/cpuinfo")
      end,
      check = function()
        local m = vlab.measurements()
        if not m["vm1.cpus"] then return false, "run this step first" end
        return m["vm1.cpus"] == 1, ("the guest sees %d CPU"):format(m["vm1.cpus"])
      end,
      points = 1,
    },

    vlab.question {
      id = "predict-sparse",
      prompt = [[
vm1's 64 MiB disk is *dynamically allocated*: a file on the host. Right
after boot, before the guest writes to it, how much space does that file
take on the host's disk?]],
      choices = { "64 MiB", "almost nothing", "half of it, 32 MiB", "as much as the guest's memory" },
      answer = 2,
      explain = "A dynamically allocated disk is a sparse file: blocks are given to it "
        .. "only where the guest writes.",
      points = 1,
    },

    vlab.step {
      id = "dynamic-disk",
      title = "A dynamically allocated disk grows",
      text = [[
Now the guest writes 16 MiB to its disk (`/dev/vda`), in four pieces of
4 MiB. After each piece, vlab asks the host how many bytes the disk file
really takes (what `du` shows) next to its size (what `ls -l` shows).]],
      timeout = 180,
      run = function(lab)
        local vm = machine(lab, "vm1")
        local size, alloc, path = disk_usage(vm)
        if not alloc then return vlab.skip("this vm engine publishes no disk figures") end
        vlab.print(("The disk file %s: size %.0f MiB, allocated %.1f MiB."):format(
          path or "?", mib(size), mib(alloc)))
        vlab.record("vm1.disk_size", mib(size), "MiB")
        vlab.record("vm1.disk_alloc_before", mib(alloc), "MiB")
        for piece = 0, 3 do
          sh(vm, ("dd if=/dev/zero of=/dev/vda bs=1M count=4 seek=%d conv=fsync 2>/dev/null"):format(piece * 4))
          alloc = alloc_after(vm, alloc)
          vlab.print(("  after %2d MiB written: allocated %.1f MiB of %.0f"):format(
            (piece + 1) * 4, mib(alloc), mib(size)))
        end
        local size_after = disk_usage(vm)
        vlab.record("vm1.disk_alloc_after", mib(alloc), "MiB")
        vlab.record("vm1.disk_size_after", mib(size_after), "MiB")
        vlab.print("Try it yourself in another terminal: du -h " .. (path or "<the disk>")
          .. "  and  du -h --apparent-size " .. (path or "<the disk>"))
      end,
      check = function()
        local m = vlab.measurements()
        local before, after = m["vm1.disk_alloc_before"], m["vm1.disk_alloc_after"]
        if not after then return false, "run this step first" end
        local grew = after - before
        return grew >= 15 and grew <= 18 and m["vm1.disk_size_after"] == m["vm1.disk_size"],
          ("the file grew by %.1f MiB; its size stayed %.0f MiB"):format(grew, m["vm1.disk_size"])
      end,
      points = 2,
      hints = { "Compare 'allocated' before and after, not the size: the size never changes." },
    },

    vlab.question {
      id = "q-disk-growth",
      prompt = "By how many MiB did vm1's disk file grow on the host? (your measurement, within 1 MiB)",
      unit = "MiB",
      expected = function(m)
        return m["vm1.disk_alloc_after"] and m["vm1.disk_alloc_after"] - m["vm1.disk_alloc_before"]
      end,
      tolerance = 1,
      points = 1,
    },

    vlab.step {
      id = "pae-nx",
      title = "PAE and NX, seen from inside",
      text = [[
With *Enable PAE/NX* ticked, the virtual CPU tells the guest (through the
CPUID instruction) that it has PAE (*Physical Address Extension*) and NX
(*no-execute* pages). The guest's agent reads CPUID itself; the guest
kernel says at boot whether it could turn NX protection on.

vlab also tries to create a machine with PAE switched *off*.]],
      run = function(lab)
        local vm = machine(lab, "vm1")
        local info = assert(vm:run("sysinfo"))
        lab.vm1_pae, lab.vm1_nx = has_flag(info.cpu_flags, "pae"), has_flag(info.cpu_flags, "nx")
        vlab.print(("CPUID inside vm1: pae %s, nx %s"):format(lab.vm1_pae and "yes" or "no",
          lab.vm1_nx and "yes" or "no"))
        lab.vm1_dmesg = sh(vm, "dmesg | grep -i 'execute disable'")
        vlab.print("The guest kernel at boot: " .. lab.vm1_dmesg)
        local nopae, why = pcall(vlab.vm, { name = "nopae", pae = false })
        lab.pae_refused = not nopae
        vlab.print("A VM with pae = off: " .. (nopae and "accepted" or tostring(why)))
      end,
      check = function(lab)
        if lab.vm1_nx == nil then return false, "run this step first" end
        local active = (lab.vm1_dmesg or ""):find("protection: active", 1, true) ~= nil
        return lab.vm1_pae and lab.vm1_nx and active and lab.pae_refused,
          "vm1 has PAE and NX, its kernel turned NX protection on, and PAE off was refused"
      end,
      points = 2,
    },

    vlab.step {
      id = "console",
      title = "Log in on the console",
      text = [[
The first serial port of the machine is its console, like the window
VirtualBox opens. Log in as **root** (no password).

Focus the console panel (*Tab*), choose vm1's tab, press *i* to type into
it, and try `uname -a`, `free -m`, `cat /proc/cpuinfo`, `df -h`.
Press *r* here and vlab logs in for you if you have not, then runs a
command the check looks for.]],
      timeout = 120,
      run = function(lab)
        local vm = machine(lab, "vm1")
        local prompt = "root@vm1:[^\n]*# "
        if not vm:console():find(prompt) then
          vm:console("\n")
          if not console_wait(vm, "vm1 login:", 60) then
            error("no login prompt on vm1's console after a minute")
          end
          vm:console("root\n")
          if not console_wait(vm, prompt, 60) then error("the login did not give a shell") end
        end
        vm:console("echo console-$((6*7))-ok\n")
        lab.console_ok = console_wait(vm, "console%-42%-ok", 30) ~= nil
        vlab.print(lab.console_ok and "The shell on vm1's console answered."
          or "No answer from the console yet.")
      end,
      check = function(lab)
        local vm = lab.vms and lab.vms.vm1
        if not vm then return false, "boot vm1 first" end
        local tail = vm:console()
        local logged = tail:find("root login on", 1, true) or tail:find("root@vm1:", 1, true)
        return logged ~= nil and tail:find("console-42-ok", 1, true) ~= nil,
          logged and "root is logged in on vm1's console" or "nobody is logged in on vm1's console"
      end,
      points = 1,
      hints = { "In the console panel, i starts typing into the guest; Esc gives the keys back." },
    },

    vlab.question {
      id = "predict-fixed",
      prompt = [[
Your second machine gets a 32 MiB disk of *fixed size*. Before its guest
writes anything, how much space does that file take on the host?]],
      choices = { "almost nothing", "all 32 MiB", "16 MiB", "it depends on the guest's memory" },
      answer = 2,
      explain = "A fixed-size disk reserves every block when it is created.",
      points = 1,
    },

    vlab.step {
      id = "second-vm",
      title = "A second machine: the other choices",
      text = [[
*vm2* is the other branch of each wizard page:

- memory 128 MiB and **2** processors;
- a 32 MiB disk of **fixed size**;
- PAE/NX **disabled** (NX off; PAE must stay on, as you saw).

Press *r* to create and boot it, then compare its disk file with vm1's.]],
      timeout = 300,
      run = function(lab)
        local vm = machine(lab, "vm2")
        vlab.print(emulated_note(vm))
        local size, alloc, path = disk_usage(vm)
        if not alloc then return vlab.skip("this vm engine publishes no disk figures") end
        vlab.record("vm2.disk_size", mib(size), "MiB")
        vlab.record("vm2.disk_alloc", mib(alloc), "MiB")
        vlab.print(("vm2's disk file %s: size %.0f MiB, allocated %.1f MiB before any write."):format(
          path or "?", mib(size), mib(alloc)))
      end,
      check = function()
        local m = vlab.measurements()
        if not m["vm2.disk_alloc"] then return false, "run this step first" end
        return m["vm2.disk_alloc"] >= m["vm2.disk_size"],
          ("%.1f MiB reserved for a %.0f MiB disk"):format(m["vm2.disk_alloc"], m["vm2.disk_size"])
      end,
      points = 2,
    },

    vlab.step {
      id = "nx-off",
      title = "NX off, two CPUs",
      text = [[
Look inside vm2: how many CPUs does it see, does CPUID still report NX, and
what did its kernel say about NX protection at boot?]],
      run = function(lab)
        local vm = machine(lab, "vm2")
        local info = assert(vm:run("sysinfo"))
        lab.vm2_nx = has_flag(info.cpu_flags, "nx")
        lab.vm2_pae = has_flag(info.cpu_flags, "pae")
        vlab.record("vm2.cpus", info.cpus_count, "")
        lab.vm2_dmesg = sh(vm, "dmesg | grep -i 'execute disable'")
        vlab.print(("vm2 sees %d CPUs; CPUID: pae %s, nx %s"):format(info.cpus_count,
          lab.vm2_pae and "yes" or "no", lab.vm2_nx and "yes" or "no"))
        vlab.print("The guest kernel at boot: " .. lab.vm2_dmesg)
      end,
      check = function(lab)
        if lab.vm2_nx == nil then return false, "run this step first" end
        local missing = (lab.vm2_dmesg or ""):find("missing", 1, true) ~= nil
        return not lab.vm2_nx and lab.vm2_pae and missing and vlab.measurements()["vm2.cpus"] == 2,
          "vm2: 2 CPUs, PAE without NX, and its kernel runs without NX protection"
      end,
      points = 2,
    },

    vlab.question {
      id = "q-vcpus",
      prompt = "How many CPUs did vm2's guest report?",
      expected = function(m) return m["vm2.cpus"] end,
      tolerance = 0,
      points = 1,
    },
    vlab.question {
      id = "q-nx",
      prompt = "With NX switched off, what can the guest kernel no longer do?",
      choices = {
        "mark data pages (stack, heap) as not executable, so injected code cannot run there",
        "use more than 4 GiB of memory",
        "run 64-bit programs",
        "use more than one CPU",
      },
      answer = 1,
      points = 1,
    },
    vlab.question {
      id = "q-pae",
      prompt = "Why is PAE off refused for this guest (and greyed out by VirtualBox for 64-bit guests)?",
      choices = {
        "the host's CPU has no PAE",
        "64-bit long mode is built on PAE paging: without PAE there is no 64-bit kernel",
        "PAE makes the guest slower",
        "PAE is only for guests with more than 4 GiB",
      },
      answer = 2,
      points = 1,
    },
    vlab.question {
      id = "q-fixed",
      prompt = "When is a fixed-size disk the better choice?",
      choices = {
        "when the host's disk is nearly full",
        "when you must ship the smallest possible image",
        "when the guest's space must be guaranteed up front, with no allocation as it fills",
        "never: dynamically allocated disks are always better",
      },
      answer = 3,
      points = 1,
    },
    vlab.question {
      id = "q-boot",
      prompt = "How many seconds did vm1 take from create to READY on your machine? (within 10%)",
      unit = "s",
      expected = function(m) return m["vm1.startup"] and m["vm1.startup"] / 1000 end,
      tolerance = "10%",
      points = 1,
    },
  },
}
