/* engines/unikernel/elf.c: validate and load the unikernel's ELF image. */
#include "engines/unikernel/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A refusal: the message says it all (no strerror suffix); the code says
 * "bad image" to callers. */
static int bad(struct vlab_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct vlab_err *err, const char *fmt, ...)
{
	char msg[VLAB_ERR_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vlab_err_set(err, 0, "%s", msg);
	if (err)
		err->code = ENOEXEC;
	return -1;
}

static const char *ptype_name(uint32_t t)
{
	switch (t) {
	case PT_NULL:
		return "PT_NULL";
	case PT_LOAD:
		return "PT_LOAD";
	case PT_DYNAMIC:
		return "PT_DYNAMIC";
	case PT_INTERP:
		return "PT_INTERP";
	case PT_NOTE:
		return "PT_NOTE";
	case PT_PHDR:
		return "PT_PHDR";
	case PT_TLS:
		return "PT_TLS";
	case PT_GNU_STACK:
		return "PT_GNU_STACK";
	case PT_GNU_RELRO:
		return "PT_GNU_RELRO";
	case PT_GNU_PROPERTY:
		return "PT_GNU_PROPERTY";
	default:
		return "segment";
	}
}

static int check_ehdr(const Elf64_Ehdr *eh, uint64_t len, struct vlab_err *err)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return bad(err, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return bad(err, "ELF class %u: need 64-bit (ELFCLASS64)", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(err, "ELF data encoding %u: need little endian", eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return bad(err, "ELF version %u: need %u", eh->e_version, EV_CURRENT);
	if (eh->e_machine != EM_X86_64)
		return bad(err, "ELF machine %u: need x86-64 (%u)", eh->e_machine, EM_X86_64);
	if (eh->e_type == ET_DYN)
		return bad(err, "position-independent (ET_DYN) image: need a static executable "
				"linked at a fixed address (ET_EXEC)");
	if (eh->e_type != ET_EXEC)
		return bad(err, "ELF type %u: need an executable (ET_EXEC)", eh->e_type);
	if (eh->e_ehsize < sizeof(Elf64_Ehdr))
		return bad(err, "ELF header size %u: need %zu", eh->e_ehsize, sizeof(Elf64_Ehdr));
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return bad(err, "program header size %u: need %zu", eh->e_phentsize,
			   sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return bad(err, "no program headers: nothing to load");
	if (eh->e_phnum > UK_ELF_MAX_PHDRS)
		return bad(err, "%u program headers: at most %d", eh->e_phnum, UK_ELF_MAX_PHDRS);
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > len || table > len - eh->e_phoff)
		return bad(err,
			   "program header table [%#llx, +%#llx) lies outside the file "
			   "(%#llx bytes): truncated?",
			   (unsigned long long)eh->e_phoff, (unsigned long long)table,
			   (unsigned long long)len);
	if (eh->e_phoff % 8)
		return bad(err, "program header table offset %#llx is not aligned",
			   (unsigned long long)eh->e_phoff);
	return 0;
}

/* One PT_LOAD: inside the file, inside RAM, sizes sane. */
static int check_load(unsigned i, const Elf64_Phdr *ph, uint64_t len, uint64_t ram_lo,
		      uint64_t ram_hi, struct vlab_err *err)
{
	unsigned long long off = ph->p_offset, fsz = ph->p_filesz, va = ph->p_vaddr,
			   msz = ph->p_memsz;
	if (fsz > msz)
		return bad(err,
			   "program header %u (PT_LOAD): file size %#llx exceeds memory "
			   "size %#llx",
			   i, fsz, msz);
	if (off > len || fsz > len - off)
		return bad(err,
			   "program header %u (PT_LOAD): file bytes [%#llx, %#llx%s) lie "
			   "outside the file (%#llx bytes): truncated image?",
			   i, off, off + fsz, off + fsz < off ? ", wrapping" : "",
			   (unsigned long long)len);
	if (va + msz < va)
		return bad(err,
			   "program header %u (PT_LOAD): address %#llx + size %#llx wraps "
			   "past 2^64",
			   i, va, msz);
	if (va < ram_lo || va + msz > ram_hi)
		return bad(err,
			   "program header %u (PT_LOAD): segment [%#llx, %#llx) lies outside "
			   "the guest RAM an image may use [%#llx, %#llx)",
			   i, va, va + msz, (unsigned long long)ram_lo, (unsigned long long)ram_hi);
	if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)))
		return bad(err,
			   "program header %u (PT_LOAD): alignment %#llx is not a power of two", i,
			   (unsigned long long)ph->p_align);
	return 0;
}

int uk_elf_parse(const uint8_t *img, uint64_t len, uint64_t ram_lo, uint64_t ram_hi,
		 struct uk_elf *out, struct vlab_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < sizeof(Elf64_Ehdr))
		return bad(err, "%llu bytes: too short for an ELF header (%zu bytes): truncated?",
			   (unsigned long long)len, sizeof(Elf64_Ehdr));
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	if (check_ehdr(&eh, len, err) < 0)
		return -1;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		switch (ph.p_type) {
		case PT_LOAD:
			break;
		case PT_INTERP:
		case PT_DYNAMIC:
			return bad(err,
				   "program header %u (%s): dynamically linked; the "
				   "unikernel needs a static image",
				   i, ptype_name(ph.p_type));
		case PT_TLS:
			return bad(err,
				   "program header %u (PT_TLS): thread-local storage is not "
				   "supported by the unikernel",
				   i);
		default:
			continue; /* notes, stack flags, properties: nothing to load */
		}
		if (check_load(i, &ph, len, ram_lo, ram_hi, err) < 0)
			return -1;
		if (ph.p_memsz == 0)
			continue;
		for (unsigned j = 0; j < out->nsegs; j++) {
			const struct uk_elf_seg *s = &out->seg[j];
			if (ph.p_vaddr < s->vaddr + s->memsz && s->vaddr < ph.p_vaddr + ph.p_memsz)
				return bad(err,
					   "program header %u (PT_LOAD): segment [%#llx, "
					   "%#llx) overlaps an earlier one at [%#llx, %#llx)",
					   i, (unsigned long long)ph.p_vaddr,
					   (unsigned long long)(ph.p_vaddr + ph.p_memsz),
					   (unsigned long long)s->vaddr,
					   (unsigned long long)(s->vaddr + s->memsz));
		}
		if (out->nsegs == UK_ELF_MAX_SEGS)
			return bad(err, "more than %d loadable segments", UK_ELF_MAX_SEGS);
		out->seg[out->nsegs++] = (struct uk_elf_seg){
		    .vaddr = ph.p_vaddr,
		    .memsz = ph.p_memsz,
		    .offset = ph.p_offset,
		    .filesz = ph.p_filesz,
		    .flags = ph.p_flags,
		};
		if (out->nsegs == 1 || ph.p_vaddr < out->lo)
			out->lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > out->hi)
			out->hi = ph.p_vaddr + ph.p_memsz;
	}
	if (out->nsegs == 0)
		return bad(err, "no loadable (PT_LOAD) segment");
	for (unsigned j = 0; j < out->nsegs; j++) {
		const struct uk_elf_seg *s = &out->seg[j];
		if (eh.e_entry >= s->vaddr && eh.e_entry - s->vaddr < s->memsz) {
			if (!(s->flags & PF_X))
				return bad(err,
					   "entry point %#llx is in a segment that is not "
					   "executable",
					   (unsigned long long)eh.e_entry);
			out->entry = eh.e_entry;
			return 0;
		}
	}
	return bad(err, "entry point %#llx is outside every loadable segment",
		   (unsigned long long)eh.e_entry);
}

int uk_elf_read(const char *path, uint64_t max, uint8_t **img, uint64_t *len, struct vlab_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open image %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		vlab_err_set(err, errno, "stat image %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		vlab_err_set(err, EINVAL, "image %s is not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		vlab_err_set(err, EFBIG,
			     "image %s is %lld bytes: larger than guest RAM allows (%llu)", path,
			     (long long)st.st_size, (unsigned long long)max);
		goto fail;
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		vlab_err_set(err, ENOMEM, "image %s", path);
		goto fail;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vlab_err_set(err, n < 0 ? errno : EIO, "read image %s", path);
			free(buf);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*img = buf;
	*len = got;
	return 0;
fail:
	close(fd);
	return -1;
}

int uk_elf_load(const struct uk_elf *elf, const uint8_t *img, struct kvm_vm *vm,
		struct vlab_err *err)
{
	for (unsigned i = 0; i < elf->nsegs; i++) {
		const struct uk_elf_seg *s = &elf->seg[i];
		uint8_t *dst = kvm_gpa(vm, s->vaddr, s->memsz);
		if (!dst)
			return vlab_err_set(
			    err, EFAULT, "segment at %#llx (%#llx bytes) is outside guest RAM",
			    (unsigned long long)s->vaddr, (unsigned long long)s->memsz);
		memcpy(dst, img + s->offset, s->filesz);
	}
	return 0;
}
