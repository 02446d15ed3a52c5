/* tests/unit/engines/vm/test_acpi_cpuid.c: what the guest is told about
 * its machine: ACPI tables that checksum and point at each other (MADT
 * with one local APIC per vCPU, DSDT with \_S5, the PCI host bridge and
 * its routing), and CPUID filtered by the lab's template. */
#include "tests/vtest.h"

#include <stdlib.h>

#include "engines/vm/acpi.h"
#include "engines/vm/cpuid.h"

#define BASE 0xe0000u

static uint8_t buf[0x20000];

/* The table at guest address gpa inside buf. */
static const uint8_t *at(uint64_t gpa)
{
	assert_true(gpa >= BASE && gpa < BASE + sizeof(buf));
	return buf + (gpa - BASE);
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static const uint8_t *table(const uint8_t *xsdt, const char *sig)
{
	for (uint32_t off = 36; off < u32(xsdt + 4); off += 8) {
		const uint8_t *t = at(u64(xsdt + off));
		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

static void test_tables(void **state)
{
	(void)state;
	size_t n = vm_acpi_tables(buf, sizeof(buf), BASE, 3);
	assert_true(n > 0 && n < 0x20000);
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(vm_acpi_sum(buf, 20), 0);
	assert_int_equal(vm_acpi_sum(buf, 36), 0);
	assert_int_equal(buf[15], 2); /* ACPI 2.0+ */
	const uint8_t *xsdt = at(u64(buf + 24));
	assert_memory_equal(xsdt, "XSDT", 4);
	assert_int_equal(vm_acpi_sum(xsdt, u32(xsdt + 4)), 0);

	const uint8_t *fadt = table(xsdt, "FACP");
	assert_non_null(fadt);
	assert_int_equal(vm_acpi_sum(fadt, u32(fadt + 4)), 0);
	assert_int_equal(u32(fadt + 4), 276);	    /* FADT revision 6 */
	assert_false(u32(fadt + 112) & (1u << 20)); /* not hardware-reduced: a PC */
	assert_true(u32(fadt + 112) & (1u << 10));  /* reset register */
	assert_int_equal(fadt[116], 1);		    /* ... in I/O space */
	assert_int_equal(u64(fadt + 120), 0x64);    /* the i8042 */
	assert_int_equal(fadt[128], 0xfe);
	assert_int_equal(u32(fadt + 64), 0x604); /* PM1a control */
	assert_false(u32(fadt + 109) & 2);	 /* no 8042 keyboard */
	const uint8_t *dsdt = at(u64(fadt + 140));
	assert_memory_equal(dsdt, "DSDT", 4);
	assert_int_equal(vm_acpi_sum(dsdt, u32(dsdt + 4)), 0);
	assert_int_equal(u32(fadt + 40), (uint32_t)u64(fadt + 140));
	const uint8_t *facs = at(u64(fadt + 132));
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal((u64(fadt + 132)) % 64, 0);

	/* DSDT: \_S5 and the host bridge, PNP0A03 (EISA ID 0x030ad041), _PRT. */
	uint32_t dlen = u32(dsdt + 4);
	assert_non_null(memmem(dsdt, dlen, "_S5_", 4));
	assert_non_null(memmem(dsdt, dlen, "\x08_HID\x0c\x41\xd0\x0a\x03", 10));
	assert_non_null(memmem(dsdt, dlen, "_CRS", 4));
	assert_non_null(memmem(dsdt, dlen, "_PRT", 4));
	assert_non_null(memmem(dsdt, dlen, "\\_SB_", 5));

	/* MADT: a local APIC per vCPU with APIC ID = vCPU number, one IOAPIC. */
	const uint8_t *madt = table(xsdt, "APIC");
	assert_non_null(madt);
	assert_int_equal(vm_acpi_sum(madt, u32(madt + 4)), 0);
	assert_int_equal(u32(madt + 36), 0xfee00000);
	unsigned lapics = 0, ioapics = 0;
	for (uint32_t off = 44; off < u32(madt + 4); off += madt[off + 1]) {
		assert_true(madt[off + 1] >= 2);
		if (madt[off] == 0) {
			assert_int_equal(madt[off + 3], lapics);
			assert_int_equal(u32(madt + off + 4) & 1, 1);
			lapics++;
		} else if (madt[off] == 1) {
			assert_int_equal(u32(madt + off + 4), 0xfec00000);
			ioapics++;
		}
	}
	assert_int_equal(lapics, 3);
	assert_int_equal(ioapics, 1);

	/* Too small a buffer is refused, not overrun. */
	assert_int_equal(vm_acpi_tables(buf, 200, BASE, 3), 0);
}

static struct kvm_cpuid2 *fake_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(struct kvm_cpuid_entry2));
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 0, .eax = 0xd},
	    {.function = 1,
	     .ebx = 0x00010800,
	     .ecx = (1u << 13) | (1u << 26) | (1u << 28) | 1,
	     .edx = (1u << 6) | 1},
	    {.function = 4, .eax = 0x121},
	    {.function = 7,
	     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	     .ebx = (1u << 5) | (1u << 16) | 1},
	    {.function = 0xb, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .index = 0},
	    {.function = 0xd, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 7},
	    {.function = 0x80000001, .edx = (1u << 20) | (1u << 29)},
	};
	c->nent = sizeof(e) / sizeof(e[0]);
	memcpy(c->entries, e, sizeof(e));
	return c;
}

static void test_cpuid_template(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = fake_cpuid();
	struct vm_cpuid_template t = {.cpus = 2, .pae = 1, .nx = 1};
	vm_cpuid_apply(c, &t, 1);
	struct kvm_cpuid_entry2 *l1 = vm_cpuid_find(c, 1, 0);
	assert_int_equal(l1->ebx >> 24, 1);	     /* APIC ID */
	assert_int_equal((l1->ebx >> 16) & 0xff, 2); /* logical CPUs */
	assert_true(l1->ecx & (1u << 31));	     /* hypervisor present */
	assert_true(l1->ecx & (1u << 13));	     /* full template keeps cx16 */
	assert_true(vm_cpuid_find(c, 0x80000001, 0)->edx & (1u << 20));
	assert_int_equal(vm_cpuid_find(c, 0xb, 0)->edx, 1); /* x2APIC ID */
	assert_int_equal(vm_cpuid_find(c, 4, 0)->eax >> 26, 1);
	free(c);

	/* NX off, the conservative template. */
	c = fake_cpuid();
	t = (struct vm_cpuid_template){.cpus = 1, .pae = 1, .nx = 0, .conservative = 1};
	vm_cpuid_apply(c, &t, 0);
	l1 = vm_cpuid_find(c, 1, 0);
	assert_false(vm_cpuid_find(c, 0x80000001, 0)->edx & (1u << 20));
	assert_true(vm_cpuid_find(c, 0x80000001, 0)->edx & (1u << 29));	      /* long mode stays */
	assert_false(l1->ecx & (1u << 13));				      /* cmpxchg16b */
	assert_false(l1->ecx & (1u << 26));				      /* xsave */
	assert_false(l1->ecx & (1u << 28));				      /* avx */
	assert_true(l1->ecx & 1);					      /* sse3 stays */
	assert_true(l1->edx & (1u << 6));				      /* PAE */
	assert_false(vm_cpuid_find(c, 7, 0)->ebx & ((1u << 5) | (1u << 16))); /* avx2, avx512f */
	assert_null(vm_cpuid_find(c, 0xd, 0)); /* no XSAVE state leaf */
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_cpuid_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
