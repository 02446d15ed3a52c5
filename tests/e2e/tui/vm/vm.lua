-- tests/e2e/tui/vm/vm.lua: boot the Linux VM (KVM or, where KVM cannot run
-- a kernel, emulated) for tests/e2e/tui/lab.sh: the console tab shows the
-- boot and the login prompt, and takes typing.
return vlab.lab {
  id = "tui-vm",
  title = "Boot a virtual machine",
  steps = {
    vlab.step {
      id = "boot",
      title = "Boot the VM",
      text = "Boot a Linux virtual machine and log in on its console.",
      run = function(lab)
        lab.vm = assert(vlab.vm { name = "vm1" })
        assert(lab.vm:start(300))
      end,
    },
  },
}
