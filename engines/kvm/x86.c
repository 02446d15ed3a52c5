/* engines/kvm/x86.c: page tables, GDT and registers for a 64-bit start. */
#include "engines/kvm/x86.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

uint64_t kvm_x86_pt_bytes(uint64_t map_bytes)
{
	return (2 + (map_bytes + SZ_1G - 1) / SZ_1G) * 4096;
}

/* An 8-byte code/data descriptor from a kvm_segment. */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	return (limit & 0xffff) | ((s->base & 0xffffffull) << 16) | ((uint64_t)s->type << 40) |
	       ((uint64_t)s->s << 44) | ((uint64_t)s->dpl << 45) | ((uint64_t)s->present << 47) |
	       (((limit >> 16) & 0xf) << 48) | ((uint64_t)s->avl << 52) | ((uint64_t)s->l << 53) |
	       ((uint64_t)s->db << 54) | ((uint64_t)s->g << 55) |
	       (((s->base >> 24) & 0xff) << 56);
}

static struct kvm_segment code_seg(int dpl)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = dpl ? KVM_X86_CS3 : KVM_X86_CS0,
		.type = 0xb, .present = 1, .dpl = (uint8_t)dpl, .s = 1, .l = 1, .g = 1,
	};
}

static struct kvm_segment data_seg(int dpl)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = dpl ? KVM_X86_DS3 : KVM_X86_DS0,
		.type = 0x3, .present = 1, .dpl = (uint8_t)dpl, .s = 1, .db = 1, .g = 1,
	};
}

int kvm_x86_long_mode(struct kvm_vcpu *vcpu, const struct kvm_x86_mode *m, struct vlab_err *err)
{
	const struct kvm_vm *vm = vcpu->vm;
	if (m->map_bytes == 0 || m->map_bytes % SZ_2M || m->map_bytes > 512 * SZ_1G)
		return vlab_err_set(err, EINVAL, "identity map of %#llx bytes: need 2 MiB multiple <= 512 GiB",
				    (unsigned long long)m->map_bytes);
	if (m->cpl != 0 && m->cpl != 3)
		return vlab_err_set(err, EINVAL, "CPL %d: only 0 or 3", m->cpl);
	uint64_t npd = (m->map_bytes + SZ_1G - 1) / SZ_1G;
	uint64_t *pt = kvm_gpa(vm, m->pt_gpa, kvm_x86_pt_bytes(m->map_bytes));
	uint64_t *gdt = kvm_gpa(vm, m->gdt_gpa, KVM_X86_SYS_BYTES);
	if (!pt || !gdt || (m->pt_gpa | m->gdt_gpa) & 0xfff)
		return vlab_err_set(err, EFAULT, "page tables or GDT outside guest RAM or unaligned");

	/* PML4[0] -> PDPT, PDPT[i] -> PD i, PD entries map 2 MiB each. */
	uint64_t us = m->user_pages ? PTE_US : 0;
	memset(pt, 0, kvm_x86_pt_bytes(m->map_bytes));
	uint64_t *pml4 = pt, *pdpt = pt + 512;
	pml4[0] = (m->pt_gpa + 0x1000) | PTE_P | PTE_RW | us;
	for (uint64_t i = 0; i < npd; i++) {
		uint64_t *pd = pt + 512 * (2 + i);
		pdpt[i] = (m->pt_gpa + 0x1000 * (2 + i)) | PTE_P | PTE_RW | us;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t addr = i * SZ_1G + j * SZ_2M;
			if (addr >= m->map_bytes)
				break;
			pd[j] = addr | PTE_P | PTE_RW | PTE_PS | us;
		}
	}

	struct kvm_segment cs = code_seg(m->cpl), ds = data_seg(m->cpl);
	struct kvm_segment k_cs = code_seg(0), k_ds = data_seg(0);
	struct kvm_segment u_cs = code_seg(3), u_ds = data_seg(3);
	/* TSS at +4 KiB: 104 bytes, then the I/O bitmap (every bit 0: every
	 * port allowed) and the 0xff byte that must end it. */
	uint64_t tss_gpa = m->gdt_gpa + 0x1000;
	uint8_t *tss = (uint8_t *)gdt + 0x1000;
	struct kvm_segment tr = {
		.base = tss_gpa, .limit = 0x68 + 0x2000, .selector = KVM_X86_TSS, .type = 0xb,
		.present = 1,
	};
	memset(gdt, 0, KVM_X86_SYS_BYTES);
	gdt[KVM_X86_CS0 >> 3] = gdt_entry(&k_cs);
	gdt[KVM_X86_DS0 >> 3] = gdt_entry(&k_ds);
	gdt[KVM_X86_CS3 >> 3] = gdt_entry(&u_cs);
	gdt[KVM_X86_DS3 >> 3] = gdt_entry(&u_ds);
	gdt[KVM_X86_TSS >> 3] = gdt_entry(&tr);
	gdt[(KVM_X86_TSS >> 3) + 1] = tss_gpa >> 32;
	tss[0x66] = 0x68; /* I/O map base, little endian */
	tss[0x68 + 0x2000] = 0xff;

	struct kvm_sregs sregs;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return vlab_err_set(err, errno, "KVM_GET_SREGS");
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.tr = tr;
	sregs.ldt = (struct kvm_segment){.type = 2, .present = 1, .unusable = 1};
	sregs.gdt.base = m->gdt_gpa;
	sregs.gdt.limit = 0x7ff;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = m->pt_gpa;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA | (m->nx ? EFER_NXE : 0);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return vlab_err_set(err, errno, "KVM_SET_SREGS (64-bit, CPL %d)", m->cpl);

	struct kvm_regs regs = {
		.rip = m->rip,
		.rsp = m->rsp,
		.rflags = 0x2 | ((uint64_t)(m->iopl & 3) << 12),
	};
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return vlab_err_set(err, errno, "KVM_SET_REGS");
	return 0;
}
