# mk/hardening.mk: sanitizers, fuzzing, soak (issue 11).
#
#   make check-asan   builds vlab, libvlab and every unit and integration
#                     test with clang -fsanitize=address,undefined into
#                     build/san/ (the objects of the normal build are
#                     untouched; ./vlab stays the normal one) and runs
#                     those two tiers there; any sanitizer report fails.
#
# The guest images and test guests are freestanding or musl code, not host
# code: the sanitized tests use the ones from the normal build.

# One sanitized build serves the tests and the fuzz targets: ASan+UBSan, and
# libFuzzer's coverage (harmless without libFuzzer: the sanitizer runtime
# has the hooks).
ASAN_O       := $(O)/san
ASAN_CC      ?= clang
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CC       = $(ASAN_CC) $(SAN_FLAGS) -fsanitize=fuzzer-no-link
ASAN_CFLAGS  := -O1 -g -Wno-unknown-warning-option
# Sanitizer runtime settings for the tests and every vlab process they
# start (instance processes too: their reports would otherwise vanish with
# the child's stderr).  Each report lands in $(ASAN_REPORTS)/san.<pid>;
# any file there fails check-asan, and is printed.
ASAN_REPORTS := $(ASAN_O)/reports
SAN_COMMON   := log_path=$(CURDIR)/$(ASAN_REPORTS)/san:log_exe_name=1
ASAN_ENV     := ASAN_OPTIONS=$(SAN_COMMON):detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1 \
	UBSAN_OPTIONS=$(SAN_COMMON):print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/asan/lsan.supp:print_suppressions=0

DEBS_TEST += clang libclang-rt-14-dev
CHECK_MORE += check-asan

.PHONY: check-asan

# The vlab binary inside a build folder other than build/ (used by the
# sanitized build: ./vlab stays the normal one).
$(O)/vlab: $(O)/cli/main.o $(O)/libvlab.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_LDLIBS)

check-asan: all tests images
	$(MAKE) O=$(ASAN_O) CC="$(SAN_CC)" WERROR= CFLAGS="$(ASAN_CFLAGS)" VLAB_STATIC=0 \
		$(ASAN_O)/vlab $(patsubst $(O)/%,$(ASAN_O)/%,$(ENGINE_PROGRAMS)) $(patsubst $(O)/%,$(ASAN_O)/%,$(TEST_BINS))
	rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	$(ASAN_ENV) VLAB_BUILD=$(ASAN_O) VLAB_SELF=$(CURDIR)/$(ASAN_O)/vlab \
		VLAB_IMAGES=$(CURDIR)/$(O)/images VLAB_LABS=$(CURDIR)/labs tests/run.sh unit integration; rc=$$?; \
	tests/asan/reports.sh $(ASAN_REPORTS) || rc=1; exit $$rc

# ---- fuzzing (libFuzzer) ----
#
#   make fuzz         every target for FUZZ_SECONDS (60) each, on its committed
#                     seeds (tests/fuzz/corpus/<name>) plus what earlier runs
#                     found (build/san/work/corpus/<name>); prints executions.
#   make check-fuzz   the same for FUZZ_SMOKE_SECONDS (3) each, and every saved
#                     crash input (tests/fuzz/regress/<name>) replayed; part of
#                     make check.
#   make fuzz-merge   minimises what `make fuzz` found into the committed seeds.
#   FUZZ_TARGETS=proto,uk_elf   restricts any of them to some targets.
#
# Targets are tests/fuzz/fuzz_<name>.c, built with ASan+UBSan and coverage
# into build/san/ against the sanitized libvlab.
FUZZ_O       := $(ASAN_O)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_TARGETS ?=
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS  := $(ASAN_CFLAGS)

CHECK_MORE += check-fuzz
.PHONY: fuzz check-fuzz fuzz-merge fuzz-build

# Runs inside the fuzz sub-make (O=build/fuzz, CC with fuzzer-no-link).
$(O)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) -fsanitize=fuzzer -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS)

fuzz-build:
	$(MAKE) O=$(FUZZ_O) CC="$(SAN_CC)" WERROR= CFLAGS="$(FUZZ_CFLAGS)" \
		$(FUZZ_NAMES:%=$(FUZZ_O)/tests/fuzz/fuzz_%)

FUZZ_RUN = VLAB_FUZZ_BIN=$(CURDIR)/$(FUZZ_O)/tests/fuzz VLAB_FUZZ_WORK=$(CURDIR)/$(FUZZ_O)/work \
	VLAB_FUZZ_TARGETS=$(FUZZ_TARGETS) tests/fuzz/run.sh

fuzz: fuzz-build
	$(FUZZ_RUN) run $(FUZZ_SECONDS)

check-fuzz: fuzz-build
	$(FUZZ_RUN) run $(FUZZ_SMOKE_SECONDS)

fuzz-merge: fuzz-build
	$(FUZZ_RUN) merge

# ---- the escape tests' rootfs (tests/security/test_escapes.c) ----
# The container tests' rootfs (mk/container.mk) plus sec-probe, a copy of
# it that is setuid root, and a user to drop to.
SEC_PROBE  := $(O)/tests/sec-probe
SEC_ROOTFS := $(O)/tests/sec-rootfs

$(SEC_PROBE): tests/security/guest/sec-probe.c
	@mkdir -p $(@D)
	$(CC) -O2 -static -Wall -Wextra $(WERROR) -o $@ $<

$(SEC_ROOTFS)/.stamp: $(SEC_PROBE) $(O)/tests/ct-rootfs/.stamp mk/hardening.mk
	rm -rf $(SEC_ROOTFS)
	cp -a $(O)/tests/ct-rootfs $(SEC_ROOTFS)
	install -m 0755 $(SEC_PROBE) $(SEC_ROOTFS)/bin/sec-probe
	install -m 4755 -o root $(SEC_PROBE) $(SEC_ROOTFS)/bin/sec-probe-suid
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> $(SEC_ROOTFS)/etc/passwd
	touch $@

TEST_DEPS += $(SEC_ROOTFS)/.stamp

# ---- soak ----
#   make soak         500 containers, 500 unikernels and 20 emulated VMs
#                     started and stopped in a row; prints the figures
#   make check-soak   the same with 50, 50 and 2 (part of make check)
SOAK_BIN := $(O)/tests/soak/test_soak
SOAK_CONTAINERS ?= 500
SOAK_UNIKERNELS ?= 500
SOAK_VMS ?= 20
CHECK_MORE += check-soak
.PHONY: soak check-soak

soak: all images $(SOAK_BIN) $(TEST_DEPS)
	VLAB_SELF=$(CURDIR)/vlab VLAB_SOAK_CONTAINERS=$(SOAK_CONTAINERS) \
		VLAB_SOAK_UNIKERNELS=$(SOAK_UNIKERNELS) VLAB_SOAK_VMS=$(SOAK_VMS) $(SOAK_BIN)

check-soak: all images $(SOAK_BIN) $(TEST_DEPS)
	VLAB_SELF=$(CURDIR)/vlab VLAB_SOAK_CONTAINERS=50 VLAB_SOAK_UNIKERNELS=50 VLAB_SOAK_VMS=2 \
		$(SOAK_BIN)
