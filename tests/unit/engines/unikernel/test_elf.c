/* tests/unit/engines/unikernel/test_elf.c: the unikernel's image checks,
 * on ELF files built byte by byte: every malformed header is refused with
 * a message naming what is wrong and where. */
#include "tests/vtest.h"

#include <elf.h>
#include <errno.h>

#include "engines/unikernel/elf.h"

#define LO 0x100000ull
#define HI (63ull << 20)
#define FILE_BYTES 0x3000

struct img {
	uint8_t b[FILE_BYTES];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	uint64_t len;
};

/* A good image: code at 0x100000 (file 0x1000..0x1800), data+bss at
 * 0x102000 (file 0x2000..0x2100, 0x1000 in memory), a GNU_STACK note. */
static void good(struct img *m)
{
	memset(m, 0, sizeof(*m));
	m->eh = (Elf64_Ehdr *)m->b;
	m->ph = (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr));
	m->len = FILE_BYTES;
	memcpy(m->eh->e_ident, ELFMAG, SELFMAG);
	m->eh->e_ident[EI_CLASS] = ELFCLASS64;
	m->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh->e_ident[EI_VERSION] = EV_CURRENT;
	m->eh->e_type = ET_EXEC;
	m->eh->e_machine = EM_X86_64;
	m->eh->e_version = EV_CURRENT;
	m->eh->e_entry = 0x100010;
	m->eh->e_phoff = sizeof(Elf64_Ehdr);
	m->eh->e_ehsize = sizeof(Elf64_Ehdr);
	m->eh->e_phentsize = sizeof(Elf64_Phdr);
	m->eh->e_phnum = 3;
	m->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_flags = PF_R | PF_X,
				.p_offset = 0x1000,
				.p_vaddr = 0x100000,
				.p_paddr = 0x100000,
				.p_filesz = 0x800,
				.p_memsz = 0x800,
				.p_align = 0x1000};
	m->ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_flags = PF_R | PF_W,
				.p_offset = 0x2000,
				.p_vaddr = 0x102000,
				.p_paddr = 0x102000,
				.p_filesz = 0x100,
				.p_memsz = 0x1000,
				.p_align = 0x1000};
	m->ph[2] = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
	memset(m->b + 0x1000, 0x90, 0x800);
	memset(m->b + 0x2000, 0xab, 0x100);
}

/* Parses m and expects a refusal whose message contains every needle. */
static void refused(struct img *m, const char *n1, const char *n2)
{
	struct uk_elf elf;
	struct vlab_err err = {0};
	int r = uk_elf_parse(m->b, m->len, LO, HI, &elf, &err);
	if (r == 0)
		fail_msg("accepted a bad image (expected '%s')", n1);
	assert_int_equal(err.code, ENOEXEC);
	if (!strstr(err.msg, n1) || (n2 && !strstr(err.msg, n2)))
		fail_msg("message '%s' lacks '%s'%s%s", err.msg, n1, n2 ? " or " : "",
			 n2 ? n2 : "");
}

static void test_good_image(void **state)
{
	(void)state;
	struct img m;
	struct uk_elf elf;
	struct vlab_err err = {0};
	good(&m);
	if (uk_elf_parse(m.b, m.len, LO, HI, &elf, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(elf.nsegs, 2);
	assert_int_equal(elf.entry, 0x100010);
	assert_int_equal(elf.lo, 0x100000);
	assert_int_equal(elf.hi, 0x103000);
	assert_int_equal(elf.seg[1].filesz, 0x100);
	assert_int_equal(elf.seg[1].memsz, 0x1000);
}

static void test_header(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.len = 20;
	refused(&m, "too short for an ELF header", "truncated");
	good(&m);
	m.b[1] = 'X';
	refused(&m, "not an ELF file", NULL);
	good(&m);
	m.eh->e_ident[EI_CLASS] = ELFCLASS32;
	refused(&m, "64-bit", NULL);
	good(&m);
	m.eh->e_ident[EI_DATA] = ELFDATA2MSB;
	refused(&m, "little endian", NULL);
	good(&m);
	m.eh->e_machine = EM_AARCH64;
	refused(&m, "x86-64", NULL);
	good(&m);
	m.eh->e_type = ET_DYN;
	refused(&m, "position-independent", "static");
	good(&m);
	m.eh->e_type = ET_REL;
	refused(&m, "ET_EXEC", NULL);
	good(&m);
	m.eh->e_phentsize = 32;
	refused(&m, "program header size 32", NULL);
	good(&m);
	m.eh->e_phnum = 0;
	refused(&m, "no program headers", NULL);
	good(&m);
	m.eh->e_phnum = 1000;
	refused(&m, "1000 program headers", NULL);
}

static void test_header_outside_file(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.eh->e_phoff = FILE_BYTES - 8; /* table runs off the end */
	refused(&m, "program header table", "outside the file");
	good(&m);
	m.eh->e_phoff = UINT64_MAX - 16; /* offset + size wraps */
	refused(&m, "program header table", "outside the file");
	good(&m);
	m.len = sizeof(Elf64_Ehdr) + 10; /* file cut inside the table */
	refused(&m, "outside the file", "truncated");
}

static void test_segment_file_bytes(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.len = 0x2080; /* cut inside segment 1's file bytes */
	refused(&m, "program header 1 (PT_LOAD)", "truncated");
	good(&m);
	m.ph[0].p_offset = UINT64_MAX - 0x100; /* offset + filesz wraps */
	refused(&m, "program header 0 (PT_LOAD)", "outside the file");
	good(&m);
	m.ph[1].p_filesz = 0x2000; /* more in the file than in memory */
	refused(&m, "program header 1", "exceeds memory size");
}

static void test_segment_placement(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.ph[1].p_vaddr = HI - 0x800; /* runs past the end of usable RAM */
	refused(&m, "program header 1", "outside the guest RAM");
	good(&m);
	m.ph[0].p_vaddr = 0x8000; /* over the monitor's page tables and GDT */
	m.eh->e_entry = 0x8010;
	refused(&m, "program header 0", "outside the guest RAM");
	good(&m);
	m.ph[1].p_vaddr = 1ull << 40; /* far outside RAM */
	refused(&m, "program header 1", "outside the guest RAM");
	good(&m);
	m.ph[1].p_vaddr = UINT64_MAX - 0x10; /* address + size wraps */
	refused(&m, "program header 1", "wraps past 2^64");
	good(&m);
	m.ph[1].p_vaddr = 0x100400; /* overlaps segment 0 */
	refused(&m, "program header 1", "overlaps");
	good(&m);
	m.ph[1].p_align = 0x1800;
	refused(&m, "program header 1", "power of two");
}

static void test_segment_kinds(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.ph[2].p_type = PT_INTERP;
	refused(&m, "program header 2 (PT_INTERP)", "static");
	good(&m);
	m.ph[2].p_type = PT_DYNAMIC;
	refused(&m, "PT_DYNAMIC", "static");
	good(&m);
	m.ph[2].p_type = PT_TLS;
	refused(&m, "thread-local storage", NULL);
	good(&m);
	m.ph[0].p_type = PT_NOTE;
	m.ph[1].p_type = PT_NOTE;
	refused(&m, "no loadable", NULL);
}

static void test_entry(void **state)
{
	(void)state;
	struct img m;
	good(&m);
	m.eh->e_entry = 0x200000;
	refused(&m, "entry point 0x200000", "outside every loadable segment");
	good(&m);
	m.eh->e_entry = 0x102010; /* in the data segment */
	refused(&m, "entry point", "not executable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_image),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_header_outside_file),
	    cmocka_unit_test(test_segment_file_bytes),
	    cmocka_unit_test(test_segment_placement),
	    cmocka_unit_test(test_segment_kinds),
	    cmocka_unit_test(test_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
