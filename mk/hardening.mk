# mk/hardening.mk: sanitizers, fuzzing, soak (issue 11).
#
#   make check-asan   builds vlab, libvlab and every unit and integration
#                     test with clang -fsanitize=address,undefined into
#                     build/asan/ (the objects of the normal build are
#                     untouched; ./vlab stays the normal one) and runs
#                     those two tiers there; any sanitizer report fails.
#
# The guest images and test guests are freestanding or musl code, not host
# code: the sanitized tests use the ones from the normal build.

ASAN_O       := $(O)/asan
ASAN_CC      ?= clang
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
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
	$(MAKE) O=$(ASAN_O) CC="$(ASAN_CC) $(SAN_FLAGS)" WERROR= CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_O)/vlab $(patsubst $(O)/%,$(ASAN_O)/%,$(TEST_BINS))
	rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	$(ASAN_ENV) VLAB_BUILD=$(ASAN_O) VLAB_SELF=$(CURDIR)/$(ASAN_O)/vlab \
		VLAB_IMAGES=$(CURDIR)/$(O)/images VLAB_LABS=$(CURDIR)/labs tests/run.sh unit integration; rc=$$?; \
	tests/asan/reports.sh $(ASAN_REPORTS) || rc=1; exit $$rc
