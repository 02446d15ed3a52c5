# vlab: one plain Makefile.  Module-specific rules (guest images, the
# agent, the unikernel guest, benchmarks) live in mk/*.mk and append to the
# variables below.
#
#   make            build ./vlab
#   make deps       install the Debian packages everything needs
#   make images     build the guest images from Debian packages
#   make check      deps + build + every test tier (unit, integration, e2e, security),
#                   then the sanitized tiers and the fuzz smoke run (CHECK_MORE)
#   make bench      benchmarks, side by side with their peers
#   make install    PREFIX=/usr/local DESTDIR=

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib/vlab
DATADIR  ?= $(PREFIX)/share/vlab
O        := build
SHELL    := /bin/bash

CC       ?= cc
CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
PKGS     := ncursesw panelw lua5.4 libseccomp jansson libcap libnl-route-3.0 libarchive
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

VLAB_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-format-truncation $(WERROR) -MMD -MP -I. \
	$(PKG_CFLAGS) -DVLAB_VERSION='"$(VERSION)"' -DVLAB_LIBDIR='"$(LIBDIR)"' \
	-DVLAB_DATADIR='"$(DATADIR)"'
VLAB_LDLIBS = $(PKG_LIBS) -lpthread -lm

# Debian packages, by purpose; mk/*.mk add their own.
DEBS_BUILD  := gcc make pkg-config libncurses-dev liblua5.4-dev libseccomp-dev \
	libjansson-dev libcap-dev libnl-route-3-dev libarchive-dev
DEBS_TEST   := libcmocka-dev tmux jq
DEBS_IMAGES :=
DEBS_BENCH  :=

# Host code: every .c under these folders, except guest code (folders named
# guest/, built freestanding by their own rules) and the CLI entry point.
SRC_DIRS  := core engines metrics lesson tui cli
# mk/*.mk may add host sources from elsewhere (LIB_SRCS += workloads/proto.c).
LIB_SRCS  := $(filter-out cli/main.c,$(shell find $(SRC_DIRS) -name '*.c' -not -path '*/guest/*' 2>/dev/null | sort))

# The engines' own instance programs (programs/vlab-<engine>.c), beside vlab.
ENGINE_PROGRAMS := $(patsubst programs/%.c,$(O)/%,$(sort $(wildcard programs/vlab-*.c)))
TEST_TIERS := unit integration e2e security
TEST_SRCS  := $(foreach t,$(TEST_TIERS),$(shell find tests/$(t) -name 'test_*.c' -not -path '*/guest/*' 2>/dev/null | sort))

IMAGE_TARGETS :=
TEST_DEPS     :=
BENCH_TARGETS :=
# Further checks `make check` runs after the tiers (mk/hardening.mk: check-asan, check-fuzz).
CHECK_MORE    :=

.PHONY: all deps images tests check $(TEST_TIERS:%=check-%) bench install uninstall clean format
all: vlab $(ENGINE_PROGRAMS)

-include $(sort $(wildcard mk/*.mk))

LIB_OBJS  := $(sort $(LIB_SRCS:%.c=$(O)/%.o))
TEST_BINS := $(TEST_SRCS:%.c=$(O)/%)

# Objects depend on the flags they were built with.
$(O)/flags: FORCE
	@mkdir -p $(O)
	@echo '$(CC) $(CFLAGS) $(VLAB_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(VLAB_CFLAGS)' > $@
FORCE:

$(O)/%.o: %.c $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) -c -o $@ $<

$(O)/libvlab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# vlab itself is linked statically (static-pie) when the static libraries
# are there: every instance process is vlab re-executed (engines/engine.h),
# and a static vlab starts in ~0.4 ms of CPU instead of ~1 ms, with no
# shared library to map and relocate (bench/container.sh shows the startup
# it buys).  Otherwise, or with VLAB_STATIC=0, it is linked dynamically.
VLAB_STATIC ?= 1
VLAB_STATIC_LIBS = -static-pie -Wl,--start-group $(filter-out -larchive,$(VLAB_LDLIBS)) \
	$(shell pkg-config --static --libs-only-l $(filter-out libarchive,$(PKGS)) 2>/dev/null) \
	-ldl -Wl,--end-group

vlab: $(O)/cli/main.o $(O)/libvlab.a
	@if [ "$(VLAB_STATIC)" = 1 ] && $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_STATIC_LIBS) \
		2>$(O)/vlab-link.log; then echo "link $@ (static)"; \
	else [ "$(VLAB_STATIC)" != 1 ] || echo "link $@: static link failed (see $(O)/vlab-link.log), linking dynamically"; \
		echo "$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_LDLIBS)"; \
		$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_LDLIBS); fi

# The engines' own instance programs (programs/vlab-<engine>.c): each links
# one engine and what that needs, nothing else.  Static like vlab.
$(O)/vlab-%: $(O)/programs/vlab-%.o $(O)/libvlab.a
	@if [ "$(VLAB_STATIC)" = 1 ] && $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_STATIC_LIBS) \
		2>$@-link.log; then echo "link $@ (static)"; \
	else $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(VLAB_LDLIBS); fi

# Test programs: cmocka, linked with everything in libvlab.a.
$(O)/tests/%: tests/%.c tests/vtest.h $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS) -lcmocka

tests: vlab $(TEST_BINS) $(TEST_DEPS)

images: $(IMAGE_TARGETS)

deps:
	@DEBS="$(sort $(DEBS_BUILD) $(DEBS_TEST) $(DEBS_IMAGES) $(DEBS_BENCH))" tests/install-deps.sh

check:
	$(MAKE) deps
	$(MAKE) all tests images
	tests/run.sh $(TEST_TIERS)
	$(foreach t,$(CHECK_MORE),$(MAKE) $(t) && ) true

$(TEST_TIERS:%=check-%): check-%: all tests
	tests/run.sh $*

bench: all images $(BENCH_TARGETS)
	bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 vlab $(DESTDIR)$(BINDIR)/vlab
	install -m 0755 $(ENGINE_PROGRAMS) $(DESTDIR)$(LIBDIR)/
	if [ -d labs ]; then cp -r labs $(DESTDIR)$(DATADIR)/; fi
	if [ -d docs ]; then cp -r docs $(DESTDIR)$(DATADIR)/; fi
	if [ -d $(O)/images ]; then cp -r $(O)/images $(DESTDIR)$(LIBDIR)/; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vlab
	rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DATADIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(O) vlab

-include $(shell find $(O) -name '*.d' 2>/dev/null)
