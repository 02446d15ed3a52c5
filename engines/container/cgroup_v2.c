/* engines/container/cgroup_v2.c: cgroup v2, the unified hierarchy.
 *
 * The container's cgroup is <mount>/vlab/<tag>; the controllers are
 * enabled on the way down (cgroup.subtree_control of the mount and of
 * vlab/).  Limits: memory.max with memory.swap.max 0, pids.max, cpu.max
 * "quota period".  OOM events: inotify on memory.events.  Kill:
 * cgroup.kill where the kernel has it (5.14), else SIGKILL by pid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/container/ct.h"

static int exists(const char *dir, const char *file)
{
	char p[VLAB_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

/* Enables memory, pids and cpu for the children of dir (idempotent). */
static int enable(const char *dir, struct vlab_err *err)
{
	char have[512] = "";
	char p[VLAB_PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
	FILE *f = fopen(p, "re");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		fclose(f);
	}
	static const char *const want[] = {"memory", "pids", "cpu"};
	for (int i = 0; i < 3; i++) {
		const char *w = want[i];
		size_t wl = strlen(w);
		int on = 0;
		for (const char *q = have; (q = strstr(q, w)); q += wl)
			if ((q == have || q[-1] == ' ') && (q[wl] == ' ' || q[wl] == '\n' || !q[wl]))
				on = 1;
		if (on)
			continue;
		char v[16];
		snprintf(v, sizeof(v), "+%s", w);
		if (ct_cg_write(dir, "cgroup.subtree_control", v, err) < 0)
			return vlab_err_prefix(err, "enable the %s controller", w);
	}
	return 0;
}

static int v2_create(struct ct_cgroup *cg, const struct ct_limits *lim, struct vlab_err *err)
{
	char parent[VLAB_PATH_MAX], buf[64];
	const char *mnt = cg->mnt[CT_CG_MEMORY];
	snprintf(parent, sizeof(parent), "%s/" CT_CG_PARENT, mnt);
	if (enable(mnt, err) < 0)
		return -1;
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return vlab_err_set(err, errno, "create cgroup %s", parent);
	if (enable(parent, err) < 0)
		return -1;
	char dir[VLAB_PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/%s", parent, cg->tag) >= (int)sizeof(dir))
		return vlab_err_set(err, ENAMETOOLONG, "cgroup path under %s", parent);
	/* The name holds our pid and start time: an existing one is ours. */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return vlab_err_set(err, errno, "create cgroup %s", dir);
	for (int c = 0; c < CT_CG_NCTL; c++)
		snprintf(cg->dir[c], sizeof(cg->dir[c]), "%s", dir);
	cg->created[0] = 1;
	if (lim->memory) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->memory);
		if (ct_cg_write(dir, "memory.max", buf, err) < 0)
			return -1;
		if (exists(dir, "memory.swap.max") && ct_cg_write(dir, "memory.swap.max", "0", err) < 0)
			return -1;
	}
	if (lim->pids) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->pids);
		if (ct_cg_write(dir, "pids.max", buf, err) < 0)
			return -1;
	}
	if (lim->cpu) {
		snprintf(buf, sizeof(buf), "%llu 100000", (unsigned long long)lim->cpu * 1000);
		if (ct_cg_write(dir, "cpu.max", buf, err) < 0)
			return -1;
	}
	return 0;
}

static int v2_attach(struct ct_cgroup *cg, pid_t pid, struct vlab_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return ct_cg_write(cg->dir[0], "cgroup.procs", buf, err);
}

static int v2_self_fds(struct ct_cgroup *cg, int fds[CT_CG_NCTL], struct vlab_err *err)
{
	(void)cg;
	(void)fds;
	(void)err;
	return 0;
}

/* v2 needs no step: clone3 puts the init in its cgroup (CLONE_INTO_CGROUP). */
static int v2_sched_noop(struct ct_cgroup *cg, struct vlab_err *err)
{
	(void)cg;
	(void)err;
	return 0;
}

static int v2_usage(struct ct_cgroup *cg, struct ct_usage *u, struct vlab_err *err)
{
	const char *d = cg->dir[0];
	uint64_t usec = 0;
	memset(u, 0, sizeof(*u));
	if (ct_cg_read_u64(d, "memory.current", &u->mem_current) < 0)
		return vlab_err_set(err, errno, "read %s/memory.current", d);
	ct_cg_read_u64(d, "memory.peak", &u->mem_peak); /* Linux 5.19 */
	ct_cg_read_key(d, "memory.events", "oom_kill", &u->oom_kills);
	ct_cg_read_key(d, "memory.events", "max", &u->oom_events);
	ct_cg_read_u64(d, "pids.current", &u->pids_current);
	ct_cg_read_key(d, "pids.events", "max", &u->pids_denied);
	if (ct_cg_read_key(d, "cpu.stat", "usage_usec", &usec) == 0)
		u->cpu_ns = usec * 1000;
	ct_cg_read_key(d, "cpu.stat", "nr_throttled", &u->nr_throttled);
	if (ct_cg_read_key(d, "cpu.stat", "throttled_usec", &usec) == 0)
		u->throttled_ns = usec * 1000;
	return 0;
}

static int v2_watch_oom(struct ct_cgroup *cg, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/memory.events", cg->dir[0]);
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return vlab_err_set(err, errno, "inotify_init1");
	if (inotify_add_watch(fd, p, IN_MODIFY) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "watch %s", p);
	}
	cg->oom_fd = fd;
	return fd;
}

static void v2_ack_oom(struct ct_cgroup *cg)
{
	char buf[4096];
	while (cg->oom_fd >= 0 && read(cg->oom_fd, buf, sizeof(buf)) > 0)
		;
}

static int v2_kill(struct ct_cgroup *cg, struct vlab_err *err)
{
	if (!cg->created[0])
		return 0;
	if (exists(cg->dir[0], "cgroup.kill")) {
		if (ct_cg_write(cg->dir[0], "cgroup.kill", "1", err) < 0)
			return -1;
	}
	return ct_cg_kill_procs(cg->dir[0], err);
}

static int v2_destroy(struct ct_cgroup *cg, struct vlab_err *err)
{
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	cg->oom_fd = -1;
	if (!cg->created[0])
		return 0;
	if (ct_cg_rmdir(cg->dir[0], err) < 0)
		return -1;
	cg->created[0] = 0;
	return 0;
}

const struct ct_cgroup_ops ct_cgroup_v2_ops = {
	.backend = "cgroup-v2",
	.create = v2_create,
	.attach = v2_attach,
	.self_fds = v2_self_fds,
	.sched_enter = v2_sched_noop,
	.sched_leave = v2_sched_noop,
	.usage = v2_usage,
	.watch_oom = v2_watch_oom,
	.ack_oom = v2_ack_oom,
	.kill = v2_kill,
	.destroy = v2_destroy,
};
