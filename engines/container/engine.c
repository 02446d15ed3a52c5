/* engines/container/engine.c: the container engine as vlab sees it: its
 * options, what this host allows (probe), early checks of a spec, the
 * runtime (runtime.c) and the sweep of what killed runtimes left. */
#include <errno.h>

#include "engines/container/ct.h"
#include "engines/hostcaps.h"

static void ct_probe(struct vlab_avail *avail)
{
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, 0);
	vlab_avail_container(&caps, avail);
}

/* Everything that can be checked before a process exists: option values,
 * syscall and capability names, the image. */
static int ct_validate(const struct vlab_spec *spec, struct vlab_err *err)
{
	struct ct_config cfg;
	int r = ct_config_parse(spec, &cfg, err);
	if (r == 0)
		r = ct_rootfs_check(cfg.rootfs, err);
	ct_config_free(&cfg);
	return r;
}

static int ct_sweep(struct vlab_err *err)
{
	int a = ct_cgroup_sweep(err);
	int b = ct_layer_sweep(err);
	return a < 0 || b < 0 ? -1 : 0;
}

const struct vlab_engine vlab_engine_container = {
	.name = "container",
	.summary = "a Linux container: namespaces, overlayfs, cgroups, capabilities, seccomp",
	.opts = ct_opts,
	.probe = ct_probe,
	.validate = ct_validate,
	.serve = ct_serve,
	.sweep = ct_sweep,
	.program = "vlab-container",
};
