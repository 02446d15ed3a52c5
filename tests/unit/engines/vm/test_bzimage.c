/* tests/unit/engines/vm/test_bzimage.c: the Linux boot protocol loader:
 * good images (the Debian kernel from `make images`, our test guest),
 * truncated and foreign files, oversize command lines and initramfs,
 * too little RAM; the zero page (boot_params) and e820 map it writes. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "engines/vm/bzimage.h"
#include "engines/vm/layout.h"

#define KERNEL "build/images/vmlinuz"
#define GUEST "build/tests/vm-guest/testguest.bzImage"
#define MIB (1ull << 20)

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	uint8_t *b = malloc((size_t)st.st_size);
	ssize_t n = read(fd, b, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(b);
		return NULL;
	}
	*len = (size_t)n;
	return b;
}

/* Fake guest RAM of bytes (untouched pages cost nothing). */
struct ram {
	struct kvm_vm vm;
	uint8_t *p;
	uint64_t bytes;
};

static void ram_new(struct ram *r, uint64_t bytes)
{
	memset(r, 0, sizeof(*r));
	r->p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(r->p != MAP_FAILED);
	r->bytes = bytes;
	r->vm.nslots = 1;
	r->vm.slots[0] = (struct kvm_slot){.gpa = 0, .size = bytes, .hva = r->p};
}

static void ram_free(struct ram *r)
{
	munmap(r->p, r->bytes);
}

static void test_debian_kernel(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = slurp(KERNEL, &len);
	if (!img)
		VTEST_SKIP("%s is not built (make images)", KERNEL);
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	assert_int_equal(vm_bzimage_parse(img, len, "vmlinuz", &bz, &err), 0);
	assert_true(bz.version >= 0x020c);
	assert_true(bz.xloadflags & 1);
	assert_true(bz.relocatable);
	assert_true(bz.cmdline_size >= 255);
	assert_int_equal(bz.setup_bytes + bz.kernel_bytes, len);
	/* It needs its preferred address plus init_size: tens of MiB. */
	struct ram r;
	ram_new(&r, 32 * MIB);
	struct vm_boot boot;
	assert_int_equal(
	    vm_bzimage_load(&bz, &r.vm, r.bytes, "console=ttyS0", NULL, 0, 0, &boot, &err), -1);
	print_message("  32 MiB: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "to decompress"));
	ram_free(&r);
	ram_new(&r, 256 * MIB);
	assert_int_equal(
	    vm_bzimage_load(&bz, &r.vm, r.bytes, "console=ttyS0", NULL, 0, 0, &boot, &err), 0);
	assert_memory_equal(r.p + VM_KERNEL, bz.kernel, 4096);
	assert_int_equal(boot.entry, VM_KERNEL + 0x200);
	ram_free(&r);
	free(img);
}

static void test_truncated_and_foreign(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = slurp(GUEST, &len);
	assert_non_null(img);
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	assert_int_equal(vm_bzimage_parse(img, len, "guest", &bz, &err), 0);

	assert_int_equal(vm_bzimage_parse(img, 100, "cut", &bz, &err), -1);
	assert_non_null(strstr(err.msg, "too small"));
	assert_int_equal(vm_bzimage_parse(img, 1024, "cut", &bz, &err), -1);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(vm_bzimage_parse(img, len - 100, "cut", &bz, &err), -1);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(err.code, ENOEXEC);

	uint8_t *bad = malloc(len);
	struct {
		size_t off;
		uint8_t v;
		const char *says;
	} cases[] = {
	    {0x1fe, 0x00, "0xaa55"},	      /* boot signature */
	    {0x202, 'X', "HdrS"},	      /* header magic */
	    {0x206, 0x00, "older than 2.12"}, /* protocol 2.00 */
	    {0x236, 0x00, "64-bit"},	      /* no XLF_KERNEL_64 */
	    {0x211, 0x00, "zImage"},	      /* not loaded high */
	    {0x1f1, 0xff, "truncated"},	      /* 255 setup sectors */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, img, len);
		bad[cases[i].off] = cases[i].v;
		if (cases[i].off == 0x206)
			bad[0x207] = 0x02;
		assert_int_equal(vm_bzimage_parse(bad, len, "bad", &bz, &err), -1);
		print_message("  %s\n", err.msg);
		assert_non_null(strstr(err.msg, cases[i].says));
	}
	free(bad);
	free(img);
}

static void test_load_limits(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = slurp(GUEST, &len);
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	struct vm_boot boot;
	assert_int_equal(vm_bzimage_parse(img, len, "guest", &bz, &err), 0);
	struct ram r;
	ram_new(&r, 64 * MIB);
	/* Our guest accepts 255 bytes of command line. */
	char cmd[300];
	memset(cmd, 'c', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	assert_int_equal(vm_bzimage_load(&bz, &r.vm, r.bytes, cmd, NULL, 0, 0, &boot, &err), -1);
	assert_int_equal(err.code, E2BIG);
	assert_non_null(strstr(err.msg, "at most 255"));
	cmd[255] = 0;
	assert_int_equal(vm_bzimage_load(&bz, &r.vm, r.bytes, cmd, NULL, 0, 0, &boot, &err), 0);
	/* An initramfs bigger than RAM. */
	uint8_t *initrd = malloc(80 * MIB);
	assert_int_equal(
	    vm_bzimage_load(&bz, &r.vm, r.bytes, "x", initrd, 80 * MIB, 0, &boot, &err), -1);
	assert_int_equal(err.code, ENOMEM);
	assert_non_null(strstr(err.msg, "initramfs"));
	assert_int_equal(
	    vm_bzimage_load(&bz, &r.vm, r.bytes, "x", initrd, 63 * MIB, 0, &boot, &err), -1);
	free(initrd);
	ram_free(&r);
	free(img);
}

/* A relocatable kernel whose preferred address is near 2^64: base +
 * init_size once wrapped to a small number and the kernel was accepted
 * (found by tests/fuzz/fuzz_bzimage.c). */
static void test_pref_address_wraps(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = slurp(GUEST, &len);
	img[0x234] = 1; /* relocatable */
	uint64_t pref = 0xfffffffffff00000ull;
	uint32_t init = 0x200000;
	memcpy(img + 0x258, &pref, 8);
	memcpy(img + 0x260, &init, 4);
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	struct vm_boot boot;
	assert_int_equal(vm_bzimage_parse(img, len, "guest", &bz, &err), 0);
	struct ram r;
	ram_new(&r, 64 * MIB);
	assert_int_equal(vm_bzimage_load(&bz, &r.vm, r.bytes, "x", NULL, 0, 0, &boot, &err), -1);
	assert_int_equal(err.code, ENOMEM);
	print_message("  %s\n", err.msg);
	ram_free(&r);
	free(img);
}

static void test_zero_page(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = slurp(GUEST, &len);
	struct vm_bzimage bz;
	struct vlab_err err = {0};
	struct vm_boot boot;
	assert_int_equal(vm_bzimage_parse(img, len, "guest", &bz, &err), 0);
	struct ram r;
	ram_new(&r, 64 * MIB);
	static const char initrd[] = "070701 an initramfs";
	assert_int_equal(vm_bzimage_load(&bz, &r.vm, r.bytes, "console=ttyS0 quiet", initrd,
					 sizeof(initrd), 0xe0000, &boot, &err),
			 0);
	uint8_t *zp = r.p + boot.zeropage;
	uint32_t u32;
	uint64_t u64;
	assert_int_equal(boot.zeropage, VM_ZEROPAGE);
	assert_memory_equal(zp + 0x202, "HdrS", 4); /* the image's header, copied */
	assert_int_equal(zp + 0x1f1 == zp + BP_HDR, 1);
	assert_int_equal(zp[BP_TYPE_OF_LOADER], 0xff);
	assert_true(zp[BP_LOADFLAGS] & 1);
	memcpy(&u32, zp + BP_CMD_LINE_PTR, 4);
	assert_int_equal(u32, VM_CMDLINE);
	assert_string_equal((char *)r.p + u32, "console=ttyS0 quiet");
	memcpy(&u64, zp + BP_ACPI_RSDP, 8);
	assert_int_equal(u64, 0xe0000);
	/* The initramfs: at the top of RAM, page aligned, where the header says. */
	memcpy(&u32, zp + BP_RAMDISK_IMAGE, 4);
	assert_int_equal(u32, boot.initrd_gpa);
	assert_int_equal(u32 % 4096, 0);
	assert_true(u32 + sizeof(initrd) <= r.bytes && u32 + sizeof(initrd) > r.bytes - 4096);
	assert_memory_equal(r.p + u32, initrd, sizeof(initrd));
	memcpy(&u32, zp + BP_RAMDISK_SIZE, 4);
	assert_int_equal(u32, sizeof(initrd));
	/* The e820 map, as vm_e820_build() describes 64 MiB. */
	struct vm_e820 want[8];
	unsigned n = vm_e820_build(r.bytes, want, 8);
	assert_int_equal(zp[BP_E820_ENTRIES], n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;
		memcpy(&u64, e, 8);
		assert_int_equal(u64, want[i].addr);
		memcpy(&u64, e + 8, 8);
		assert_int_equal(u64, want[i].size);
		memcpy(&u32, e + 16, 4);
		assert_int_equal(u32, want[i].type);
	}
	assert_memory_equal(r.p + VM_KERNEL, img + bz.setup_bytes, bz.kernel_bytes);
	ram_free(&r);
	free(img);
}

static void test_e820(void **state)
{
	(void)state;
	struct vm_e820 e[8];
	unsigned n = vm_e820_build(256 * MIB, e, 8);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, VM_EBDA);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, VM_ACPI);
	assert_int_equal(e[2].type, E820_RESERVED);
	assert_int_equal(e[3].addr, VM_KERNEL);
	assert_int_equal(e[3].addr + e[3].size, 256 * MIB);
	/* 8 GiB: RAM stops at the PCI hole and resumes at 4 GiB. */
	n = vm_e820_build(8ull << 30, e, 8);
	assert_int_equal(n, 5);
	assert_int_equal(e[3].addr + e[3].size, VM_HOLE);
	assert_int_equal(e[4].addr, VM_HIGH);
	assert_int_equal(e[4].size, (8ull << 30) - VM_HOLE);
	/* No two entries overlap, and RAM adds up. */
	uint64_t ram = 0;
	for (unsigned i = 0; i < n; i++) {
		if (e[i].type == E820_RAM)
			ram += e[i].size;
		if (i)
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
	}
	assert_int_equal(ram, (8ull << 30) - (VM_KERNEL - VM_EBDA));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debian_kernel), cmocka_unit_test(test_truncated_and_foreign),
	    cmocka_unit_test(test_load_limits),
	    cmocka_unit_test(test_pref_address_wraps),	  cmocka_unit_test(test_zero_page),
	    cmocka_unit_test(test_e820),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
