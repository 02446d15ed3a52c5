/* engines/kvm/x86.h: put an x86 vCPU straight into 64-bit long mode.
 *
 * Builds identity-mapped page tables (2 MiB pages) and a GDT in guest RAM
 * and loads segment, control and general registers so the first guest
 * instruction runs at rip in 64-bit mode, at CPL 0 (the VM engine's Linux
 * entry) or CPL 3 (the unikernel, which then runs at native speed even on
 * KVM backends that emulate CPL 0).
 *
 * GDT layout: Linux's own (x86_64 __BOOT_CS/__BOOT_DS, __USER_DS,
 * __USER_CS), because the Linux boot protocol wants the first two and
 * shadow-paging backends such as kvm_pvm run guest user mode on the host's
 * own user selectors and refuse any other:
 *   0x10 kernel code, 0x18 kernel data, 0x2b user data, 0x33 user code,
 *   0x40 TSS (16-byte system descriptor). */
#ifndef VLAB_ENGINES_KVM_X86_H
#define VLAB_ENGINES_KVM_X86_H

#include <stdint.h>

#include "engines/kvm/kvm.h"

#define KVM_X86_CS0 0x10
#define KVM_X86_DS0 0x18
#define KVM_X86_DS3 0x2b
#define KVM_X86_CS3 0x33
#define KVM_X86_TSS 0x40

/* Bytes needed at gdt_gpa: the GDT page and the TSS with its 8 KiB I/O
 * bitmap.  Some KVM backends check the bitmap even when IOPL is 3, so the
 * bitmap, not IOPL alone, is what lets CPL 3 code use in/out. */
#define KVM_X86_SYS_BYTES 0x4000

struct kvm_x86_mode {
	uint64_t pt_gpa;    /* page tables: 2 + ceil(map_bytes / 1 GiB) pages */
	uint64_t gdt_gpa;   /* KVM_X86_SYS_BYTES: GDT, then a TSS whose I/O
			     * bitmap allows every port */
	uint64_t map_bytes; /* identity map [0, map_bytes), 2 MiB pages */
	int cpl;            /* 0 or 3 */
	int iopl;           /* RFLAGS.IOPL: 3 lets CPL 3 code use in/out */
	int user_pages;     /* set U/S on every page (needed for CPL 3) */
	int nx;             /* EFER.NXE */
	uint64_t rip, rsp;
};

/* Number of bytes the page tables for map_bytes need at pt_gpa. */
uint64_t kvm_x86_pt_bytes(uint64_t map_bytes);

/* Writes page tables and GDT into guest RAM and loads sregs and regs.
 * Fails when a table would fall outside guest RAM or map_bytes is not a
 * multiple of 2 MiB or exceeds 512 GiB. */
int kvm_x86_long_mode(struct kvm_vcpu *vcpu, const struct kvm_x86_mode *m, struct vlab_err *err);

#endif
