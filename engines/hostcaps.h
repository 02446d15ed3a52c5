/* engines/hostcaps.h: what this host offers the engines, found by trying
 * rather than guessing: /dev/kvm and whether it is hardware-assisted (a
 * timed guest loop), namespaces, cgroup hierarchies, seccomp, overlayfs,
 * TUN, QEMU for the software fallback, and the guest images.
 *
 * `vlab doctor` prints it; each engine's probe() decides from it what it
 * can do here (vlab_avail_*), so the doctor and the engines never disagree. */
#ifndef VLAB_ENGINES_HOSTCAPS_H
#define VLAB_ENGINES_HOSTCAPS_H

#include <stdint.h>

#include "core/paths.h"
#include "engines/engine.h"

#define VLAB_NS_COUNT 7
#define VLAB_CG_MAX 24

struct vlab_ns_cap {
	const char *name; /* "user", "pid", "mnt", "uts", "ipc", "net", "cgroup" */
	int flag;         /* CLONE_NEW* */
	int ok;
	int err; /* errno of the failed unshare */
};

struct vlab_cg_mount {
	int version; /* 1 or 2 */
	char path[256];
	char controllers[256]; /* v1: from mount options; v2: cgroup.controllers */
	int writable;
};

struct vlab_hostcaps {
	int is_root;
	char kernel[128];

	/* KVM */
	int kvm_present, kvm_open_errno, kvm_api;
	char kvm_module[32]; /* informative only: kvm_intel, kvm_amd, kvm_pvm ... */
	int kvm_measured;    /* the loop ran at both CPLs */
	double cpl0_ns, cpl3_ns, ratio;
	int kvm_hw; /* measured: CPL 0 runs at native speed */
	char kvm_measure_error[256];

	/* Isolation */
	struct vlab_ns_cap ns[VLAB_NS_COUNT];
	int userns_unpriv, userns_unpriv_err; /* as an unprivileged user */
	struct vlab_cg_mount cg[VLAB_CG_MAX];
	int ncg;
	int seccomp_filter;
	char seccomp_actions[160];
	int overlayfs, tun;

	/* Software emulation */
	char qemu_path[256];
	char qemu_version[96];

	/* Guest images */
	struct {
		int built;
		uint64_t bytes;
		char path[VLAB_PATH_MAX];
	} image[VLAB_IMAGE_COUNT];
};

enum {
	VLAB_CAPS_MEASURE_KVM = 1 << 0, /* time the CPL 0 / CPL 3 loop (~50 ms) */
};

/* Fills caps.  Never fails: what cannot be found is reported as absent
 * with the reason in the matching field. */
void vlab_hostcaps_probe(struct vlab_hostcaps *caps, unsigned flags);

/* Only the KVM part of vlab_hostcaps_probe() (the kvm_* fields): what the
 * vm engine's backend=auto decides from, exactly as the doctor does. */
void vlab_hostcaps_probe_kvm(struct vlab_hostcaps *caps, unsigned flags);

/* A cgroup mount carrying controller (v1: its hierarchy; v2: the unified
 * one if it lists the controller), or NULL. */
const struct vlab_cg_mount *vlab_hostcaps_cgroup(const struct vlab_hostcaps *caps,
						 const char *controller);

/* What each engine can do on this host, with the reason in plain words. */
void vlab_avail_vm(const struct vlab_hostcaps *caps, struct vlab_avail *avail);
void vlab_avail_container(const struct vlab_hostcaps *caps, struct vlab_avail *avail);
void vlab_avail_unikernel(const struct vlab_hostcaps *caps, struct vlab_avail *avail);

const char *vlab_avail_level_name(enum vlab_avail_level level);

#endif
