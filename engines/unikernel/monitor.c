/* engines/unikernel/monitor.c: the unikernel monitor: VM setup, guest
 * memory layout, the run loop and why the guest stopped. */
#include "engines/unikernel/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/kvm/x86.h"

#define MSR_IA32_TSC 0x10

void *uk_gpa(const struct uk_monitor *m, uk_gpa_t gpa, uint64_t len, const char *what,
	     struct vlab_err *err)
{
	void *p = kvm_gpa(m->vm, gpa, len);
	if (!p) {
		if (gpa + len < gpa)
			vlab_err_set(err, 0,
				     "%s at %#" PRIx64 " (%#" PRIx64 " bytes) wraps past 2^64",
				     what, gpa, len);
		else
			vlab_err_set(err, 0,
				     "%s [%#" PRIx64 ", %#" PRIx64
				     ") lies outside guest RAM [0, %#" PRIx64 ")",
				     what, gpa, gpa + len, m->mem_bytes);
	}
	return p;
}

static void phase(struct uk_monitor *m, const char *name, uint64_t ns)
{
	if (m->phase)
		m->phase(m->phase_arg, name, ns);
}

static int check_config(const struct uk_config *cfg, struct vlab_err *err)
{
	if (cfg->mem_bytes < UK_MEM_MIN || cfg->mem_bytes > UK_MEM_MAX ||
	    cfg->mem_bytes % UK_MEM_ALIGN)
		return vlab_err_set(err, EINVAL,
				    "guest memory of %" PRIu64 " bytes: need a multiple of 2 MiB "
				    "between 4 MiB and 2 GiB",
				    cfg->mem_bytes);
	size_t cl = cfg->cmdline ? strlen(cfg->cmdline) : 0;
	if (cl >= UK_CMDLINE_MAX)
		return vlab_err_set(err, E2BIG, "command line of %zu bytes: at most %d", cl,
				    UK_CMDLINE_MAX - 1);
	if (cfg->disk_fd >= 0 && cfg->disk_bytes % 512)
		return vlab_err_set(err, EINVAL, "disk of %" PRIu64 " bytes: not a multiple of 512",
				    cfg->disk_bytes);
	return 0;
}

/* TSC ticks per second, 0 when KVM does not say. */
static uint64_t tsc_hz(const struct uk_monitor *m)
{
	int khz = ioctl(m->vcpu->fd, KVM_GET_TSC_KHZ, 0);
	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

static int write_boot_info(struct uk_monitor *m, const char *cmdline, unsigned devices,
			   struct vlab_err *err)
{
	struct uk_boot_info *bi = uk_gpa(m, UK_BOOT_INFO_GPA, 4096, "boot info", err);
	if (!bi)
		return -1;
	uint64_t cmd_gpa = UK_BOOT_INFO_GPA + 0x100;
	size_t cl = cmdline ? strlen(cmdline) : 0;
	char *cmd = (char *)bi + 0x100;
	memcpy(cmd, cmdline ? cmdline : "", cl);
	cmd[cl] = '\0';
	*bi = (struct uk_boot_info){
	    .magic = UK_BOOT_MAGIC,
	    .abi_version = UK_ABI_VERSION,
	    .mem_size = m->mem_bytes,
	    .image_end = (m->elf.hi + 4095) & ~4095ull,
	    .devices = devices,
	    .cmdline = cmd_gpa,
	    .cmdline_len = cl,
	    .cpus = 1,
	};
	return 0;
}

/* The guest's TSC and the host's clocks, read together, so the guest can
 * tell time without an exit.  Left at 0 (the guest then asks with
 * UK_HC_CLOCK) when KVM will not say the TSC's rate or value. */
static void write_clock_base(struct uk_monitor *m)
{
	struct uk_boot_info *bi = kvm_gpa(m->vm, UK_BOOT_INFO_GPA, sizeof(*bi));
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} msrs = {.h.nmsrs = 1, .e[0].index = MSR_IA32_TSC};
	if (!bi || !m->tsc_hz)
		return;
	uint64_t mono = vlab_now_ns(), wall = vlab_wall_ns();
	if (ioctl(m->vcpu->fd, KVM_GET_MSRS, &msrs) != 1)
		return;
	bi->tsc_hz = m->tsc_hz;
	bi->tsc_base = m->tsc_base = msrs.e[0].data;
	bi->monotonic_base_ns = m->mono_base = mono;
	bi->wall_base_ns = wall;
}

int uk_monitor_new(const struct uk_config *cfg, struct uk_monitor **out, struct vlab_err *err)
{
	if (check_config(cfg, err) < 0)
		return -1;
	struct uk_monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return vlab_err_set(err, ENOMEM, "unikernel monitor");
	m->mem_bytes = cfg->mem_bytes;
	m->console_fd = cfg->console_fd;
	m->control_fd = cfg->control_fd;
	m->disk_fd = cfg->disk_fd;
	m->disk_bytes = cfg->disk_fd >= 0 ? cfg->disk_bytes : 0;
	m->tap_fd = cfg->tap_fd;
	memcpy(m->mac, cfg->mac, sizeof(m->mac));
	m->mtu = cfg->mtu ? cfg->mtu : 1500;
	m->ip = cfg->ip;
	m->netmask = cfg->netmask;
	m->gateway = cfg->gateway;
	m->counters = cfg->counters;
	m->phase = cfg->phase;
	m->phase_arg = cfg->phase_arg;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	for (int i = 0; i < UK_EXIT_IDS; i++)
		m->exit_id[i] = -2;
	for (unsigned i = 0; i < UK_HC_COUNT; i++) {
		char name[VLAB_COUNTER_NAME];
		snprintf(name, sizeof(name), "hc.%s", uk_hcall_name(i));
		m->hc_id[i] = m->counters ? vlab_counters_id(m->counters, name) : -1;
	}
	m->console_dropped_id = -1;
	if (pipe2(m->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		vlab_err_set(err, errno, "stop pipe");
		goto fail;
	}

	/* The image is checked before anything is created for it. */
	if (uk_elf_parse(cfg->image, cfg->image_len, UK_IMAGE_MIN, m->mem_bytes - UK_STACK_BYTES,
			 &m->elf, err) < 0) {
		vlab_err_prefix(err, "unikernel image %s", cfg->image_name ? cfg->image_name : "");
		goto fail;
	}

	/* VM creation. */
	if (kvm_vm_new(&m->vm, err) < 0 ||
	    kvm_vm_add_ram(m->vm, 0, m->mem_bytes, 0, &m->ram, err) < 0 ||
	    kvm_vcpu_new(m->vm, 0, &m->vcpu, err) < 0)
		goto fail;
	phase(m, "kvm", vlab_now_ns());

	/* Image load. */
	if (uk_elf_load(&m->elf, cfg->image, m->vm, err) < 0)
		goto fail;
	m->tsc_hz = tsc_hz(m);
	unsigned devices = 0;
	if (m->console_fd >= 0)
		devices |= UK_DEV_CONSOLE;
	if (m->control_fd >= 0)
		devices |= UK_DEV_CONTROL;
	if (m->disk_fd >= 0)
		devices |= UK_DEV_BLOCK;
	if (m->tap_fd >= 0)
		devices |= UK_DEV_NET;
	if (write_boot_info(m, cfg->cmdline, devices, err) < 0)
		goto fail;
	struct kvm_x86_mode mode = {
	    .pt_gpa = UK_PT_GPA,
	    .gdt_gpa = UK_GDT_GPA,
	    .map_bytes = m->mem_bytes,
	    .cpl = 3,
	    .iopl = 3,
	    .user_pages = 1,
	    .rip = m->elf.entry,
	    .rsp = m->mem_bytes,
	};
	if (kvm_x86_long_mode(m->vcpu, &mode, err) < 0 || uk_trap_setup(m, err) < 0)
		goto fail;
	struct kvm_regs regs = {
	    .rip = m->elf.entry,
	    .rsp = m->mem_bytes,
	    .rdi = UK_BOOT_INFO_GPA,
	    .rflags = 0x2 | (3u << 12),
	};
	if (ioctl(m->vcpu->fd, KVM_SET_REGS, &regs) < 0) {
		vlab_err_set(err, errno, "KVM_SET_REGS");
		goto fail;
	}
	write_clock_base(m);
	phase(m, "load", vlab_now_ns());
	*out = m;
	return 0;
fail:
	uk_monitor_free(m);
	return -1;
}

static void kick(struct uk_monitor *m)
{
	if (m->vcpu)
		m->vcpu->run->immediate_exit = 1; /* KVM_RUN returns at once */
	if (m->stop_pipe[1] >= 0) {
		char c = 's';
		ssize_t r = write(m->stop_pipe[1], &c, 1); /* ends a blocking poll */
		(void)r;
	}
}

void uk_monitor_stop(struct uk_monitor *m, int sig)
{
	if (m->stop_signal)
		m->stop_now = 1;
	else
		m->stop_signal = sig ? sig : SIGTERM;
	kick(m);
}

void uk_monitor_stop_now(struct uk_monitor *m)
{
	if (!m->stop_signal)
		m->stop_signal = SIGTERM;
	m->stop_now = 1;
	kick(m);
}

void uk_monitor_free(struct uk_monitor *m)
{
	if (!m)
		return;
	kvm_vcpu_free(m->vcpu);
	kvm_vm_free(m->vm);
	for (int i = 0; i < 2; i++)
		if (m->stop_pipe[i] >= 0)
			close(m->stop_pipe[i]);
	free(m);
}

static void count_exit(struct uk_monitor *m, unsigned reason)
{
	if (!m->counters)
		return;
	unsigned slot = reason < UK_EXIT_IDS ? reason : UK_EXIT_IDS - 1;
	if (m->exit_id[slot] == -2) {
		char name[VLAB_COUNTER_NAME];
		snprintf(name, sizeof(name), "exit.%s", kvm_exit_name(reason));
		m->exit_id[slot] = vlab_counters_id(m->counters, name);
	}
	vlab_counter_add(m->counters, m->exit_id[slot], 1);
}

/* When the guest ran its first instruction: it stamps rdtsc into the boot
 * info first thing; the clock base converts that to host time.  Falls back
 * to now (the first exit) when the stamp is missing or makes no sense. */
static uint64_t first_insn_ns(struct uk_monitor *m, uint64_t now)
{
	const struct uk_boot_info *bi = kvm_gpa(m->vm, UK_BOOT_INFO_GPA, sizeof(*bi));
	if (!bi || !m->tsc_base || bi->first_tsc < m->tsc_base)
		return now;
	uint64_t ticks = bi->first_tsc - m->tsc_base;
	if (ticks > m->tsc_hz) /* more than a second: not our stamp */
		return now;
	uint64_t ns = m->mono_base + ticks * 1000000000u / m->tsc_hz;
	return ns < now ? ns : now;
}

static int stopped(struct uk_monitor *m, int *status, struct vlab_err *err)
{
	int sig = m->stop_signal;
	*status = 128 + sig;
	return vlab_err_set(err, 0,
			    "unikernel stopped by signal %d (%s): the guest did not exit when "
			    "asked",
			    sig, strsignal(sig));
}

static const char *access_name(const struct kvm_run *run)
{
	return run->mmio.is_write ? "write to" : "read from";
}

int uk_monitor_run(struct uk_monitor *m, int *status, struct vlab_err *err)
{
	struct kvm_run *run = m->vcpu->run;
	*status = 1;
	for (;;) {
		/* A stop request: let the guest run on to see it (its polls
		 * return UK_POLL_STOP), unless it is to stop now.  immediate_exit
		 * is cleared before stop_now is read, so a later request still
		 * interrupts the next KVM_RUN. */
		if (m->stop_signal && !m->stop_seen) {
			m->stop_seen = 1;
			run->immediate_exit = 0;
		}
		if (m->stop_now)
			return stopped(m, status, err);
		int r = kvm_vcpu_run(m->vcpu, err);
		if (r < 0)
			return -1;
		count_exit(m, (unsigned)r);
		if (!m->started && r != KVM_EXIT_INTR) {
			/* Reported before the exit is served: the first exit is
			 * usually READY, and the front end finds every phase in
			 * its events by the time it sees READY. */
			m->started = 1;
			phase(m, "first-insn", first_insn_ns(m, vlab_now_ns()));
		}
		switch (r) {
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_IO: {
			uint32_t value = 0;
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.size <= 4)
				memcpy(&value, (uint8_t *)run + run->io.data_offset, run->io.size);
			if (run->io.port == UK_TRAP_PORT && run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.size == 4 && run->io.count == 1) {
				struct kvm_sregs sregs;
				if (ioctl(m->vcpu->fd, KVM_GET_SREGS, &sregs) == 0 &&
				    sregs.cs.dpl == 0)
					return uk_trap_explain(m, (int)value, err);
			}
			int h = run->io.direction == KVM_EXIT_IO_OUT && run->io.count == 1
				    ? uk_hcall(m, run->io.port, run->io.size, value, err)
				    : -1;
			if (h < 0 && run->io.direction != KVM_EXIT_IO_OUT)
				vlab_err_set(
				    err, 0,
				    "invalid hypercall: `in` from port %#x (hypercalls are "
				    "32-bit `out`s to ports %#x..%#x)",
				    run->io.port, UK_HC_PORT_BASE, UK_HC_PORT(UK_HC_COUNT - 1));
			else if (h < 0 && run->io.count != 1)
				vlab_err_set(err, 0, "invalid hypercall: string `outs` to port %#x",
					     run->io.port);
			if (h < 0) {
				struct kvm_regs regs;
				if (ioctl(m->vcpu->fd, KVM_GET_REGS, &regs) == 0)
					vlab_err_prefix(err, "guest stopped at rip %#llx",
							(unsigned long long)regs.rip);
				return -1;
			}
			if (h == 1) {
				*status = m->exit_status;
				return 0;
			}
			continue;
		}
		case KVM_EXIT_SHUTDOWN:
			return uk_trap_explain(m, -1, err);
		case KVM_EXIT_MMIO:
			return vlab_err_set(err, 0,
					    "guest stopped: %s guest-physical address %#llx, where "
					    "there is no RAM",
					    access_name(run),
					    (unsigned long long)run->mmio.phys_addr);
		case KVM_EXIT_HLT:
			return vlab_err_set(
			    err, 0,
			    "guest stopped: it halted (hlt) instead of calling the exit "
			    "hypercall");
		case KVM_EXIT_FAIL_ENTRY:
			return vlab_err_set(
			    err, EIO,
			    "KVM could not enter the guest (hardware entry failure "
			    "reason %#llx)",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			return vlab_err_set(
			    err, EIO,
			    "KVM internal error (suberror %u) while running the guest: "
			    "an instruction its emulator does not support?",
			    run->internal.suberror);
		default:
			return vlab_err_set(err, EIO,
					    "guest stopped: unexpected KVM exit '%s' (%d)",
					    kvm_exit_name((unsigned)r), r);
		}
	}
}
