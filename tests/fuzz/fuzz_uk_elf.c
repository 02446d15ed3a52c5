/* tests/fuzz/fuzz_uk_elf.c: the unikernel's ELF loader
 * (engines/unikernel/elf.c), which reads an image file a student may have
 * built wrong, or anyone may have made hostile.
 *
 * Input: the image file.  It is checked against the RAM of a 4 MiB guest
 * (what the monitor allows an image: [UK_IMAGE_MIN, 4 MiB - stack)), and
 * when accepted, loaded into a fake guest RAM (one memory slot, no KVM).
 * Properties: a refusal says why; an accepted image has 1..16 segments,
 * each inside the file and inside the allowed RAM, none overlapping,
 * filesz <= memsz, the entry point inside an executable one, lo/hi the
 * true bounds; loading writes exactly the file bytes of each segment. */
#include "tests/fuzz/fuzz.h"

#include <elf.h>
#include <string.h>

#include "engines/unikernel/elf.h"
#include "engines/unikernel/uk_abi.h"

#define RAM UK_MEM_MIN

static uint8_t ram[RAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uk_elf elf;
	struct vlab_err err = {0};
	const uint64_t lo = UK_IMAGE_MIN, hi = RAM - UK_STACK_BYTES;
	if (uk_elf_parse(data, size, lo, hi, &elf, &err) < 0) {
		FUZZ_CHECK(err.msg[0], "refused without a reason");
		return 0;
	}
	FUZZ_CHECK(elf.nsegs >= 1 && elf.nsegs <= UK_ELF_MAX_SEGS, "%u segments", elf.nsegs);
	uint64_t min = UINT64_MAX, max = 0;
	int entry_ok = 0;
	for (unsigned i = 0; i < elf.nsegs; i++) {
		const struct uk_elf_seg *s = &elf.seg[i];
		FUZZ_CHECK(s->filesz <= s->memsz, "segment %u: filesz > memsz", i);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset,
			   "segment %u: file bytes outside the file", i);
		FUZZ_CHECK(s->vaddr >= lo && s->memsz <= hi - s->vaddr && s->vaddr <= hi,
			   "segment %u [%#llx, +%#llx) outside RAM", i,
			   (unsigned long long)s->vaddr, (unsigned long long)s->memsz);
		for (unsigned j = 0; j < i; j++) {
			const struct uk_elf_seg *t = &elf.seg[j];
			FUZZ_CHECK(s->vaddr >= t->vaddr + t->memsz || t->vaddr >= s->vaddr + s->memsz,
				   "segments %u and %u overlap", j, i);
		}
		if (s->vaddr < min)
			min = s->vaddr;
		if (s->vaddr + s->memsz > max)
			max = s->vaddr + s->memsz;
		if (elf.entry >= s->vaddr && elf.entry - s->vaddr < s->memsz && (s->flags & PF_X))
			entry_ok = 1;
	}
	FUZZ_CHECK(entry_ok, "entry %#llx not in an executable segment",
		   (unsigned long long)elf.entry);
	FUZZ_CHECK(elf.lo == min && elf.hi == max, "lo/hi are not the segments' bounds");

	/* Load into a fake guest: RAM [0, 4 MiB) in one slot. */
	struct kvm_vm vm = {.sys_fd = -1, .fd = -1, .nslots = 1};
	vm.slots[0] = (struct kvm_slot){.gpa = 0, .size = RAM, .hva = ram};
	FUZZ_CHECK(uk_elf_load(&elf, data, &vm, &err) == 0, "load failed: %s", err.msg);
	for (unsigned i = 0; i < elf.nsegs; i++) {
		const struct uk_elf_seg *s = &elf.seg[i];
		FUZZ_CHECK(!memcmp(ram + s->vaddr, data + s->offset, s->filesz),
			   "segment %u not loaded as in the file", i);
	}
	return 0;
}
