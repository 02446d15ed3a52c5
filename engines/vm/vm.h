/* engines/vm/vm.h: the VM engine's shared description of one machine.
 *
 * engine.c turns the instance spec into a struct vm_config (config.c),
 * prepares what lives on the host (the disk image, the lab network's TAP
 * device) and hands the machine to one of two backends:
 *
 *   kvm  our own VMM (machine.c and the devices beside it)
 *   tcg  QEMU's software emulator running the same kernel, initramfs,
 *        disk and NIC (tcg.c), for hosts without hardware virtualization
 *
 * Both backends publish the same attributes and phases, and both say
 * which backend ran and whether the guest was emulated. */
#ifndef VLAB_ENGINES_VM_VM_H
#define VLAB_ENGINES_VM_VM_H

#include <stdint.h>

#include "core/paths.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"
#include "engines/vm/disk.h"

enum vm_backend {
	VM_BACKEND_AUTO,
	VM_BACKEND_KVM,
	VM_BACKEND_TCG,
};

enum vm_cpu_template {
	VM_CPU_AUTO,	     /* conservative where KVM emulates CPL 0, else full */
	VM_CPU_FULL,	     /* everything KVM supports, minus the lab's switches */
	VM_CPU_CONSERVATIVE, /* also hides what slow emulators lack (cx16, xsave, avx...) */
};

#define VM_CMDLINE_MAX 2048
#define VM_MAX_CPUS 16

struct vm_config {
	char name[VLAB_NAME_MAX + 1];
	enum vm_backend backend;
	uint64_t mem_bytes;
	unsigned cpus;
	int pae, nx;
	enum vm_cpu_template cpu_template;
	char kernel[VLAB_PATH_MAX];
	char initrd[VLAB_PATH_MAX]; /* "" when none */
	char cmdline[VM_CMDLINE_MAX];
	/* Disk: path "" when the VM has none. */
	char disk[VLAB_PATH_MAX];
	uint64_t disk_size; /* for a disk created now; 0: use as is */
	enum vm_disk_alloc disk_alloc;
	int disk_scratch; /* created for this instance, removed at its end */
	int disk_readonly;
	struct vlab_labnet_cfg net; /* net.on: a virtio-net NIC on the lab network */
	int rng;		    /* a virtio-rng device */
};

/* What engine.c prepared on the host for a backend. */
struct vm_host {
	int tap_fd; /* TAP device (one Ethernet frame per read/write), -1: none */
	char tap_name[32];
	char guest_ip[32];  /* "10.77.0.N/24", "" without a NIC */
	char guest_mac[18]; /* "02:76:6c:00:00:05" */
	int conservative;   /* CPUID template: hide what emulating KVMs lack */
};

/* The option table of the vm engine. */
extern const struct vlab_opt_desc vm_opts[];

/* Fills cfg from a checked spec: defaults, image paths, the kernel command
 * line.  Fails on a combination that cannot run, naming the option. */
int vm_config_from_spec(const struct vlab_spec *spec, struct vm_config *cfg, struct vlab_err *err);

/* The backends: run the machine until it powers off, reboots or fails.
 * Both return the exit status for the instance process, or -1 with err. */
int vm_kvm_serve(const struct vm_config *cfg, const struct vm_host *host, struct vlab_child *child,
		 struct vlab_err *err);
int vm_tcg_serve(const struct vm_config *cfg, const struct vm_host *host, struct vlab_child *child,
		 struct vlab_err *err);

/* The KVM part of the doctor's findings (presence, module, measured speed),
 * measured once per host boot and then read from the runtime folder. */
struct vlab_hostcaps;
void vm_kvm_speed(struct vlab_hostcaps *caps);

/* Stop request from SIGTERM/SIGINT, polled by the backends' loops. */
extern volatile int vm_stop_requested;

#endif
