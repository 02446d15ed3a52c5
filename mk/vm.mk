# mk/vm.mk: the VM engine (engines/vm/).
#
# The tcg backend needs QEMU.  The test guest (tests/integration/engines/vm/
# guest/) is a small freestanding program packaged as a bzImage, so the
# VMM boots it through the same Linux boot path as the real kernel.
DEBS_TEST += qemu-system-x86

VMGUEST_SRC := tests/integration/engines/vm/guest
VMGUEST := $(O)/tests/vm-guest/testguest.bzImage
VMGUEST_CFLAGS := -O2 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -nostdlib -static \
	-Wall -Wextra $(WERROR)

$(VMGUEST): $(VMGUEST_SRC)/setup.S $(VMGUEST_SRC)/entry.S $(VMGUEST_SRC)/main.c \
		$(VMGUEST_SRC)/guest.ld mk/vm.mk
	@mkdir -p $(@D)
	$(CC) $(VMGUEST_CFLAGS) -no-pie -Wl,-T,$(VMGUEST_SRC)/guest.ld -Wl,--build-id=none \
		-o $@ $(VMGUEST_SRC)/setup.S $(VMGUEST_SRC)/entry.S $(VMGUEST_SRC)/main.c

TEST_DEPS += $(VMGUEST)

# The benchmark (bench/vm.sh runs it); it boots the test guest too.
$(O)/bench/bench_vm: bench/bench_vm.c $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS)

BENCH_TARGETS += $(O)/bench/bench_vm $(VMGUEST)
