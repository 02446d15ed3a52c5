# mk/unikernel.mk: the unikernel's guest side, built freestanding: the
# library OS (engines/unikernel/guest/, archived as build/uk/libuk.a), the
# unikernel image build/images/agent.uk (the probe agent linked with it),
# the test guests, and the unikernel benchmark.  The monitor is host code
# and builds with everything else.

UK_DIR   := engines/unikernel/guest
UK_O     := $(O)/uk
UK_CC    ?= $(CC)
# No host headers: gcc's own freestanding ones (stdint.h, stdarg.h ...) only.
UK_CFLAGS := -std=c11 -O2 -g -ffreestanding -nostdinc -isystem $(shell $(UK_CC) -print-file-name=include) \
	-I. -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -march=x86-64 -mtune=generic \
	-ffunction-sections -fdata-sections -Wall -Wextra -Wshadow $(WERROR) -MMD -MP
# The library OS's own memcpy/memset must not be turned into calls to themselves.
UK_LIBOS_CFLAGS := $(UK_CFLAGS) -fno-tree-loop-distribute-patterns
UK_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(UK_DIR)/uk.ld -Wl,--gc-sections \
	-Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

UK_LIBOS_SRCS := $(sort $(wildcard $(UK_DIR)/*.c $(UK_DIR)/net/*.c))
UK_LIBOS_OBJS := $(UK_LIBOS_SRCS:%.c=$(UK_O)/%.o) $(UK_O)/$(UK_DIR)/start.o

$(UK_O)/$(UK_DIR)/%.o: $(UK_DIR)/%.c $(O)/flags
	@mkdir -p $(@D)
	$(UK_CC) $(UK_LIBOS_CFLAGS) -c -o $@ $<

$(UK_O)/$(UK_DIR)/start.o: $(UK_DIR)/start.S
	@mkdir -p $(@D)
	$(UK_CC) $(UK_CFLAGS) -c -o $@ $<

$(UK_O)/libuk.a: $(UK_LIBOS_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Test guests: tests/**/guest/NAME.c -> build/tests/**/guest/NAME.uk, one
# program each, linked with the library OS.
UK_TEST_GUEST_SRCS := $(shell find tests -path '*/unikernel/guest/*.c' 2>/dev/null | sort)
UK_TEST_GUESTS := $(UK_TEST_GUEST_SRCS:%.c=$(O)/%.uk)

$(O)/tests/%.uk: tests/%.c $(UK_O)/libuk.a $(UK_DIR)/uk.ld $(O)/flags
	@mkdir -p $(@D)
	$(UK_CC) $(UK_CFLAGS) -I$(UK_DIR) $(UK_LDFLAGS) -o $@ $< $(UK_O)/libuk.a -lgcc

TEST_DEPS += $(UK_TEST_GUESTS)

-include $(shell find $(UK_O) -name '*.d' 2>/dev/null)

# The unikernel image: the probe agent's portable sources (the list is
# WL_PORTABLE in mk/workloads.mk, read when the recipe runs), compiled with
# the agent's own flags for the library OS, and linked with it.  Shipped
# stripped; build/uk/agent.elf keeps the symbols for debugging.
$(UK_O)/agent.elf: $(UK_DIR)/agent/main.c $(wildcard workloads/*.c workloads/*.h) \
		$(UK_O)/libuk.a $(UK_DIR)/uk.ld mk/unikernel.mk $(O)/flags
	@mkdir -p $(@D)
	$(UK_CC) $(UK_CFLAGS) $(WL_CFLAGS) -I$(UK_DIR) $(UK_LDFLAGS) -o $@ $(UK_DIR)/agent/main.c \
		$(WL_PORTABLE:%=workloads/%.c) $(UK_O)/libuk.a -lgcc

$(O)/images/agent.uk: $(UK_O)/agent.elf
	@mkdir -p $(@D)
	objcopy --strip-all $< $@.tmp
	mv $@.tmp $@

IMAGE_TARGETS += $(O)/images/agent.uk

# The benchmark (bench/unikernel.sh runs it) and the raw KVM floor it
# compares with, a libc-only program.
$(O)/bench/bench_unikernel: bench/bench_unikernel.c $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS)

$(O)/bench/kvm_floor: bench/kvm_floor.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra $(WERROR) -o $@ $<

BENCH_TARGETS += $(O)/bench/bench_unikernel $(O)/bench/kvm_floor
