/* engines/confine.h: self-confinement of an instance process, as
 * Firecracker does it: once the VMM or the unikernel monitor has opened
 * everything it needs (/dev/kvm, guest RAM, disk, TAP, sockets), it
 * installs a seccomp filter (libseccomp) that allows only the system calls
 * its run loop makes.  A guest that takes over the process can then do no
 * more than the run loop could: no open, no exec, no socket, no fork, no
 * executable memory, ioctl only with the KVM requests listed.
 *
 * Any other call raises SIGSYS.  Its handler writes "log" and "error"
 * events naming the call (so the front end shows what happened), then the
 * process dies of SIGSYS (no core file).
 *
 * Builds with AddressSanitizer (make check-asan) allow what the sanitizer
 * runtime itself needs (reading /proc/self/maps, LeakSanitizer's tracer
 * thread); the lists below say which those are.
 *
 * Engine owners: a new system call or KVM ioctl in the run loop (after the
 * vlab_confine() call) must be added to its profile in engines/confine.c;
 * the engine's own tests then show it (the instance stops with SIGSYS and
 * says which call). */
#ifndef VLAB_ENGINES_CONFINE_H
#define VLAB_ENGINES_CONFINE_H

#include <stddef.h>

#include "core/err.h"
#include "engines/engine.h"

enum vlab_confine_profile {
	VLAB_CONFINE_UNIKERNEL, /* the unikernel monitor: one thread */
	VLAB_CONFINE_VMM,	/* vlab's VMM: an I/O thread and vCPU threads */
	VLAB_CONFINE_PROFILES,
};

/* Installs profile's filter on this process (every thread it has and
 * will have).  Records phase "confine" and attribute "confinement"
 * ("seccomp: <n> system calls") on child (which may be NULL).  Fails,
 * changing nothing, when the filter cannot be built or loaded. */
int vlab_confine(enum vlab_confine_profile profile, struct vlab_child *child,
		 struct vlab_err *err);

/* The profile's name ("unikernel", "vmm"), NULL past the last. */
const char *vlab_confine_name(enum vlab_confine_profile profile);

/* Describes what profile allows, for `vlab doctor --verbose`: one entry per
 * system call, with its argument condition when there is one ("ioctl:
 * KVM_RUN KVM_GET_REGS ...", "clone: threads only", "mmap: not
 * executable").  Fills up to max entries of out (out may be NULL) and
 * returns how many there are. */
size_t vlab_confine_describe(enum vlab_confine_profile profile, char (*out)[256], size_t max);

#endif
