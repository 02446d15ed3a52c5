/* engines/vm/bzimage.h: the Linux x86 boot protocol (Documentation/arch/
 * x86/boot.rst), as a boot loader does it, for the 64-bit entry point.
 *
 * A bzImage is a real-mode setup part (the first setup_sects + 1 sectors,
 * with the setup header at 0x1f1) followed by the protected-mode kernel.
 * We check the header ("HdrS", 0xaa55, version >= 2.12, a 64-bit entry),
 * and every size it states against the file, so a truncated or foreign
 * file is refused with what is wrong and where.  Loading puts the
 * protected-mode part at 1 MiB, the initramfs at the top of low RAM,
 * the command line and the zero page (boot_params with our e820 map) low,
 * and the vCPU then starts at 1 MiB + 0x200 with RSI = the zero page. */
#ifndef VLAB_ENGINES_VM_BZIMAGE_H
#define VLAB_ENGINES_VM_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/kvm/kvm.h"

#define VM_BOOT_MIN_VERSION 0x020c /* 2.12: xloadflags, the 64-bit entry */
#define VM_E820_MAX 128
#define E820_RAM 1
#define E820_RESERVED 2

struct vm_bzimage {
	uint16_t version;
	uint8_t setup_sects, loadflags, relocatable;
	uint16_t xloadflags;
	uint32_t cmdline_size;	  /* longest command line, without its NUL */
	uint32_t initrd_addr_max; /* highest byte the initramfs may use */
	uint32_t init_size;	  /* bytes the kernel needs from its load address */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	size_t setup_bytes;    /* the real-mode part */
	const uint8_t *kernel; /* the protected-mode part, inside the image */
	size_t kernel_bytes;
	const uint8_t *image;
	size_t image_bytes;
};

/* Parses and checks the bzImage in img (len bytes); out points into img.
 * name is used in messages. */
int vm_bzimage_parse(const uint8_t *img, size_t len, const char *name, struct vm_bzimage *out,
		     struct vlab_err *err);

struct vm_e820 {
	uint64_t addr, size;
	uint32_t type;
};

/* The e820 map of a VM with ram_bytes of RAM: low RAM (below the EBDA),
 * the reserved BIOS/ACPI areas, RAM from 1 MiB to the PCI hole and, past
 * 4 GiB, the rest.  Returns the number of entries (<= max). */
unsigned vm_e820_build(uint64_t ram_bytes, struct vm_e820 *out, unsigned max);

struct vm_boot {
	uint64_t entry;	     /* 64-bit entry point */
	uint64_t zeropage;   /* boot_params, for RSI */
	uint64_t initrd_gpa; /* 0 without an initramfs */
	uint64_t initrd_bytes;
};

/* Writes the kernel, the initramfs (optional), the command line and the
 * zero page into guest memory mem (ram_bytes of RAM in the layout.h map).
 * rsdp is the ACPI root pointer's address (0: none).  Fails, saying why,
 * when something does not fit: the command line for this kernel, the
 * kernel's decompression room or the initramfs in RAM. */
int vm_bzimage_load(const struct vm_bzimage *bz, const struct kvm_vm *mem, uint64_t ram_bytes,
		    const char *cmdline, const void *initrd, size_t initrd_bytes, uint64_t rsdp,
		    struct vm_boot *boot, struct vlab_err *err);

/* boot_params offsets we fill (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0

#endif
