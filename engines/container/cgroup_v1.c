/* engines/container/cgroup_v1.c: cgroup v1, one hierarchy per controller
 * (memory, pids, cpu, cpuacct; co-mounted ones count once).
 *
 * Limits: memory.limit_in_bytes (and memory.memsw.limit_in_bytes when swap
 * is accounted, so the limit cannot be dodged by swapping), pids.max,
 * cpu.cfs_quota_us over cpu.cfs_period_us.  OOM events arrive through
 * cgroup.event_control and an eventfd on memory.oom_control. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/container/ct.h"

/* Index of the first controller sharing c's mount (c itself when alone). */
static int first_of_mount(const struct ct_cgroup *cg, int c)
{
	for (int k = 0; k < c; k++)
		if (cg->mnt[k][0] && !strcmp(cg->mnt[k], cg->mnt[c]))
			return k;
	return c;
}

static int v1_create(struct ct_cgroup *cg, const struct ct_limits *lim, struct vlab_err *err)
{
	char buf[64];
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (!cg->mnt[c][0])
			continue;
		int k = first_of_mount(cg, c);
		if (k != c) {
			snprintf(cg->dir[c], sizeof(cg->dir[c]), "%s", cg->dir[k]);
			continue;
		}
		char parent[VLAB_PATH_MAX];
		snprintf(parent, sizeof(parent), "%s/" CT_CG_PARENT, cg->mnt[c]);
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return vlab_err_set(err, errno, "create cgroup %s", parent);
		if (snprintf(cg->dir[c], sizeof(cg->dir[c]), "%s/%s", parent, cg->tag) >=
		    (int)sizeof(cg->dir[c]))
			return vlab_err_set(err, ENAMETOOLONG, "cgroup path under %s", parent);
		/* The name holds our pid and start time: an existing one is ours. */
		if (mkdir(cg->dir[c], 0755) < 0 && errno != EEXIST)
			return vlab_err_set(err, errno, "create cgroup %s", cg->dir[c]);
		cg->created[c] = 1;
	}
	if (lim->memory) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->memory);
		if (ct_cg_write(cg->dir[CT_CG_MEMORY], "memory.limit_in_bytes", buf, err) < 0)
			return -1;
		char p[VLAB_PATH_MAX + 40];
		snprintf(p, sizeof(p), "%s/memory.memsw.limit_in_bytes", cg->dir[CT_CG_MEMORY]);
		if (access(p, F_OK) == 0 &&
		    ct_cg_write(cg->dir[CT_CG_MEMORY], "memory.memsw.limit_in_bytes", buf, err) < 0)
			return -1;
	}
	if (lim->pids) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->pids);
		if (ct_cg_write(cg->dir[CT_CG_PIDS], "pids.max", buf, err) < 0)
			return -1;
	}
	if (lim->cpu) {
		if (ct_cg_write(cg->dir[CT_CG_CPU], "cpu.cfs_period_us", "100000", err) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lim->cpu * 1000);
		if (ct_cg_write(cg->dir[CT_CG_CPU], "cpu.cfs_quota_us", buf, err) < 0)
			return -1;
	}
	return 0;
}

/* Moving another process takes the kernel's threadgroup lock, whose
 * write side waits for an RCU grace period: milliseconds per hierarchy on a
 * busy machine.  A single-threaded process moving itself ("0" into tasks)
 * skips that lock. */
static int v1_attach(struct ct_cgroup *cg, pid_t pid, struct vlab_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (int c = 0; c < CT_CG_NCTL; c++)
		if (cg->created[c] &&
		    ct_cg_write(cg->dir[c], pid ? "cgroup.procs" : "tasks", buf, err) < 0)
			return -1;
	return 0;
}

static int v1_self_fds(struct ct_cgroup *cg, int fds[CT_CG_NCTL], struct vlab_err *err)
{
	int n = 0;
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (!cg->created[c])
			continue;
		char p[VLAB_PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/tasks", cg->dir[c]);
		fds[n] = open(p, O_WRONLY | O_CLOEXEC);
		if (fds[n] < 0) {
			int e = errno;
			while (n > 0)
				close(fds[--n]);
			return vlab_err_set(err, e, "open %s", p);
		}
		n++;
	}
	return n;
}

/* The cpu hierarchy is where the scheduler sees a container as one entity
 * (as Docker's do).  The runtime steps into it for the clone, so that the
 * init is born there: a fresh scheduling entity gets its first turn at
 * once, where a task of the runtime's own group would wait, on a busy
 * machine, for the CPU time the runtime has just used to be paid back. */
static int v1_sched_enter(struct ct_cgroup *cg, struct vlab_err *err)
{
	if (!cg->created[CT_CG_CPU] && !cg->dir[CT_CG_CPU][0])
		return 0;
	/* where we are now: "N:cpu[,...]:/path" in /proc/self/cgroup */
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[VLAB_PATH_MAX];
	cg->orig_cpu[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		char list[300];
		snprintf(list, sizeof(list), ",%s,", c1 + 1);
		if (strstr(list, ",cpu,")) {
			c2[1 + strcspn(c2 + 1, "\n")] = '\0';
			snprintf(cg->orig_cpu, sizeof(cg->orig_cpu), "%s%s", cg->mnt[CT_CG_CPU], c2 + 1);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!cg->orig_cpu[0])
		return 0; /* not in a cpu hierarchy we can find: skip it */
	return ct_cg_write(cg->dir[CT_CG_CPU], "tasks", "0", err);
}

static int v1_sched_leave(struct ct_cgroup *cg, struct vlab_err *err)
{
	if (!cg->orig_cpu[0])
		return 0;
	int r = ct_cg_write(cg->orig_cpu, "tasks", "0", err);
	cg->orig_cpu[0] = '\0';
	return r;
}

static int v1_usage(struct ct_cgroup *cg, struct ct_usage *u, struct vlab_err *err)
{
	memset(u, 0, sizeof(*u));
	const char *mem = cg->dir[CT_CG_MEMORY];
	if (ct_cg_read_u64(mem, "memory.usage_in_bytes", &u->mem_current) < 0)
		return vlab_err_set(err, errno, "read %s/memory.usage_in_bytes", mem);
	ct_cg_read_u64(mem, "memory.max_usage_in_bytes", &u->mem_peak);
	ct_cg_read_key(mem, "memory.oom_control", "oom_kill", &u->oom_kills);
	ct_cg_read_u64(mem, "memory.failcnt", &u->oom_events);
	ct_cg_read_u64(cg->dir[CT_CG_PIDS], "pids.current", &u->pids_current);
	ct_cg_read_key(cg->dir[CT_CG_PIDS], "pids.events", "max", &u->pids_denied);
	if (cg->dir[CT_CG_CPUACCT][0])
		ct_cg_read_u64(cg->dir[CT_CG_CPUACCT], "cpuacct.usage", &u->cpu_ns);
	ct_cg_read_key(cg->dir[CT_CG_CPU], "cpu.stat", "nr_throttled", &u->nr_throttled);
	ct_cg_read_key(cg->dir[CT_CG_CPU], "cpu.stat", "throttled_time", &u->throttled_ns);
	return 0;
}

static int v1_watch_oom(struct ct_cgroup *cg, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 32], line[64];
	snprintf(p, sizeof(p), "%s/memory.oom_control", cg->dir[CT_CG_MEMORY]);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return vlab_err_set(err, errno, "eventfd");
	int ofd = open(p, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		int e = errno;
		close(efd);
		return vlab_err_set(err, e, "open %s", p);
	}
	snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (ct_cg_write(cg->dir[CT_CG_MEMORY], "cgroup.event_control", line, err) < 0) {
		close(efd);
		close(ofd);
		return -1;
	}
	cg->oom_fd = efd;
	cg->oom_ctl_fd = ofd;
	return efd;
}

static void v1_ack_oom(struct ct_cgroup *cg)
{
	uint64_t v;
	if (cg->oom_fd >= 0 && read(cg->oom_fd, &v, sizeof(v)) < 0)
		return;
}

static int v1_kill(struct ct_cgroup *cg, struct vlab_err *err)
{
	/* The pids hierarchy lists every process; any created one would do. */
	for (int c = 0; c < CT_CG_NCTL; c++)
		if (cg->created[c])
			return ct_cg_kill_procs(cg->dir[c], err);
	return 0;
}

static int v1_destroy(struct ct_cgroup *cg, struct vlab_err *err)
{
	int rc = 0;
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	if (cg->oom_ctl_fd >= 0)
		close(cg->oom_ctl_fd);
	cg->oom_fd = cg->oom_ctl_fd = -1;
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (!cg->created[c])
			continue;
		if (ct_cg_rmdir(cg->dir[c], err) < 0)
			rc = -1;
		else
			cg->created[c] = 0;
	}
	return rc;
}

const struct ct_cgroup_ops ct_cgroup_v1_ops = {
	.backend = "cgroup-v1",
	.create = v1_create,
	.attach = v1_attach,
	.self_fds = v1_self_fds,
	.sched_enter = v1_sched_enter,
	.sched_leave = v1_sched_leave,
	.usage = v1_usage,
	.watch_oom = v1_watch_oom,
	.ack_oom = v1_ack_oom,
	.kill = v1_kill,
	.destroy = v1_destroy,
};
