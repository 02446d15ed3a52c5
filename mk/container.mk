# mk/container.mk: the container engine's extra build rules: the test
# rootfs (busybox-static + a static probe program) that the container
# integration and security tests run, and the start-up benchmark.

CT_TEST_ROOTFS := $(O)/tests/ct-rootfs
CT_PROBE       := $(O)/tests/ct-probe

DEBS_BUILD += libc6-dev
DEBS_TEST  += busybox-static
DEBS_BENCH += crun runc bubblewrap hyperfine busybox-static

# A static program: it runs inside a rootfs that has no C library.
$(CT_PROBE): tests/integration/container/guest/ct-probe.c
	@mkdir -p $(@D)
	$(CC) -O2 -static -pthread -Wall -Wextra $(WERROR) -o $@ $<

# busybox with its applets as symlinks, plus the probe.
$(CT_TEST_ROOTFS)/.stamp: $(CT_PROBE) mk/container.mk
	rm -rf $(CT_TEST_ROOTFS)
	mkdir -p $(CT_TEST_ROOTFS)/bin $(CT_TEST_ROOTFS)/etc $(CT_TEST_ROOTFS)/tmp \
		$(CT_TEST_ROOTFS)/proc $(CT_TEST_ROOTFS)/sys $(CT_TEST_ROOTFS)/dev $(CT_TEST_ROOTFS)/root
	chmod 1777 $(CT_TEST_ROOTFS)/tmp
	cp /bin/busybox $(CT_TEST_ROOTFS)/bin/busybox
	for a in $$(/bin/busybox --list); do [ "$$a" = busybox ] || ln -s busybox $(CT_TEST_ROOTFS)/bin/$$a; done
	cp $(CT_PROBE) $(CT_TEST_ROOTFS)/bin/ct-probe
	echo 'root:x:0:0:root:/root:/bin/sh' > $(CT_TEST_ROOTFS)/etc/passwd
	echo 'root:x:0:' > $(CT_TEST_ROOTFS)/etc/group
	touch $@

TEST_DEPS += $(CT_TEST_ROOTFS)/.stamp

# The start-up benchmark (bench/container.sh runs it).
$(O)/bench/bench_container: bench/bench_container.c $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS)

BENCH_TARGETS += $(O)/bench/bench_container
