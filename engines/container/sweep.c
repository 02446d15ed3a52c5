/* engines/container/sweep.c: names that say who owns them, and removal of
 * what a killed runtime left behind.
 *
 * Every cgroup and layer folder a runtime makes is named
 * "<instance>.<pid>.<starttime>" after the runtime process.  Others run
 * containers at the same time, so the sweep removes a thing only when that
 * exact process (pid and start time: pids get reused) is gone. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "engines/container/ct.h"

int ct_owner_tag(const char *name, char *buf, size_t len, struct vlab_err *err)
{
	unsigned long long st;
	if (vlab_proc_starttime(getpid(), &st) < 0)
		return vlab_err_set(err, errno, "read /proc/self/stat");
	int n = snprintf(buf, len, "%s.%d.%llu", name, (int)getpid(), st);
	if (n < 0 || (size_t)n >= len)
		return vlab_err_set(err, ENAMETOOLONG, "owner tag for %s", name);
	return 0;
}

int ct_owner_alive(const char *tag)
{
	const char *dot2 = strrchr(tag, '.');
	if (!dot2 || dot2 == tag)
		return -1;
	const char *dot1 = dot2 - 1;
	while (dot1 > tag && *dot1 != '.')
		dot1--;
	if (*dot1 != '.' || dot1 == tag)
		return -1;
	char *end;
	long pid = strtol(dot1 + 1, &end, 10);
	if (end != dot2 || pid <= 0)
		return -1;
	unsigned long long want = strtoull(dot2 + 1, &end, 10), have;
	if (*end || dot2[1] == '\0')
		return -1;
	if (vlab_proc_starttime((pid_t)pid, &have) < 0)
		return 0;
	return have == want;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Opens up directories the kernel or the container made unreadable
 * (overlayfs' work/work is mode 000) so they can be walked. */
static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if ((flag == FTW_D || flag == FTW_DNR) && (st->st_mode & 0700) != 0700)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

int ct_rm_tree(const char *path, struct vlab_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : vlab_err_set(err, errno, "remove %s", path);
	nftw(path, open_up, 16, FTW_PHYS | FTW_MOUNT);
	if (nftw(path, rm_one, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH) < 0)
		return vlab_err_set(err, errno, "remove %s", path);
	return 0;
}
