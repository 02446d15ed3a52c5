/* engines/kvm/probe.c: time a guest loop at CPL 0 and CPL 3. */
#include "engines/kvm/probe.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/clock.h"
#include "engines/kvm/kvm.h"
#include "engines/kvm/x86.h"

#define RAM (2u << 20)
#define PT_GPA 0x1000
#define GDT_GPA 0x8000
#define CODE_GPA 0x10000
#define DONE_PORT 0x10

/* mov rcx, imm64 ; 1: dec rcx ; jnz 1b ; out DONE_PORT, al */
static const uint8_t loop_code[] = {
	0x48, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, /* imm64 at offset 2 */
	0x48, 0xff, 0xc9,                   /* dec rcx */
	0x75, 0xfb,                         /* jnz -5 */
	0xe6, DONE_PORT,                    /* out */
};

/* One run of iters iterations; returns its wall time in *ns. */
static int run_once(struct kvm_vcpu *vcpu, uint8_t *code, const struct kvm_x86_mode *m,
		    uint64_t iters, uint64_t *ns, struct vlab_err *err)
{
	memcpy(code + 2, &iters, 8);
	struct kvm_regs regs = {.rip = CODE_GPA, .rsp = m->rsp,
				.rflags = 0x2 | ((uint64_t)m->iopl << 12)};
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return vlab_err_set(err, errno, "KVM_SET_REGS");
	uint64_t t0 = vlab_now_ns();
	for (;;) {
		int r = kvm_vcpu_run(vcpu, err);
		if (r < 0)
			return -1;
		if (r == KVM_EXIT_INTR)
			continue;
		if (r == KVM_EXIT_IO && vcpu->run->io.port == DONE_PORT)
			break;
		return vlab_err_set(err, EIO, "probe guest at CPL %d stopped with exit '%s' (%d)",
				    m->cpl, kvm_exit_name((unsigned)r), r);
	}
	*ns = vlab_now_ns() - t0;
	return 0;
}

int kvm_measure_loop(int cpl, uint64_t min_run_ns, struct kvm_loop_cost *out,
		     struct vlab_err *err)
{
	struct kvm_vm *vm = NULL;
	struct kvm_vcpu *vcpu = NULL;
	uint8_t *ram;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (kvm_vm_new(&vm, err) < 0)
		return -1;
	if (kvm_vm_add_ram(vm, 0, RAM, 0, &ram, err) < 0 || kvm_vcpu_new(vm, 0, &vcpu, err) < 0)
		goto out;
	memcpy(ram + CODE_GPA, loop_code, sizeof(loop_code));
	struct kvm_x86_mode m = {
		.pt_gpa = PT_GPA, .gdt_gpa = GDT_GPA, .map_bytes = RAM, .cpl = cpl, .iopl = 3,
		.user_pages = cpl == 3, .rip = CODE_GPA, .rsp = RAM - 16,
	};
	if (kvm_x86_long_mode(vcpu, &m, err) < 0)
		goto out;

	/* Exit overhead: the best of a few one-iteration runs (the first
	 * also warms the VM up). */
	uint64_t base = UINT64_MAX, t;
	for (int i = 0; i < 5; i++) {
		if (run_once(vcpu, ram + CODE_GPA, &m, 1, &t, err) < 0)
			goto out;
		if (t < base)
			base = t;
	}
	uint64_t iters = 1000;
	for (;;) {
		if (run_once(vcpu, ram + CODE_GPA, &m, iters, &t, err) < 0)
			goto out;
		if (t >= min_run_ns || iters >= 1000000000ull)
			break;
		uint64_t grow = t > base ? (min_run_ns / (t - base + 1)) + 1 : 10;
		iters *= grow < 2 ? 2 : grow > 10 ? 10 : grow;
	}
	/* Best of three at the final count. */
	for (int i = 0; i < 2; i++) {
		uint64_t t2;
		if (run_once(vcpu, ram + CODE_GPA, &m, iters, &t2, err) < 0)
			goto out;
		if (t2 < t)
			t = t2;
	}
	out->iters = iters;
	out->run_ns = t;
	out->exit_ns = base;
	out->ns_per_iter = t > base ? (double)(t - base) / (double)iters : 0.0;
	rc = 0;
out:
	kvm_vcpu_free(vcpu);
	kvm_vm_free(vm);
	return rc;
}
