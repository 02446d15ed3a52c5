# mk/vm.mk: the VM engine (engines/vm/): the tcg backend needs QEMU.
DEBS_TEST += qemu-system-x86
