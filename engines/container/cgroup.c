/* engines/container/cgroup.c: which cgroup hierarchy to use, the helpers
 * both versions share, and the sweep of cgroups whose runtime is gone.
 *
 * A container's cgroup is <mount>/vlab/<owner tag> on every hierarchy it
 * needs: v2 when the unified hierarchy offers memory, pids and cpu (most
 * laptops), else v1 (one mount per controller, as on this lab's machines).
 * The version-specific work sits behind struct ct_cgroup_ops
 * (cgroup_v1.c, cgroup_v2.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engines/container/ct.h"

const char *const ct_cg_ctl_names[CT_CG_NCTL] = {"memory", "pids", "cpu", "cpuacct"};

static int has_word(const char *list, const char *word, char sep)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wl)
		if ((p == list || p[-1] == sep) && (p[wl] == '\0' || p[wl] == sep ||
						   p[wl] == ' ' || p[wl] == '\n'))
			return 1;
	return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int ct_cgroup_find(struct ct_cgroup *cg, const char *mountinfo, const char *tag,
		   struct vlab_err *err)
{
	char v1[CT_CG_NCTL][VLAB_PATH_MAX] = {{0}}, v2[VLAB_PATH_MAX] = "";
	char line[4096];
	memset(cg, 0, sizeof(*cg));
	cg->oom_fd = cg->oom_ctl_fd = -1;
	if (snprintf(cg->tag, sizeof(cg->tag), "%s", tag) >= (int)sizeof(cg->tag))
		return vlab_err_set(err, ENAMETOOLONG, "cgroup name %s", tag);
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	if (!f)
		return vlab_err_set(err, errno, "read %s", mountinfo ? mountinfo : "mountinfo");
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *dash = strstr(line, " - ");
		char mnt[VLAB_PATH_MAX], fstype[32], src[256], sopts[1024] = "";
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash + 3, "%31s %255s %1023s", fstype, src, sopts) < 2)
			continue;
		unescape(mnt);
		if (!strcmp(fstype, "cgroup2")) {
			if (!v2[0])
				snprintf(v2, sizeof(v2), "%s", mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			for (int c = 0; c < CT_CG_NCTL; c++)
				if (!v1[c][0] && has_word(sopts, ct_cg_ctl_names[c], ','))
					snprintf(v1[c], sizeof(v1[c]), "%s", mnt);
		}
	}
	fclose(f);

	/* v2 when the unified hierarchy has all three controllers. */
	if (v2[0]) {
		char p[VLAB_PATH_MAX + 32], ctl[512] = "";
		snprintf(p, sizeof(p), "%s/cgroup.controllers", v2);
		FILE *cf = fopen(p, "re");
		if (cf) {
			if (!fgets(ctl, sizeof(ctl), cf))
				ctl[0] = '\0';
			fclose(cf);
		}
		if (has_word(ctl, "memory", ' ') && has_word(ctl, "pids", ' ') &&
		    has_word(ctl, "cpu", ' ')) {
			cg->ops = &ct_cgroup_v2_ops;
			for (int c = 0; c < CT_CG_NCTL; c++)
				snprintf(cg->mnt[c], sizeof(cg->mnt[c]), "%s", v2);
			return 0;
		}
	}
	char missing[64] = "";
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (v1[c][0]) {
			snprintf(cg->mnt[c], sizeof(cg->mnt[c]), "%s", v1[c]);
		} else if (c != CT_CG_CPUACCT) {
			size_t l = strlen(missing);
			snprintf(missing + l, sizeof(missing) - l, "%s%s", l ? ", " : "",
				 ct_cg_ctl_names[c]);
		}
	}
	if (missing[0])
		return vlab_err_set(err, ENOENT,
				    "no cgroup hierarchy offers %s (neither v1 nor the unified v2 "
				    "one%s%s)",
				    missing, v2[0] ? " at " : "", v2);
	cg->ops = &ct_cgroup_v1_ops;
	return 0;
}

int ct_cg_write(const char *dir, const char *file, const char *value, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s", p);
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return vlab_err_set(err, n < 0 ? e : EIO, "write '%s' to %s", value, p);
	return 0;
}

static ssize_t read_small(const char *dir, const char *file, char *buf, size_t len)
{
	char p[VLAB_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

int ct_cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	char buf[64];
	if (read_small(dir, file, buf, sizeof(buf)) <= 0)
		return -1;
	if (!strncmp(buf, "max", 3)) {
		*out = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -1;
	*out = v;
	return 0;
}

int ct_cg_read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char buf[8192];
	if (read_small(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			*out = strtoull(l + kl + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int ct_cg_kill_procs(const char *dir, struct vlab_err *err)
{
	for (int round = 0; round < 200; round++) {
		char buf[16384];
		ssize_t n = read_small(dir, "cgroup.procs", buf, sizeof(buf));
		if (n < 0)
			return errno == ENOENT ? 0 : vlab_err_set(err, errno, "read %s/cgroup.procs", dir);
		if (n == 0)
			return 0;
		for (char *t = strtok(buf, "\n"); t; t = strtok(NULL, "\n")) {
			long pid = strtol(t, NULL, 10);
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
		}
		sleep_ms(round < 10 ? 1 : 10);
	}
	return vlab_err_set(err, EBUSY, "processes in %s survive SIGKILL", dir);
}

int ct_cg_rmdir(const char *dir, struct vlab_err *err)
{
	for (int round = 0; round < 100; round++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		/* The last tasks are released asynchronously after they die. */
		sleep_ms(round < 10 ? 1 : 10);
	}
	return vlab_err_set(err, errno, "remove cgroup %s", dir);
}

/* One hierarchy's <mount>/vlab: removes the cgroups of dead owners. */
static int sweep_dir(const char *parent, struct vlab_err *err)
{
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (ct_owner_alive(e->d_name) != 0)
			continue;
		char p[VLAB_PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", parent, e->d_name) >= (int)sizeof(p))
			continue;
		if (ct_cg_kill_procs(p, err) < 0 || ct_cg_rmdir(p, err) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int ct_cgroup_sweep(struct vlab_err *err)
{
	struct ct_cgroup cg;
	struct vlab_err ignored;
	if (ct_cgroup_find(&cg, NULL, "sweep.0.0", &ignored) < 0)
		return 0; /* no hierarchy, nothing of ours */
	int rc = 0;
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (!cg.mnt[c][0])
			continue;
		int seen = 0;
		for (int k = 0; k < c; k++)
			seen |= !strcmp(cg.mnt[k], cg.mnt[c]);
		if (seen)
			continue;
		char parent[VLAB_PATH_MAX + 16];
		snprintf(parent, sizeof(parent), "%s/" CT_CG_PARENT, cg.mnt[c]);
		if (sweep_dir(parent, err) < 0)
			rc = -1;
	}
	return rc;
}

int ct_cgroup_mount_inside(const struct ct_cgroup *cg, const char *root, struct vlab_err *err)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char top[VLAB_PATH_MAX];
	if (snprintf(top, sizeof(top), "%s/sys/fs/cgroup", root) >= (int)sizeof(top))
		return vlab_err_set(err, ENAMETOOLONG, "cgroup mount point under %s", root);
	if (cg->ops == &ct_cgroup_v2_ops) {
		if (mount("cgroup2", top, "cgroup2", ro, NULL) < 0)
			return vlab_err_set(err, errno, "mount cgroup2 on %s", top);
		return 0;
	}
	if (mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return vlab_err_set(err, errno, "mount tmpfs on %s", top);
	for (int c = 0; c < CT_CG_NCTL; c++) {
		if (!cg->mnt[c][0])
			continue;
		int first = 1;
		char opts[64] = "";
		for (int k = 0; k < CT_CG_NCTL; k++) {
			if (!strcmp(cg->mnt[k], cg->mnt[c]) && k < c)
				first = 0;
			if (!strcmp(cg->mnt[k], cg->mnt[c])) {
				size_t l = strlen(opts);
				snprintf(opts + l, sizeof(opts) - l, "%s%s", l ? "," : "",
					 ct_cg_ctl_names[k]);
			}
		}
		if (!first)
			continue;
		const char *base = strrchr(cg->mnt[c], '/');
		char p[VLAB_PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", top, base ? base + 1 : ct_cg_ctl_names[c]);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vlab_err_set(err, errno, "create %s", p);
		if (mount("cgroup", p, "cgroup", ro, opts) < 0)
			return vlab_err_set(err, errno, "mount the %s cgroup hierarchy on %s", opts, p);
	}
	if (mount(NULL, top, NULL, MS_REMOUNT | ro, "mode=755") < 0)
		return vlab_err_set(err, errno, "make %s read-only", top);
	return 0;
}
