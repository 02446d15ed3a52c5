/* tests/integration/container/ct_fixture.h: what the container tests
 * share: starting a container on the test rootfs (busybox + ct-probe,
 * built by mk/container.mk), running commands in it, reading counters. */
#ifndef VLAB_TESTS_CT_FIXTURE_H
#define VLAB_TESTS_CT_FIXTURE_H

#include "tests/vtest.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "engines/container/container.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"

/* A control channel that answers READY and stays: the tests drive the
 * container through exec. */
#define CT_IDLE_AGENT "echo READY vlab-agent/1 test; exec sleep 100000"

static char ct_rootfs[PATH_MAX];

/* Set by main() (ct_cannot_run() or more): why this binary's tests skip. */
static const char *skip_reason __attribute__((unused));

#define NEED_CONTAINER()                                                                           \
	do {                                                                                       \
		if (skip_reason)                                                                   \
			VTEST_SKIP("%s", skip_reason);                                             \
	} while (0)

/* Why container tests cannot run here, or NULL. */
static inline const char *ct_cannot_run(int need_root)
{
	static char why[512];
	if (!getenv("VLAB_SELF"))
		setenv("VLAB_SELF", "vlab", 0);
	if (access(getenv("VLAB_SELF"), X_OK) != 0)
		return "the vlab binary is not built";
	if (!realpath("build/tests/ct-rootfs", ct_rootfs) ||
	    access("build/tests/ct-rootfs/bin/ct-probe", X_OK) != 0)
		return "the test rootfs is not built (make tests)";
	if (need_root && geteuid() != 0)
		return "needs root (cgroup limits); rootless mode has its own test";
	struct vlab_avail a;
	vlab_engine_find("container")->probe(&a);
	if (a.level == VLAB_AVAIL_NO && !strstr(a.reason, "rootfs is not built")) {
		snprintf(why, sizeof(why), "container engine unavailable: %s", a.reason);
		return why;
	}
	return NULL;
}

/* Starts a container; kv is a NULL-terminated list of "key=value". */
static inline struct vlab_instance *ct_start_kv(const char *name, const char *const *kv,
						 struct vlab_err *err)
{
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	if (vlab_spec_init(&spec, "container", name, err) < 0)
		return NULL;
	vlab_spec_set(&spec, "rootfs", ct_rootfs, err);
	for (int i = 0; kv && kv[i]; i++)
		if (vlab_spec_set_kv(&spec, kv[i], err) < 0) {
			vlab_spec_free(&spec);
			return NULL;
		}
	if (!vlab_spec_get(&spec, "program") && !vlab_spec_get(&spec, "sh"))
		vlab_spec_set(&spec, "sh", CT_IDLE_AGENT, err);
	int r = vlab_instance_create(&spec, &inst, err);
	vlab_spec_free(&spec);
	if (r < 0)
		return NULL;
	if (vlab_instance_start(inst, err) < 0 || vlab_instance_wait_ready(inst, 10000, err) < 0) {
		vlab_instance_free(inst);
		return NULL;
	}
	return inst;
}

static inline struct vlab_instance *ct_must_start(const char *name, const char *const *kv)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = ct_start_kv(name, kv, &err);
	if (!inst)
		fail_msg("start container %s: %s", name, err.msg);
	return inst;
}

/* Runs a shell command line inside; fails the test when exec fails. */
static inline struct vlab_container_run ct_sh(struct vlab_instance *inst, const char *cmd)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	struct vlab_container_run r;
	struct vlab_err err = {0};
	if (vlab_container_run(inst, argv, NULL, 30000, &r, &err) < 0)
		fail_msg("exec '%s': %s", cmd, err.msg);
	return r;
}

/* The value after "key " on its own line of text, or -1. */
static inline long ct_field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return strtol(l + kl + 1, NULL, 10);
	return -1;
}

/* Waits (bounded) until counter name reaches at least min. */
static inline uint64_t ct_counter_wait(struct vlab_instance *inst, const char *name, uint64_t min,
				       int ms)
{
	uint64_t v = 0;
	for (int i = 0; i <= ms / 10; i++) {
		v = vlab_counters_get(vlab_instance_counters(inst), name);
		if (v >= min)
			break;
		usleep(10000);
	}
	return v;
}

/* The cgroup version the runtime must use on this host, found as the
 * doctor finds it: 2 when the unified hierarchy offers memory, pids and cpu
 * (most laptops), else 1 (one v1 hierarchy per controller, as on CI). */
static inline int ct_cgroup_version(void)
{
	static const char *const need[] = {"memory", "pids", "cpu"};
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, 0);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const struct vlab_cg_mount *m = vlab_hostcaps_cgroup(&caps, need[i]);
		if (!m || m->version != 2)
			return 1;
	}
	return 2;
}

static inline int ct_path_exists(const char *p)
{
	struct stat st;
	return p && lstat(p, &st) == 0;
}

/* 1 when pid has ended (gone, or a zombie nobody reaped yet). */
static inline int ct_pid_ended(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Waits (bounded) until pid has ended. */
static inline int ct_wait_gone(pid_t pid, int ms)
{
	for (int i = 0; i <= ms / 10; i++) {
		if (ct_pid_ended(pid))
			return 1;
		usleep(10000);
	}
	return 0;
}

#endif
