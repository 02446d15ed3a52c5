/* engines/vm/cpuid.c: CPUID from KVM, filtered by the lab's template. */
#include "engines/vm/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Leaf 1 */
#define L1_ECX_FMA (1u << 12)
#define L1_ECX_CX16 (1u << 13)
#define L1_ECX_MOVBE (1u << 22)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_F16C (1u << 29)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_PAE (1u << 6)
#define L1_EDX_HTT (1u << 28)
/* Leaf 7, subleaf 0 */
#define L7_EBX_AVX2 (1u << 5)
#define L7_EBX_AVX512 0xdc230000u /* F, DQ, IFMA, PF, ER, CD, BW, VL */
#define L7_ECX_AVX512 0x00005842u /* VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
#define L7_EDX_AVX512 0x0000010cu /* 4VNNIW, 4FMAPS, VP2INTERSECT */
#define L7_EDX_ARCH_CAPS (1u << 29)
/* Leaf 0x80000001 */
#define LX1_EDX_NX (1u << 20)

int vm_cpuid_supported(int sys_fd, struct kvm_cpuid2 **out, struct vlab_err *err)
{
	struct kvm_cpuid2 *c =
	    calloc(1, sizeof(*c) + VM_CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return vlab_err_set(err, ENOMEM, "CPUID table");
	c->nent = VM_CPUID_MAX;
	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int e = errno;
		free(c);
		return vlab_err_set(err, e, "KVM_GET_SUPPORTED_CPUID");
	}
	*out = c;
	return 0;
}

struct kvm_cpuid_entry2 *vm_cpuid_find(struct kvm_cpuid2 *c, unsigned leaf, unsigned index)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == index))
			return &c->entries[i];
	return NULL;
}

/* Drops every entry of leaf (all subleaves). */
static void drop_leaf(struct kvm_cpuid2 *c, unsigned leaf)
{
	unsigned k = 0;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function != leaf)
			c->entries[k++] = c->entries[i];
	c->nent = k;
}

void vm_cpuid_apply(struct kvm_cpuid2 *c, const struct vm_cpuid_template *t, unsigned vcpu)
{
	struct kvm_cpuid_entry2 *e;
	if ((e = vm_cpuid_find(c, 1, 0))) {
		e->ebx = (e->ebx & 0x0000ffffu) | vcpu << 24 | (t->cpus & 0xff) << 16;
		e->ecx |= L1_ECX_HYPERVISOR;
		e->edx = t->cpus > 1 ? e->edx | L1_EDX_HTT : e->edx & ~L1_EDX_HTT;
		if (!t->pae)
			e->edx &= ~L1_EDX_PAE;
		if (t->conservative)
			e->ecx &= ~(L1_ECX_FMA | L1_ECX_CX16 | L1_ECX_MOVBE | L1_ECX_XSAVE |
				    L1_ECX_OSXSAVE | L1_ECX_AVX | L1_ECX_F16C);
	}
	/* Cache topology: cores sharing the package. */
	for (unsigned i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == 4 && (e->eax & 0x1f))
			e->eax = (e->eax & 0x03ffffffu) | ((t->cpus - 1) & 0x3f) << 26;
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu; /* x2APIC ID */
	}
	if ((e = vm_cpuid_find(c, 7, 0)) && t->conservative) {
		e->ebx &= ~(L7_EBX_AVX2 | L7_EBX_AVX512);
		e->ecx &= ~L7_ECX_AVX512;
		e->edx &= ~(L7_EDX_AVX512 | L7_EDX_ARCH_CAPS);
	}
	if (t->conservative)
		drop_leaf(c, 0xd); /* no XSAVE state components */
	if ((e = vm_cpuid_find(c, 0x80000001, 0)) && !t->nx)
		e->edx &= ~LX1_EDX_NX;
}
