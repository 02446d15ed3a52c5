/* engines/unikernel/monitor.h: the unikernel monitor (the "tender", as in
 * Solo5's hvt): one KVM VM with one vCPU running a static ELF at CPL 3, its
 * devices (console, control channel, block, network) reached through the
 * hypercalls of uk_abi.h.
 *
 * The monitor is the trust boundary.  The guest is untrusted: every
 * guest-physical address and length goes through uk_gpa() before the host
 * touches it, and any invalid hypercall stops the guest at once with a
 * message saying what it did wrong.  Guest faults (page fault, general
 * protection, triple fault) also stop it, with the faulting address and
 * instruction.  Nothing a guest does can make the monitor crash or touch a
 * byte of a host file outside the disk's capacity. */
#ifndef VLAB_ENGINES_UNIKERNEL_MONITOR_H
#define VLAB_ENGINES_UNIKERNEL_MONITOR_H

#include <signal.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/counters.h"
#include "engines/kvm/kvm.h"
#include "engines/unikernel/elf.h"
#include "engines/unikernel/uk_abi.h"

/* What the monitor runs and with which devices.  File descriptors are
 * borrowed: the caller keeps them open while the monitor lives and closes
 * them afterwards.  -1 means "no such device". */
struct uk_config {
	const uint8_t *image; /* the ELF file's bytes, borrowed until uk_monitor_new returns */
	uint64_t image_len;
	const char *image_name; /* for messages */
	uint64_t mem_bytes;	/* UK_MEM_MIN..UK_MEM_MAX, multiple of UK_MEM_ALIGN */
	const char *cmdline;
	int console_fd; /* guest console output goes here (dropped when full) */
	int control_fd; /* the agent's control channel (a socket) */
	int disk_fd;	/* block device backing file, opened read-write */
	uint64_t disk_bytes;
	int tap_fd; /* network: a TAP device (IFF_TAP | IFF_NO_PI) */
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t ip, netmask, gateway;	/* network byte order */
	struct vlab_counters *counters; /* exit.* and hc.* are counted here (may be NULL) */
	/* Called as startup phases end ("kvm", "load", "first-insn"), with the
	 * CLOCK_MONOTONIC time each ended (may be NULL). */
	void (*phase)(void *arg, const char *name, uint64_t ns);
	void *phase_arg;
};

#define UK_EXIT_IDS 32

struct uk_monitor {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint8_t *ram;
	uint64_t mem_bytes;
	struct uk_elf elf;
	uint64_t tsc_hz, tsc_base, mono_base; /* the guest's clock base */
	int console_fd, control_fd, disk_fd, tap_fd;
	uint64_t disk_bytes;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t ip, netmask, gateway;
	int stop_pipe[2];		   /* written by uk_monitor_stop (signal-safe) */
	volatile sig_atomic_t stop_signal; /* the signal that asked us to stop, 0 when none */
	volatile sig_atomic_t stop_now;	   /* stop without waiting for the guest */
	int stop_seen;			   /* the run loop has passed the request on */
	struct vlab_counters *counters;
	int exit_id[UK_EXIT_IDS]; /* counter ids, -2 until registered */
	int hc_id[UK_HC_COUNT];
	int console_dropped_id;
	void (*phase)(void *arg, const char *name, uint64_t ns);
	void *phase_arg;
	int started;	 /* the guest has exited to us at least once */
	int exited;	 /* the guest called UK_HC_EXIT */
	int exit_status; /* its status */
	uint64_t hypercalls, console_dropped;
};

/* Creates the VM, maps RAM, validates and loads the ELF, writes page
 * tables, GDT, exception vectors and boot info, and readies the vCPU at the
 * entry point.  Reports phases "kvm" and "load".  Free with uk_monitor_free. */
int uk_monitor_new(const struct uk_config *cfg, struct uk_monitor **out, struct vlab_err *err);

/* Runs the guest until it exits through UK_HC_EXIT (returns 0, *status set
 * to the guest's 0..255), or until it must be stopped: an invalid
 * hypercall, a guest fault, a KVM failure, or uk_monitor_stop_now()
 * (returns -1 with err saying why; *status 128 + signal for a stop). */
int uk_monitor_run(struct uk_monitor *m, int *status, struct vlab_err *err);

/* Asks the guest to stop: its polls return UK_POLL_STOP from now on, and
 * the agent exits.  A second request stops it at once.  Async-signal-safe:
 * meant for a SIGTERM handler. */
void uk_monitor_stop(struct uk_monitor *m, int sig);

/* Stops the guest at once, wherever it is (a guest that ignored the
 * request).  Async-signal-safe. */
void uk_monitor_stop_now(struct uk_monitor *m);

void uk_monitor_free(struct uk_monitor *m);

/* ---- inside the monitor (monitor.c, hcall.c, trap.c) ---- */

/* The one gate for guest memory: the host address of guest-physical
 * [gpa, gpa + len), or NULL with err naming `what` and the range when any
 * byte of it is outside guest RAM or the sum wraps past 2^64. */
void *uk_gpa(const struct uk_monitor *m, uk_gpa_t gpa, uint64_t len, const char *what,
	     struct vlab_err *err);

/* Handles one hypercall exit (port, size and value from the `out`).
 * Returns 0 to resume the guest, 1 when the guest exited, -1 with err when
 * the hypercall is invalid and the guest must stop. */
int uk_hcall(struct uk_monitor *m, unsigned port, unsigned size, uint32_t value,
	     struct vlab_err *err);

/* Name of hypercall nr ("console_write"), NULL when there is none. */
const char *uk_hcall_name(unsigned nr);

/* Writes the exception vectors and stubs into guest RAM and points the
 * vCPU's IDT and TSS at them. */
int uk_trap_setup(struct uk_monitor *m, struct vlab_err *err);

/* Explains a guest fault reported through UK_TRAP_PORT (value: the vector)
 * or a triple fault (vector -1), in err.  Always returns -1. */
int uk_trap_explain(struct uk_monitor *m, int vector, struct vlab_err *err);

#endif
