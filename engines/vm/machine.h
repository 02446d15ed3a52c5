/* engines/vm/machine.h: vlab's own VMM: one virtual PC on /dev/kvm.
 *
 * A machine is guest RAM (layout.h), KVM's in-kernel interrupt
 * controllers (PIC, IOAPIC, local APICs) and PIT, one vCPU thread per
 * virtual CPU, and our device models behind the I/O registry: two UARTs
 * (ttyS0 the console, ttyS1 the agent's channel), the i8042 (reset), the
 * CMOS clock, the ACPI power registers, and a PCI bus with virtio-blk,
 * virtio-net and virtio-rng.  It boots a bzImage by the Linux boot
 * protocol straight into its 64-bit entry point.
 *
 * Threads: each vCPU thread runs KVM_RUN and dispatches its exits; the
 * caller's thread runs vm_machine_run(), the I/O loop that moves bytes
 * between the UARTs and their descriptors and frames between the NIC and
 * its wire, until the machine stops (guest power off, reset, triple
 * fault, an error, or vm_machine_stop()). */
#ifndef VLAB_ENGINES_VM_MACHINE_H
#define VLAB_ENGINES_VM_MACHINE_H

#include <pthread.h>
#include <stdint.h>

#include "engines/engine.h"
#include "engines/kvm/kvm.h"
#include "engines/vm/console.h"
#include "engines/vm/i8042.h"
#include "engines/vm/iobus.h"
#include "engines/vm/pci.h"
#include "engines/vm/power.h"
#include "engines/vm/rtc.h"
#include "engines/vm/uart.h"
#include "engines/vm/virtio_blk.h"
#include "engines/vm/virtio_net.h"
#include "engines/vm/virtio_rng.h"

#define VM_MACHINE_MAX_CPUS 16

struct vm_machine_config {
	uint64_t ram_bytes;
	unsigned cpus;
	int pae, nx, conservative; /* the CPUID template */
	const uint8_t *kernel;	   /* a bzImage in memory */
	size_t kernel_bytes;
	const char *kernel_name; /* for messages */
	const uint8_t *initrd;	 /* NULL: none */
	size_t initrd_bytes;
	const char *cmdline;
	int disk_fd; /* raw image, -1: no disk (not owned) */
	uint64_t disk_bytes;
	int disk_readonly;
	int net_fd; /* frames, -1: no NIC (not owned) */
	uint8_t mac[6];
	int rng;
	/* Descriptors the UARTs talk to (not owned): ttyS0 and ttyS1. */
	int console_fd, control_fd;
	struct vlab_child *child; /* phases, logs, counters; NULL in tests */
};

struct vm_vcpu_arg {
	struct vm_machine *m;
	unsigned id;
};

struct vm_machine {
	struct vm_machine_config cfg;
	struct vm_vcpu_arg varg[VM_MACHINE_MAX_CPUS];
	struct kvm_vm *kvm;
	struct kvm_vcpu *vcpu[VM_MACHINE_MAX_CPUS];
	pthread_t thread[VM_MACHINE_MAX_CPUS];
	unsigned nthreads;
	struct vlab_counters *counters;
	int exit_id[KVM_EXIT_BUCKETS];
	int c_line, c_msi; /* counters irq.line, irq.msi */
	struct vm_iobus bus;
	struct vm_irq irq;
	struct vm_power power;
	struct vm_pci pci;
	struct vm_uart uart[2];
	struct vm_console console;
	struct vm_i8042 kbd;
	struct vm_rtc rtc;
	struct vm_pm pm;
	struct vm_blk *blk;
	struct vm_net *net;
	struct vm_rng *rng;
	uint64_t entry, zeropage;
	int noxsave;		  /* the host shows XSAVE against our CPUID: tell the kernel */
	int wake_fd;		  /* eventfd: wakes the I/O loop */
	pthread_mutex_t con_lock; /* one reader of ttyS0's output at a time */
	pthread_mutex_t ctl_lock; /* one writer of ttyS1's output at a time */
	int ctl_waiting;	  /* ttyS1 output waits for the I/O loop */
	int ctl_blocked;	  /* ... because the front end's socket is full */
	uint64_t ctl_since;	  /* when ttyS1 output started waiting */
	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop;
	char stop_detail[256];
};

/* Builds the machine: VM, RAM, irqchip, PIT, devices, the loaded kernel
 * and the boot vCPU's registers.  Nothing runs yet.  Undone on failure. */
int vm_machine_new(const struct vm_machine_config *cfg, struct vm_machine **out,
		   struct vlab_err *err);

/* Starts the vCPU threads, then serves I/O on the calling thread until the
 * machine stops; joins the vCPUs.  *stop_flag (optional, set by a signal
 * handler) also stops it.  Returns the stop reason (details in
 * m->stop_detail), or -1 with err when the threads could not start. */
int vm_machine_run(struct vm_machine *m, volatile int *stop_flag, struct vlab_err *err);

/* Internal to vcpu.c / ioloop.c. */
int vm_vcpus_start(struct vm_machine *m, struct vlab_err *err);
void vm_vcpus_kick(struct vm_machine *m);
void vm_vcpus_join(struct vm_machine *m);
void vm_machine_wake(struct vm_machine *m);
int vm_machine_io_loop(struct vm_machine *m, volatile int *stop_flag);
void vm_machine_uart_hosts(struct vm_machine *m, struct vm_uart_host *con,
			   struct vm_uart_host *ctl);

/* Asks the machine to stop, from any thread (not a signal handler: it
 * locks).  The first reason wins. */
void vm_machine_stop(struct vm_machine *m, enum vm_stop_reason why, const char *detail);

void vm_machine_free(struct vm_machine *m);

#endif
