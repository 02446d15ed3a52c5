/* engines/unikernel/elf.h: the unikernel's image: a static x86-64 ELF
 * executable, validated header by header before a byte of it reaches guest
 * RAM.  Every check names what is wrong and where, because a student's
 * broken image deserves a better answer than a triple fault. */
#ifndef VLAB_ENGINES_UNIKERNEL_ELF_H
#define VLAB_ENGINES_UNIKERNEL_ELF_H

#include <stdint.h>

#include "core/err.h"
#include "engines/kvm/kvm.h"

#define UK_ELF_MAX_SEGS 16
#define UK_ELF_MAX_PHDRS 64

struct uk_elf_seg {
	uint64_t vaddr, memsz;	 /* where it goes in guest memory */
	uint64_t offset, filesz; /* what of the file fills it; the rest is zero */
	uint32_t flags;		 /* PF_R | PF_W | PF_X */
};

struct uk_elf {
	uint64_t entry;
	uint64_t lo, hi; /* lowest segment start, highest segment end */
	unsigned nsegs;
	struct uk_elf_seg seg[UK_ELF_MAX_SEGS];
};

/* Checks img[0, len) as a static ELF64 x86-64 executable whose loadable
 * segments lie inside [ram_lo, ram_hi), do not overlap, are backed by the
 * file, and whose entry point is in an executable segment.  Fills *out. */
int uk_elf_parse(const uint8_t *img, uint64_t len, uint64_t ram_lo, uint64_t ram_hi,
		 struct uk_elf *out, struct vlab_err *err);

/* Reads a whole image file of at most max bytes.  The caller frees *img. */
int uk_elf_read(const char *path, uint64_t max, uint8_t **img, uint64_t *len, struct vlab_err *err);

/* Copies the parsed segments of img into guest RAM.  Bytes past a segment's
 * file part are left as they are: fresh guest RAM is zero. */
int uk_elf_load(const struct uk_elf *elf, const uint8_t *img, struct kvm_vm *vm,
		struct vlab_err *err);

#endif
