# mk/workloads.mk: the probe agent (workloads/).
#
#   build/images/vlab-agent      the agent, a static musl binary (VM, container, host)
#   build/workloads/portable.o   the portable sources linked freestanding with
#                                `ld -r`: proves they need nothing but the plat_*
#                                shim and memcpy/memmove/memset/memcmp/strlen
#   libvlab.a                    gets the codec and the host-side clients
#   build/libvlab-agent.a        the agent's code built for the host, linked
#                                into tests/unit/workloads/*

# The portable part (shared with the unikernel; see workloads/platform.h).
WL_PORTABLE := agent cpu mem disk echo sysinfo exec proto
WL_PORTABLE_SRCS := $(WL_PORTABLE:%=workloads/%.c)
WL_LINUX_SRCS := $(sort $(wildcard workloads/linux/*.c))
WL_HEADERS := $(wildcard workloads/*.h workloads/linux/*.h)

# Flags for the portable sources wherever they are built (the unikernel
# uses them too): the same code in every guest.  Loop-to-memcpy rewriting is
# off so that STREAM copy measures the loop, not the libc's memcpy.
WL_CFLAGS := -O2 -fno-tree-loop-distribute-patterns -std=c11 -Wall -Wextra -Wshadow $(WERROR) -I.
MUSL_CC ?= musl-gcc

DEBS_BUILD += musl-tools

# Host code in libvlab: the codec, requests to an agent, the echo client.
LIB_SRCS += workloads/proto.c workloads/client.c workloads/echo_client.c

$(O)/images/vlab-agent: $(WL_PORTABLE_SRCS) $(WL_LINUX_SRCS) $(WL_HEADERS) mk/workloads.mk
	@mkdir -p $(@D)
	$(MUSL_CC) -static -s $(WL_CFLAGS) -Wno-format-truncation -D_GNU_SOURCE -o $@.tmp $(WL_PORTABLE_SRCS) $(WL_LINUX_SRCS)
	mv $@.tmp $@

# Freestanding proof: only these symbols may be left undefined.
WL_FREESTANDING_ALLOWED := memcpy memmove memset memcmp strlen
WL_FREE_OBJS := $(WL_PORTABLE:%=$(O)/workloads/free/%.o)
$(O)/workloads/free/%.o: workloads/%.c $(WL_HEADERS) mk/workloads.mk
	@mkdir -p $(@D)
	$(CC) $(WL_CFLAGS) -ffreestanding -nostdinc -isystem $$($(CC) -print-file-name=include) \
		-fno-stack-protector -fno-pic -c -o $@ $<

$(O)/workloads/portable.o: $(WL_FREE_OBJS)
	ld -r -o $@.tmp $^
	@bad=$$(nm -u $@.tmp | awk '{print $$2}' | grep -v '^plat_' | \
		grep -vxF $(WL_FREESTANDING_ALLOWED:%=-e %) || true); \
	if [ -n "$$bad" ]; then \
		echo "workloads: portable code needs symbols outside platform.h: $$bad" >&2; \
		rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

# The agent's code for host-side unit tests (glibc; proto.c is in libvlab).
WL_TEST_OBJS := $(patsubst %.c,$(O)/%.o,$(filter-out workloads/proto.c,$(WL_PORTABLE_SRCS)) \
	$(filter-out workloads/linux/main.c,$(WL_LINUX_SRCS)))
$(O)/libvlab-agent.a: $(WL_TEST_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/tests/unit/workloads/%: tests/unit/workloads/%.c tests/vtest.h $(O)/libvlab-agent.a \
		$(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab-agent.a $(O)/libvlab.a \
		$(VLAB_LDLIBS) -lcmocka

# test_agent checks that the disk workload notices corrupted reads.
$(O)/tests/unit/workloads/test_agent: LDFLAGS += -Wl,--wrap=plat_disk_read

IMAGE_TARGETS += $(O)/images/vlab-agent
TEST_DEPS += $(O)/images/vlab-agent $(O)/workloads/portable.o
