# mk/images.mk: the guest images (images/), built by `make images`.
#
#   build/images/vlab-agent          the probe agent (mk/workloads.mk)
#   build/images/rootfs/             container root: busybox + agent + /etc
#   build/images/vmlinuz             the Debian cloud kernel (apt-get download)
#   build/images/initramfs.cpio.gz   VM initramfs: the rootfs + /init + virtio modules
#
# Offline except for the two Debian kernel packages, cached in
# build/kernel/debs.  Incremental: a second `make images` rebuilds nothing
# and only prints the sizes.

IMG := $(O)/images
BUSYBOX ?= /bin/busybox

DEBS_IMAGES += busybox-static libarchive-dev dpkg
DEBS_TEST += qemu-system-x86

# The container's root filesystem.  Its last-written file stands for the
# folder (deleting the folder rebuilds it).
ROOTFS_MARK := $(IMG)/rootfs/etc/vlab/version
ROOTFS_INPUTS := images/mkrootfs.sh $(wildcard images/files/etc/*) $(IMG)/vlab-agent
$(ROOTFS_MARK): $(ROOTFS_INPUTS) mk/images.mk
	images/mkrootfs.sh $(IMG)/rootfs $(IMG)/vlab-agent $(BUSYBOX)

# The kernel: downloaded once, unpacked with dpkg-deb.
$(O)/kernel/vmlinuz: images/fetch-kernel.sh
	images/fetch-kernel.sh $(O)/kernel
	@touch $@

$(IMG)/vmlinuz: $(O)/kernel/vmlinuz
	@mkdir -p $(@D)
	cp $< $@.tmp && mv $@.tmp $@

# The cpio writer (a build tool, host libarchive).
$(O)/tools/mkcpio: images/mkcpio.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -o $@ $< \
		$$(pkg-config --cflags --libs libarchive)

# The VM's initramfs: the rootfs tree, /init, the modules and their order.
INITRAMFS_STAGE := $(O)/initramfs-root
$(IMG)/initramfs.cpio.gz: $(ROOTFS_MARK) $(O)/kernel/vmlinuz images/initramfs/init \
		$(O)/tools/mkcpio mk/images.mk
	rm -rf $(INITRAMFS_STAGE)
	cp -a $(IMG)/rootfs $(INITRAMFS_STAGE)
	install -m 0755 images/initramfs/init $(INITRAMFS_STAGE)/init
	mkdir -p $(INITRAMFS_STAGE)/lib/modules/$$(cat $(O)/kernel/version)
	cp $(O)/kernel/modules/*.ko $(INITRAMFS_STAGE)/lib/modules/$$(cat $(O)/kernel/version)/
	cp $(O)/kernel/modules.order $(INITRAMFS_STAGE)/etc/vlab/modules
	echo "kernel $$(cat $(O)/kernel/version)" >>$(INITRAMFS_STAGE)/etc/vlab/version
	$(O)/tools/mkcpio $@ $(INITRAMFS_STAGE) --dev dev/console:600:5:1
	rm -rf $(INITRAMFS_STAGE)

IMAGE_FILES := $(IMG)/vlab-agent $(ROOTFS_MARK) $(IMG)/vmlinuz $(IMG)/initramfs.cpio.gz

.PHONY: images-sizes
images-sizes: $(IMAGE_FILES)
	@echo "images (bytes a user ships):"
	@printf '  %-10s %10s  %s\n' kernel "$$(stat -c %s $(IMG)/vmlinuz)" $(IMG)/vmlinuz \
		initramfs "$$(stat -c %s $(IMG)/initramfs.cpio.gz)" $(IMG)/initramfs.cpio.gz \
		rootfs "$$(du -sb $(IMG)/rootfs | cut -f1)" $(IMG)/rootfs/ \
		agent "$$(stat -c %s $(IMG)/vlab-agent)" $(IMG)/vlab-agent

IMAGE_TARGETS += $(IMAGE_FILES) images-sizes
