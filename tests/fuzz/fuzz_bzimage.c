/* tests/fuzz/fuzz_bzimage.c: the VMM's bzImage loader (engines/vm/bzimage.c):
 * the kernel file is the student's to choose, so any file must come back
 * as a clear refusal or a correct boot layout.
 *
 * Input: the image file.  Its last byte picks whether a 64 KiB initramfs
 * comes along.  It is parsed and, when accepted, laid out in a fake guest
 * of 128 MiB (one memory slot over a lazily backed mapping, no KVM).
 * Properties: a refusal says why; an accepted image is setup + kernel with
 * the kernel inside the file, protocol >= 2.12; a successful load puts the
 * kernel's bytes at 1 MiB, the command line and the image's own setup
 * header in the zero page, an initramfs inside RAM below the kernel's
 * limit and clear of the room the kernel needs to decompress, and an e820
 * map whose RAM entries lie inside the guest's RAM. */
#include "tests/fuzz/fuzz.h"

#include <string.h>
#include <sys/mman.h>

#include "engines/vm/bzimage.h"
#include "engines/vm/layout.h"

#define RAM (128ull << 20)
#define INITRD (64u << 10)
#define CMDLINE "console=ttyS0 rdinit=/init quiet"

static uint8_t *ram;
static uint8_t initrd[INITRD];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	FUZZ_CHECK(ram != MAP_FAILED, "guest RAM");
	for (size_t i = 0; i < INITRD; i++)
		initrd[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	if (vm_bzimage_parse(data, size, "fuzz", &bz, &err) < 0) {
		FUZZ_CHECK(err.msg[0], "refused without a reason");
		return 0;
	}
	FUZZ_CHECK(bz.version >= VM_BOOT_MIN_VERSION, "version %#x", bz.version);
	FUZZ_CHECK(bz.kernel == data + bz.setup_bytes && bz.kernel_bytes > 0 &&
		       bz.setup_bytes + bz.kernel_bytes == size,
		   "setup %zu + kernel %zu != file %zu", bz.setup_bytes, bz.kernel_bytes, size);
	FUZZ_CHECK(bz.init_size >= bz.kernel_bytes, "init_size below the kernel's size");

	struct kvm_vm vm = {.sys_fd = -1, .fd = -1, .nslots = 1};
	vm.slots[0] = (struct kvm_slot){.gpa = 0, .size = RAM, .hva = ram};
	int with_initrd = data[size - 1] & 1;
	struct vm_boot boot;
	if (vm_bzimage_load(&bz, &vm, RAM, CMDLINE, with_initrd ? initrd : NULL,
			    with_initrd ? INITRD : 0, 0xe0000, &boot, &err) < 0) {
		FUZZ_CHECK(err.msg[0], "load refused without a reason");
		return 0;
	}
	FUZZ_CHECK(boot.entry == VM_KERNEL + 0x200 && boot.zeropage == VM_ZEROPAGE, "entry");
	FUZZ_CHECK(!memcmp(ram + VM_KERNEL, bz.kernel, bz.kernel_bytes), "kernel not at 1 MiB");
	FUZZ_CHECK(!strcmp((char *)ram + VM_CMDLINE, CMDLINE), "command line");
	FUZZ_CHECK(strlen(CMDLINE) <= bz.cmdline_size, "command line longer than the kernel takes");
	const uint8_t *zp = ram + VM_ZEROPAGE;
	FUZZ_CHECK(!memcmp(zp + BP_HDR, data + BP_HDR, 0x200 - BP_HDR), "setup header not copied");
	FUZZ_CHECK(rd32(zp + BP_CMD_LINE_PTR) == VM_CMDLINE, "command line pointer");
	/* the room the kernel needs, computed without wrapping */
	unsigned __int128 base = VM_KERNEL;
	if (bz.relocatable && bz.pref_address > base)
		base = bz.pref_address;
	unsigned __int128 need = base + bz.init_size;
	FUZZ_CHECK(need <= RAM, "accepted a kernel that needs %#llx bytes of a %#llx-byte RAM",
		   (unsigned long long)(need >> 64 ? ~0ull : (uint64_t)need),
		   (unsigned long long)RAM);
	if (with_initrd) {
		FUZZ_CHECK(boot.initrd_bytes == INITRD && boot.initrd_gpa % 4096 == 0, "initrd");
		FUZZ_CHECK(boot.initrd_gpa >= need && boot.initrd_gpa + INITRD <= RAM,
			   "initrd at %#llx overlaps the kernel's room or leaves RAM",
			   (unsigned long long)boot.initrd_gpa);
		FUZZ_CHECK(boot.initrd_gpa + INITRD - 1 <= (uint64_t)bz.initrd_addr_max,
			   "initrd above the kernel's limit %#x", bz.initrd_addr_max);
		FUZZ_CHECK(!memcmp(ram + boot.initrd_gpa, initrd, INITRD), "initrd bytes");
		FUZZ_CHECK(rd32(zp + BP_RAMDISK_IMAGE) == boot.initrd_gpa &&
			       rd32(zp + BP_RAMDISK_SIZE) == INITRD,
			   "initrd not in the zero page");
	}
	unsigned n = zp[BP_E820_ENTRIES];
	FUZZ_CHECK(n >= 1 && n <= VM_E820_MAX, "%u e820 entries", n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t a, s;
		memcpy(&a, zp + BP_E820_TABLE + 20 * i, 8);
		memcpy(&s, zp + BP_E820_TABLE + 20 * i + 8, 8);
		if (rd32(zp + BP_E820_TABLE + 20 * i + 16) == E820_RAM)
			FUZZ_CHECK(a + s <= RAM, "e820 RAM [%#llx, +%#llx) past the guest's RAM",
				   (unsigned long long)a, (unsigned long long)s);
	}
	return 0;
}
