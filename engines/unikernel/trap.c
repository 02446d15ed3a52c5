/* engines/unikernel/trap.c: guest faults, explained.
 *
 * The guest runs at CPL 3 with no operating system below it, so a fault
 * (page fault, general protection, invalid opcode ...) has nowhere to go.
 * Without help it escalates to a triple fault and all the monitor learns is
 * "shutdown".  So the monitor writes 32 exception vectors into guest RAM,
 * each pointing at a four-instruction stub that reports its vector through
 * UK_TRAP_PORT; the CPU has already pushed the faulting rip, rsp and error
 * code on the exception stack, and CR2 holds a page fault's address.  The
 * stubs run at CPL 0, which shadow-paging KVM backends emulate slowly, but
 * only on the way to stopping the guest. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engines/kvm/x86.h"
#include "engines/unikernel/monitor.h"

#define NVEC 32
#define STUB_BYTES 16
#define GATE_INTR 0xe
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_RSVD (1u << 3)
#define PF_FETCH (1u << 4)

static const char *const vec_names[NVEC] = {
    [0] = "divide error (#DE)",
    [1] = "debug exception (#DB)",
    [2] = "non-maskable interrupt",
    [3] = "breakpoint (#BP, int3)",
    [4] = "overflow (#OF)",
    [5] = "bound range exceeded (#BR)",
    [6] = "invalid opcode (#UD)",
    [7] = "device not available (#NM)",
    [8] = "double fault (#DF)",
    [10] = "invalid TSS (#TS)",
    [11] = "segment not present (#NP)",
    [12] = "stack fault (#SS)",
    [13] = "general protection fault (#GP)",
    [14] = "page fault (#PF)",
    [16] = "x87 floating-point error (#MF)",
    [17] = "alignment check (#AC)",
    [18] = "machine check (#MC)",
    [19] = "SIMD floating-point exception (#XM)",
    [20] = "virtualization exception (#VE)",
    [21] = "control protection (#CP)",
};

/* Vectors for which the CPU pushes an error code. */
static int has_error_code(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

int uk_trap_setup(struct uk_monitor *m, struct vlab_err *err)
{
	uint8_t *idt = uk_gpa(m, UK_IDT_GPA, NVEC * 16, "exception vectors", err);
	uint8_t *stubs = uk_gpa(m, UK_TRAP_GPA, NVEC * STUB_BYTES, "exception stubs", err);
	uint8_t *tss = uk_gpa(m, UK_GDT_GPA + 0x1000, 0x68, "TSS", err);
	if (!idt || !stubs || !tss)
		return -1;
	for (int v = 0; v < NVEC; v++) {
		/* mov eax, v; mov dx, UK_TRAP_PORT; out dx, eax; jmp . */
		uint8_t *s = stubs + v * STUB_BYTES;
		uint32_t vec = (uint32_t)v;
		s[0] = 0xb8;
		memcpy(s + 1, &vec, 4);
		s[5] = 0x66;
		s[6] = 0xba;
		s[7] = UK_TRAP_PORT & 0xff;
		s[8] = UK_TRAP_PORT >> 8;
		s[9] = 0xef;
		s[10] = 0xeb;
		s[11] = 0xfe;
		/* 64-bit interrupt gate to the kernel code selector; int3 and
		 * into may be raised from CPL 3 (DPL 3), the rest may not. */
		uint64_t off = UK_TRAP_GPA + (uint64_t)v * STUB_BYTES;
		uint64_t dpl = (v == 3 || v == 4) ? 3 : 0;
		uint64_t lo = (off & 0xffff) | ((uint64_t)KVM_X86_CS0 << 16) |
			      ((uint64_t)(0x80 | dpl << 5 | GATE_INTR) << 40) |
			      (((off >> 16) & 0xffff) << 48);
		uint64_t hi = off >> 32;
		memcpy(idt + v * 16, &lo, 8);
		memcpy(idt + v * 16 + 8, &hi, 8);
	}
	uint64_t rsp0 = UK_TRAP_STACK;
	memcpy(tss + 4, &rsp0, 8); /* TSS.RSP0: the stack exceptions switch to */

	struct kvm_sregs sregs;
	if (ioctl(m->vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return vlab_err_set(err, errno, "KVM_GET_SREGS");
	sregs.idt.base = UK_IDT_GPA;
	sregs.idt.limit = NVEC * 16 - 1;
	if (ioctl(m->vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return vlab_err_set(err, errno, "KVM_SET_SREGS (exception vectors)");
	return 0;
}

/* "hlt", "cli" ... for the privileged instructions a student's guest is
 * likely to try, from the bytes at rip; "" when unknown. */
static const char *privileged_insn(const uint8_t *p)
{
	if (!p)
		return "";
	switch (p[0]) {
	case 0xf4:
		return "hlt";
	case 0xfa:
		return "cli";
	case 0xfb:
		return "sti";
	case 0xe4:
	case 0xe5:
	case 0xec:
	case 0xed:
		return "in";
	case 0x0f:
		switch (p[1]) {
		case 0x01:
			return "lgdt/lidt/sgdt-family";
		case 0x20:
		case 0x22:
			return "mov to/from a control register";
		case 0x30:
			return "wrmsr";
		case 0x32:
			return "rdmsr";
		case 0x06:
			return "clts";
		case 0x09:
			return "wbinvd";
		case 0x00:
			return "lldt/ltr-family";
		default:
			return "";
		}
	default:
		return "";
	}
}

static int triple_fault(struct uk_monitor *m, struct vlab_err *err)
{
	struct kvm_regs regs;
	if (ioctl(m->vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return vlab_err_set(err, 0, "guest stopped: triple fault");
	return vlab_err_set(err, 0,
			    "guest stopped: triple fault near rip %#llx rsp %#llx (a fault its "
			    "exception vectors could not report: did it overwrite guest memory "
			    "below %#llx?)",
			    (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
			    (unsigned long long)UK_IMAGE_MIN);
}

int uk_trap_explain(struct uk_monitor *m, int vector, struct vlab_err *err)
{
	if (vector < 0 || vector >= NVEC)
		return triple_fault(m, err);
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(m->vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(m->vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return vlab_err_set(err, errno, "guest fault %d: read registers", vector);
	/* The frame the CPU pushed on the exception stack:
	 * [error code] rip cs rflags rsp ss. */
	int ec = has_error_code(vector);
	uint64_t frame[6] = {0};
	const void *f = kvm_gpa(m->vm, regs.rsp, (ec ? 6 : 5) * 8);
	if (!f)
		return vlab_err_set(err, 0, "guest stopped: %s with an unreadable exception frame",
				    vec_names[vector] ? vec_names[vector] : "exception");
	memcpy(frame + (ec ? 0 : 1), f, (ec ? 6 : 5) * 8);
	uint64_t code = frame[0], rip = frame[1], rsp = frame[4];
	const char *name = vec_names[vector] ? vec_names[vector] : "reserved exception";
	char what[200] = "";
	if (vector == 14) {
		uint64_t a = sregs.cr2;
		const char *kind = code & PF_FETCH   ? "instruction fetch from"
				   : code & PF_WRITE ? "write to"
						     : "read from";
		snprintf(what, sizeof(what), ": %s %s address %#" PRIx64, kind,
			 code & PF_RSVD	     ? "a malformed page-table entry for"
			 : code & PF_PRESENT ? "protected"
					     : "unmapped",
			 a);
		if (a >= m->mem_bytes)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 " (guest RAM ends at %#" PRIx64 ")", m->mem_bytes);
	} else if (vector == 13) {
		const char *insn = privileged_insn(kvm_gpa(m->vm, rip, 2));
		if (*insn)
			snprintf(what, sizeof(what),
				 ": privileged instruction %s at CPL 3 (the guest must stop "
				 "through the exit hypercall)",
				 insn);
		else if (code)
			snprintf(what, sizeof(what), " (error code %#" PRIx64 ")", code);
	} else if (ec && code) {
		snprintf(what, sizeof(what), " (error code %#" PRIx64 ")", code);
	}
	return vlab_err_set(err, 0, "guest stopped: %s at rip %#" PRIx64 " rsp %#" PRIx64 "%s",
			    name, rip, rsp, what);
}
