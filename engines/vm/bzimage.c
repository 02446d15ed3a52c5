/* engines/vm/bzimage.c: parse a bzImage and lay out its boot. */
#include "engines/vm/bzimage.h"

#include <errno.h>
#include <string.h>

#include "engines/vm/layout.h"

/* Setup header offsets in the image. */
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_MAGIC 0x202
#define H_VERSION 0x206
#define H_LOADFLAGS 0x211
#define H_INITRD_MAX 0x22c
#define H_ALIGN 0x230
#define H_RELOCATABLE 0x234
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define H_END_MIN 0x264
#define HDR_END_MAX 0x290 /* where boot_params' header field ends */

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define LOADER_UNDEFINED 0xff
#define MIB (1ull << 20)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int vm_bzimage_parse(const uint8_t *img, size_t len, const char *name, struct vm_bzimage *out,
		     struct vlab_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < H_END_MIN)
		return vlab_err_set(err, ENOEXEC, "%s: %zu bytes is too small for a bzImage header",
				    name, len);
	if (rd16(img + H_BOOT_FLAG) != 0xaa55)
		return vlab_err_set(err, ENOEXEC,
				    "%s: no boot signature 0xaa55 at offset 0x1fe (found %#06x): "
				    "not a Linux kernel image",
				    name, rd16(img + H_BOOT_FLAG));
	if (memcmp(img + H_MAGIC, "HdrS", 4))
		return vlab_err_set(err, ENOEXEC,
				    "%s: no \"HdrS\" at offset 0x202: not a bzImage (an old zImage "
				    "or another boot sector)",
				    name);
	out->version = rd16(img + H_VERSION);
	if (out->version < VM_BOOT_MIN_VERSION)
		return vlab_err_set(
		    err, ENOEXEC,
		    "%s: boot protocol %u.%02u is older than 2.12 (no 64-bit entry point)", name,
		    out->version >> 8, out->version & 0xff);
	out->setup_sects = img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4;
	out->loadflags = img[H_LOADFLAGS];
	out->xloadflags = rd16(img + H_XLOADFLAGS);
	out->initrd_addr_max = rd32(img + H_INITRD_MAX);
	out->kernel_alignment = rd32(img + H_ALIGN);
	out->relocatable = img[H_RELOCATABLE];
	out->cmdline_size = rd32(img + H_CMDLINE_SIZE);
	out->pref_address = rd64(img + H_PREF_ADDRESS);
	out->init_size = rd32(img + H_INIT_SIZE);
	if (!(out->loadflags & LOADED_HIGH))
		return vlab_err_set(err, ENOEXEC, "%s: a zImage (loaded low) is not supported",
				    name);
	if (!(out->xloadflags & XLF_KERNEL_64))
		return vlab_err_set(err, ENOEXEC,
				    "%s: no 64-bit entry point (xloadflags %#x): a 32-bit kernel",
				    name, out->xloadflags);
	out->setup_bytes = ((size_t)out->setup_sects + 1) * 512;
	if (out->setup_bytes >= len)
		return vlab_err_set(
		    err, ENOEXEC,
		    "%s: truncated: %zu bytes, but the setup part alone is %zu (%u sectors)", name,
		    len, out->setup_bytes, out->setup_sects);
	uint64_t sys = (uint64_t)rd32(img + H_SYSSIZE) * 16;
	out->kernel = img + out->setup_bytes;
	out->kernel_bytes = len - out->setup_bytes;
	if (sys == 0 || sys > out->kernel_bytes)
		return vlab_err_set(err, ENOEXEC,
				    "%s: truncated: the header says the kernel is %llu bytes after "
				    "the setup part, the file has %zu",
				    name, (unsigned long long)sys, out->kernel_bytes);
	if (out->init_size < out->kernel_bytes)
		out->init_size = (uint32_t)out->kernel_bytes;
	out->image = img;
	out->image_bytes = len;
	return 0;
}

unsigned vm_e820_build(uint64_t ram_bytes, struct vm_e820 *out, unsigned max)
{
	struct vm_e820 e[5];
	unsigned n = 0;
	uint64_t low = ram_bytes < VM_HOLE ? ram_bytes : VM_HOLE;
	e[n++] = (struct vm_e820){0, VM_EBDA, E820_RAM};
	e[n++] = (struct vm_e820){VM_EBDA, VM_LOWMEM_END - VM_EBDA, E820_RESERVED};
	e[n++] = (struct vm_e820){VM_ACPI, VM_ACPI_END - VM_ACPI, E820_RESERVED};
	if (low > VM_KERNEL)
		e[n++] = (struct vm_e820){VM_KERNEL, low - VM_KERNEL, E820_RAM};
	if (ram_bytes > VM_HOLE)
		e[n++] = (struct vm_e820){VM_HIGH, ram_bytes - VM_HOLE, E820_RAM};
	if (n > max)
		n = max;
	memcpy(out, e, n * sizeof(e[0]));
	return n;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

int vm_bzimage_load(const struct vm_bzimage *bz, const struct kvm_vm *mem, uint64_t ram_bytes,
		    const char *cmdline, const void *initrd, size_t initrd_bytes, uint64_t rsdp,
		    struct vm_boot *boot, struct vlab_err *err)
{
	uint64_t low = ram_bytes < VM_HOLE ? ram_bytes : VM_HOLE;
	size_t clen = strlen(cmdline);
	if (clen > bz->cmdline_size)
		return vlab_err_set(
		    err, E2BIG,
		    "the kernel command line is %zu bytes; this kernel accepts at most %u", clen,
		    bz->cmdline_size);

	/* Room to decompress: a relocatable kernel loaded below its preferred
	 * address moves there first, then needs init_size bytes. */
	uint64_t base = VM_KERNEL;
	if (bz->relocatable && bz->pref_address > base)
		base = bz->pref_address;
	/* compared without adding: pref_address comes from the file and
	 * base + init_size could wrap past 2^64 */
	if (base > low || bz->init_size > low - base)
		return vlab_err_set(err, ENOMEM,
				    "this kernel needs %llu MiB of RAM to decompress and start "
				    "(from %#llx); the VM has %llu MiB",
				    (unsigned long long)(base / MIB + (bz->init_size + MIB - 1) / MIB),
				    (unsigned long long)base, (unsigned long long)(ram_bytes / MIB));
	uint64_t need = base + bz->init_size;

	uint8_t *kern = kvm_gpa(mem, VM_KERNEL, bz->kernel_bytes);
	uint8_t *zp = kvm_gpa(mem, VM_ZEROPAGE, 4096);
	char *cl = kvm_gpa(mem, VM_CMDLINE, clen + 1);
	if (!kern || !zp || !cl)
		return vlab_err_set(err, EFAULT,
				    "kernel, zero page or command line outside guest RAM");
	memcpy(kern, bz->kernel, bz->kernel_bytes);
	memcpy(cl, cmdline, clen + 1);

	memset(boot, 0, sizeof(*boot));
	if (initrd && initrd_bytes) {
		/* At the top of low RAM, below the kernel's limit, page aligned,
		 * clear of the kernel's room. */
		uint64_t top = low;
		if ((uint64_t)bz->initrd_addr_max + 1 < top)
			top = (uint64_t)bz->initrd_addr_max + 1;
		uint64_t at = initrd_bytes <= top ? (top - initrd_bytes) & ~0xfffull : 0;
		uint8_t *p = at ? kvm_gpa(mem, at, initrd_bytes) : NULL;
		if (!p || at < need)
			return vlab_err_set(err, ENOMEM,
					    "the initramfs (%llu MiB) does not fit in RAM beside "
					    "the kernel (%llu MiB of RAM)",
					    (unsigned long long)((initrd_bytes + MIB - 1) / MIB),
					    (unsigned long long)(ram_bytes / MIB));
		memcpy(p, initrd, initrd_bytes);
		boot->initrd_gpa = at;
		boot->initrd_bytes = initrd_bytes;
	}

	/* The zero page: the image's own setup header, then what a boot
	 * loader must fill in. */
	memset(zp, 0, 4096);
	size_t hdr_end = H_JUMP + 2 + bz->image[H_JUMP + 1];
	if (hdr_end > HDR_END_MAX)
		hdr_end = HDR_END_MAX;
	memcpy(zp + BP_HDR, bz->image + BP_HDR, hdr_end - BP_HDR);
	zp[BP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	zp[BP_LOADFLAGS] |= CAN_USE_HEAP;
	zp[BP_HEAP_END] = 0x00;
	zp[BP_HEAP_END + 1] = 0xfe;
	wr32(zp + BP_CMD_LINE_PTR, (uint32_t)VM_CMDLINE);
	wr32(zp + BP_RAMDISK_IMAGE, (uint32_t)boot->initrd_gpa);
	wr32(zp + BP_RAMDISK_SIZE, (uint32_t)boot->initrd_bytes);
	wr32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(boot->initrd_gpa >> 32));
	wr32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)boot->initrd_bytes >> 32));
	memcpy(zp + BP_ACPI_RSDP, &rsdp, 8);
	struct vm_e820 map[VM_E820_MAX];
	unsigned n = vm_e820_build(ram_bytes, map, VM_E820_MAX);
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;
		memcpy(e, &map[i].addr, 8);
		memcpy(e + 8, &map[i].size, 8);
		memcpy(e + 16, &map[i].type, 4);
	}
	boot->entry = VM_KERNEL + 0x200;
	boot->zeropage = VM_ZEROPAGE;
	return 0;
}
