/* engines/container/procdev.c: /dev, /proc and /sys inside the container.
 *
 * /dev is a fresh tmpfs mounted nodev, holding bind mounts of the host's
 * null, zero, full, random, urandom and tty nodes, its own devpts, shm and
 * mqueue: a container root that makes a device node (it keeps CAP_MKNOD, as
 * in Docker) cannot open it anywhere, since every writable place is nodev.
 * /proc is the container's own (its pid namespace) with Docker's masked
 * paths covered (/dev/null over files, an empty read-only tmpfs over
 * folders) and the kernel's tunables read-only.  /sys is read-only with
 * /sys/firmware masked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engines/container/ct.h"

#define FLAGS_SAFE (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

/* Paths hidden from the container (Docker's maskedPaths). */
static const char *const masked[] = {
	"proc/acpi",  "proc/asound",	  "proc/kcore",	      "proc/keys",
	"proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug",
	"proc/scsi",  "sys/firmware", "sys/devices/virtual/powercap",
};

/* Paths the container may read but not write (Docker's readonlyPaths). */
static const char *const readonly[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

static int path_at(char *buf, size_t len, const char *root, const char *rel, struct vlab_err *err)
{
	if (snprintf(buf, len, "%s/%s", root, rel) >= (int)len)
		return vlab_err_set(err, ENAMETOOLONG, "path %s/%s", root, rel);
	return 0;
}

/* mkdir that tolerates an existing folder (the image may ship it). */
static int ensure_dir(const char *root, const char *rel, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64];
	if (path_at(p, sizeof(p), root, rel, err) < 0)
		return -1;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return vlab_err_set(err, errno, "create /%s in the container", rel);
	return 0;
}

static int do_mount(const char *src, const char *root, const char *rel, const char *type,
		    unsigned long flags, const char *data, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64];
	if (path_at(p, sizeof(p), root, rel, err) < 0)
		return -1;
	if (mount(src, p, type, flags, data) < 0)
		return vlab_err_set(err, errno, "mount %s on /%s", type ? type : src, rel);
	return 0;
}

static int setup_dev(const char *root, int userns, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64];
	if (ensure_dir(root, "dev", err) < 0 ||
	    do_mount("tmpfs", root, "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
		     "mode=755,size=65536k", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		char host[64], rel[64];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		snprintf(rel, sizeof(rel), "dev/%s", dev_nodes[i]);
		if (path_at(p, sizeof(p), root, rel, err) < 0)
			return -1;
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			return vlab_err_set(err, errno, "create /%s", rel);
		close(fd);
		if (mount(host, p, NULL, MS_BIND, NULL) < 0)
			return vlab_err_set(err, errno, "bind %s into the container", host);
	}
	static const char *const links[][2] = {
		{"pts/ptmx", "dev/ptmx"},	   {"/proc/self/fd", "dev/fd"},
		{"/proc/self/fd/0", "dev/stdin"}, {"/proc/self/fd/1", "dev/stdout"},
		{"/proc/self/fd/2", "dev/stderr"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (path_at(p, sizeof(p), root, links[i][1], err) < 0)
			return -1;
		if (symlink(links[i][0], p) < 0)
			return vlab_err_set(err, errno, "create /%s", links[i][1]);
	}
	if (ensure_dir(root, "dev/pts", err) < 0 ||
	    do_mount("devpts", root, "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     userns ? "newinstance,ptmxmode=0666,mode=0620"
			    : "newinstance,ptmxmode=0666,mode=0620,gid=5",
		     err) < 0)
		return -1;
	if (ensure_dir(root, "dev/shm", err) < 0 ||
	    do_mount("shm", root, "dev/shm", "tmpfs", FLAGS_SAFE, "mode=1777,size=65536k", err) <
		    0)
		return -1;
	if (ensure_dir(root, "dev/mqueue", err) < 0 ||
	    do_mount("mqueue", root, "dev/mqueue", "mqueue", FLAGS_SAFE, NULL, err) < 0)
		return -1;
	return 0;
}

/* Covers rel: /dev/null over a file, an empty read-only tmpfs over a folder. */
static int mask(const char *root, const char *rel, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64], null[VLAB_PATH_MAX + 16];
	struct stat st;
	if (path_at(p, sizeof(p), root, rel, err) < 0)
		return -1;
	if (lstat(p, &st) < 0)
		return errno == ENOENT ? 0 : vlab_err_set(err, errno, "mask /%s", rel);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY | FLAGS_SAFE, NULL) < 0)
			return vlab_err_set(err, errno, "mask /%s", rel);
		return 0;
	}
	snprintf(null, sizeof(null), "%s/dev/null", root);
	if (mount(null, p, NULL, MS_BIND, NULL) < 0)
		return vlab_err_set(err, errno, "mask /%s", rel);
	return 0;
}

/* Bind rel onto itself, then remount it read-only (keeping the locked
 * nosuid/nodev/noexec flags, or a user namespace refuses the remount). */
static int make_readonly(const char *root, const char *rel, struct vlab_err *err)
{
	char p[VLAB_PATH_MAX + 64];
	if (path_at(p, sizeof(p), root, rel, err) < 0)
		return -1;
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : vlab_err_set(err, errno, "make /%s read-only", rel);
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | FLAGS_SAFE, NULL) < 0)
		return vlab_err_set(err, errno, "make /%s read-only", rel);
	return 0;
}

int ct_procdev_setup(const char *root, int userns, struct vlab_err *err)
{
	if (setup_dev(root, userns, err) < 0)
		return -1;
	if (ensure_dir(root, "proc", err) < 0 ||
	    do_mount("proc", root, "proc", "proc", FLAGS_SAFE, NULL, err) < 0)
		return -1;
	if (ensure_dir(root, "sys", err) < 0 ||
	    do_mount("sysfs", root, "sys", "sysfs", FLAGS_SAFE | MS_RDONLY, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		if (mask(root, masked[i], err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++)
		if (make_readonly(root, readonly[i], err) < 0)
			return -1;
	return 0;
}
