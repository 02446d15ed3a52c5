/* engines/vm/vcpu.c: one thread per vCPU: KVM_RUN, then dispatch the
 * exit (port and MMIO accesses to the I/O registry; shutdowns and
 * failures stop the machine), count it, and go again.
 *
 * A vCPU blocked in KVM_RUN is kicked out with a signal (SIGUSR1, a no-op
 * handler); kvm_run->immediate_exit closes the race where the signal lands
 * just before KVM_RUN is entered. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "engines/vm/machine.h"

#define KICK_SIGNAL SIGUSR1

static void on_kick(int sig)
{
	(void)sig;
}

static int stopping(struct vm_machine *m)
{
	return __atomic_load_n(&m->stop, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

static void io_exit(struct vm_machine *m, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	int out = run->io.direction == KVM_EXIT_IO_OUT;
	/* String I/O (rep ins/outs) arrives as count accesses in one exit. */
	for (uint32_t i = 0; i < run->io.count && !stopping(m); i++)
		vm_iobus_access(&m->bus, VM_PIO, run->io.port, data + i * run->io.size,
				run->io.size, out);
}

/* Where the vCPU was, for messages. */
static unsigned long long rip(struct kvm_vcpu *v)
{
	struct kvm_regs r;
	return ioctl(v->fd, KVM_GET_REGS, &r) == 0 ? (unsigned long long)r.rip : 0;
}

/* The first bytes of the instruction at rip, as hex, for messages: the
 * guest's page tables translate rip (KVM_TRANSLATE), kvm_gpa() checks. */
static void insn_bytes(struct kvm_vcpu *v, char *out, size_t len)
{
	struct kvm_regs r;
	struct kvm_translation t = {0};
	out[0] = '\0';
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return;
	t.linear_address = r.rip;
	if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return;
	unsigned n = 8 - (unsigned)(t.physical_address & 7); /* stay in one page */
	const uint8_t *p = kvm_gpa(v->vm, t.physical_address, n);
	for (unsigned i = 0; p && i < n && (size_t)(3 * i + 4) < len; i++)
		snprintf(out + 3 * i, len - 3 * i, "%02x ", p[i]);
	if (out[0])
		out[strlen(out) - 1] = '\0';
}

/* Handles one exit; returns 0 to run again, -1 once the machine stops. */
static int handle(struct vm_machine *m, struct kvm_vcpu *v, int reason)
{
	struct kvm_run *run = v->run;
	char why[256];
	switch (reason) {
	case KVM_EXIT_IO:
		io_exit(m, run);
		return 0;
	case KVM_EXIT_MMIO:
		vm_iobus_access(&m->bus, VM_MMIO, run->mmio.phys_addr, run->mmio.data,
				run->mmio.len, run->mmio.is_write);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel local APIC; ours has one. */
		return 0;
	case KVM_EXIT_SHUTDOWN:
		snprintf(why, sizeof(why), "vCPU %u shut down (triple fault) at rip %#llx", v->id,
			 rip(v));
		vm_machine_stop(m, VM_STOP_TRIPLE_FAULT, why);
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			vm_machine_stop(m, VM_STOP_POWEROFF, "the guest powered off");
		} else if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			vm_machine_stop(m, VM_STOP_REBOOT, "the guest reset the machine");
		} else {
			snprintf(why, sizeof(why), "vCPU %u: system event %u", v->id,
				 run->system_event.type);
			vm_machine_stop(m, VM_STOP_ERROR, why);
		}
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
			char bytes[40];
			insn_bytes(v, bytes, sizeof(bytes));
			snprintf(why, sizeof(why),
				 "vCPU %u: KVM could not emulate the instruction at rip %#llx "
				 "(bytes %s): this host's KVM emulates guest kernel code and lacks "
				 "it (cpu_template=conservative hides what it can; backend=tcg "
				 "emulates everything)",
				 v->id, rip(v), bytes[0] ? bytes : "unreadable");
		} else
			snprintf(why, sizeof(why), "vCPU %u: KVM internal error %u at rip %#llx",
				 v->id, run->internal.suberror, rip(v));
		vm_machine_stop(m, VM_STOP_ERROR, why);
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why),
			 "vCPU %u: the CPU refused to enter the guest (reason %#llx)", v->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_machine_stop(m, VM_STOP_ERROR, why);
		return -1;
	default:
		snprintf(why, sizeof(why), "vCPU %u: unexpected exit '%s' (%d) at rip %#llx", v->id,
			 kvm_exit_name((unsigned)reason), reason, rip(v));
		vm_machine_stop(m, VM_STOP_ERROR, why);
		return -1;
	}
}

static void *vcpu_main(void *p)
{
	struct vm_vcpu_arg *a = p;
	struct vm_machine *m = a->m;
	struct kvm_vcpu *v = m->vcpu[a->id];
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, KICK_SIGNAL);
	sigdelset(&set, SIGSYS); /* a forbidden call is reported (engines/confine.h) */
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	if (a->id == 0 && m->cfg.child)
		vlab_child_phase(m->cfg.child, "first-insn");
	while (!stopping(m)) {
		struct vlab_err err = {0};
		int r = kvm_vcpu_run(v, &err);
		if (r < 0) {
			vm_machine_stop(m, VM_STOP_ERROR, err.msg);
			break;
		}
		vlab_counter_add(m->counters,
				 m->exit_id[r < KVM_EXIT_BUCKETS ? r : KVM_EXIT_BUCKETS - 1], 1);
		if (handle(m, v, r) < 0)
			break;
	}
	return NULL;
}

int vm_vcpus_start(struct vm_machine *m, struct vlab_err *err)
{
	struct sigaction sa = {.sa_handler = on_kick}; /* no SA_RESTART: KVM_RUN returns */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	for (unsigned i = 0; i < m->cfg.cpus; i++) {
		m->varg[i] = (struct vm_vcpu_arg){.m = m, .id = i};
		int rc = pthread_create(&m->thread[i], NULL, vcpu_main, &m->varg[i]);
		if (rc != 0) {
			vm_machine_stop(m, VM_STOP_ERROR, "could not start the vCPU threads");
			vm_vcpus_join(m);
			return vlab_err_set(err, rc, "start vCPU thread %u", i);
		}
		m->nthreads = i + 1;
	}
	return 0;
}

void vm_vcpus_kick(struct vm_machine *m)
{
	for (unsigned i = 0; i < m->cfg.cpus; i++)
		if (m->vcpu[i])
			__atomic_store_n(&m->vcpu[i]->run->immediate_exit, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < m->nthreads; i++)
		pthread_kill(m->thread[i], KICK_SIGNAL);
}

void vm_vcpus_join(struct vm_machine *m)
{
	for (unsigned i = 0; i < m->nthreads; i++)
		pthread_join(m->thread[i], NULL);
	m->nthreads = 0;
}
