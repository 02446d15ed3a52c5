/* engines/container/rootfs.c: the container's root filesystem.
 *
 * The image is the read-only lower layer of an overlayfs; each instance
 * gets its own upper layer (the "container layer", Docker's word) under
 * the runtime folder, so what a container writes is visible on the host as
 * plain files and disappears with the instance.  In the container's own
 * mount namespace the overlay is mounted, /proc /dev /sys and the
 * container's cgroups are set up under it (procdev.c, cgroup.c), then
 * pivot_root makes it the root and the old root is detached: no path leads
 * back to the host's files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engines/container/ct.h"

int ct_rootfs_check(const char *rootfs, struct vlab_err *err)
{
	static const struct {
		const char *path;
		int dir; /* must be a directory when present (else: not a symlink) */
	} checks[] = {{"proc", 1}, {"dev", 1}, {"sys", 1}, {"dev/null", 0}};
	int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vlab_err_set(err, errno, "open image %s", rootfs);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct stat st;
		if (fstatat(dfd, checks[i].path, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* absent: made in the container layer */
		if (S_ISLNK(st.st_mode)) {
			close(dfd);
			return vlab_err_set(err, ELOOP,
					    "image %s: /%s is a symbolic link; refusing it (a mount "
					    "through it could land outside the container)",
					    rootfs, checks[i].path);
		}
		if (checks[i].dir && !S_ISDIR(st.st_mode)) {
			close(dfd);
			return vlab_err_set(err, ENOTDIR, "image %s: /%s is not a folder", rootfs,
					    checks[i].path);
		}
	}
	close(dfd);
	return 0;
}

/* Is path on a tmpfs? */
static int on_tmpfs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/* <dir>/vlab-<uid> in a sticky shared folder, ours only: made 0700 or
 * already a folder (not a link) owned by us with no access for others. */
/* dir/vlab-<uid><suffix>: made with mode when missing; refused unless it
 * is our own folder that grants nobody more than mode. */
static int own_subdir(const char *dir, const char *suffix, mode_t mode, char *out, size_t len)
{
	if (snprintf(out, len, "%s/vlab-%u%s", dir, (unsigned)geteuid(), suffix) >= (int)len)
		return -1;
	if (mkdir(out, mode) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0777 & ~mode))
		return -1;
	return (st.st_mode & 0777) == mode ? 0 : chmod(out, mode); /* (the umask) */
}

int ct_layer_base(char *buf, size_t len, struct vlab_err *err)
{
	if (vlab_runtime_dir(buf, len, err) < 0)
		return -1;
	/* The container layer lives in memory, as it does wherever /run is a
	 * tmpfs (most systems): on a disk filesystem, overlayfs' checks of
	 * its work folder at every mount cost half a millisecond.  Where the
	 * default runtime folder is on disk, a folder of ours in /dev/shm
	 * takes its place; VLAB_RUNTIME_DIR is taken as it is. */
	const char *env = getenv("VLAB_RUNTIME_DIR");
	char parent[VLAB_PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", buf);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if ((env && *env) || on_tmpfs(buf) || on_tmpfs(parent) || !on_tmpfs("/dev/shm"))
		return 0;
	char shm[VLAB_PATH_MAX];
	if (own_subdir("/dev/shm", "", 0700, shm, sizeof(shm)) == 0)
		snprintf(buf, len, "%s", shm);
	return 0;
}

/* The base for layers given to a mapped root (userns=on as root): the
 * overlay is mounted with that unprivileged id's rights, so every folder
 * on the way must let it pass.  Ours in /dev/shm (or /tmp), 0711: it may
 * pass, not list; each layer inside is its own and 0700. */
static int mapped_base(char *out, size_t len, int make)
{
	const char *dir = on_tmpfs("/dev/shm") ? "/dev/shm" : "/tmp";
	if (!make)
		return snprintf(out, len, "%s/vlab-%u-mapped", dir, (unsigned)geteuid()) < (int)len
			   ? 0
			   : -1;
	return own_subdir(dir, "-mapped", 0711, out, len);
}

int ct_layer_make(struct ct_layer *l, const char *tag, uid_t uid, gid_t gid,
		  struct vlab_err *err)
{
	char base[VLAB_PATH_MAX];
	int mapped = uid != geteuid();
	memset(l, 0, sizeof(*l));
	if (mapped) {
		if (mapped_base(base, sizeof(base), 1) < 0)
			return vlab_err_set(err, errno ? errno : EPERM,
					    "no folder for a mapped root's layer in /dev/shm or /tmp");
	} else if (ct_layer_base(base, sizeof(base), err) < 0) {
		return -1;
	}
	if (snprintf(l->dir, sizeof(l->dir), "%s/ct/%s", base, tag) >= (int)sizeof(l->dir) ||
	    snprintf(l->upper, sizeof(l->upper), "%s/upper", l->dir) >= (int)sizeof(l->upper) ||
	    snprintf(l->work, sizeof(l->work), "%s/work", l->dir) >= (int)sizeof(l->work) ||
	    snprintf(l->merged, sizeof(l->merged), "%s", l->dir) >= (int)sizeof(l->merged))
		return vlab_err_set(err, ENAMETOOLONG, "container layer under %s", base);
	if (strpbrk(l->dir, ",:\\"))
		return vlab_err_set(err, EINVAL, "runtime folder %s has ',' ':' or '\\'", base);
	if (mkdir(l->dir, 0700) < 0) {
		if (errno != ENOENT)
			return vlab_err_set(err, errno, "create %s", l->dir);
		char parent[VLAB_PATH_MAX + 8];
		snprintf(parent, sizeof(parent), "%s/ct", base);
		if (vlab_mkdir_p(parent, mapped ? 0711 : 0700, err) < 0)
			return -1;
		if (mkdir(l->dir, 0700) < 0)
			return vlab_err_set(err, errno, "create %s", l->dir);
	}
	/* The overlay is mounted on the folder itself (in the container's
	 * mount namespace only): upper/ and work/ stay reachable from the
	 * host, and there is no mount point to make. */
	if (mkdir(l->upper, 0755) < 0 || mkdir(l->work, 0700) < 0) {
		int e = errno;
		ct_rm_tree(l->dir, NULL);
		return vlab_err_set(err, e, "create the container layer in %s", l->dir);
	}
	/* With a user namespace as root, the container's root owns its layer. */
	if (mapped && (chown(l->upper, uid, gid) < 0 || chown(l->work, uid, gid) < 0 ||
				 chown(l->dir, uid, gid) < 0)) {
		int e = errno;
		ct_rm_tree(l->dir, NULL);
		return vlab_err_set(err, e, "give the container layer to uid %u", (unsigned)uid);
	}
	return 0;
}

int ct_layer_remove(struct ct_layer *l, struct vlab_err *err)
{
	if (!l->dir[0])
		return 0;
	if (ct_rm_tree(l->dir, err) < 0)
		return -1;
	l->dir[0] = '\0';
	return 0;
}

static int sweep_base(const char *base, struct vlab_err *err)
{
	char parent[VLAB_PATH_MAX + 8];
	snprintf(parent, sizeof(parent), "%s/ct", base);
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || ct_owner_alive(e->d_name) != 0)
			continue;
		char p[VLAB_PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		if (ct_rm_tree(p, err) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int ct_layer_sweep(struct vlab_err *err)
{
	char base[VLAB_PATH_MAX], layers[VLAB_PATH_MAX];
	if (vlab_runtime_dir(base, sizeof(base), err) < 0 ||
	    ct_layer_base(layers, sizeof(layers), err) < 0)
		return -1;
	int rc = sweep_base(base, err);
	if (strcmp(base, layers) && sweep_base(layers, err) < 0)
		rc = -1;
	char mapped[VLAB_PATH_MAX];
	if (geteuid() == 0 && mapped_base(mapped, sizeof(mapped), 0) == 0 &&
	    sweep_base(mapped, err) < 0)
		rc = -1;
	return rc;
}

int ct_rootfs_mount(const struct ct_config *cfg, const struct ct_layer *l,
		    const struct ct_cgroup *cg, struct vlab_err *err)
{
	char opts[VLAB_PATH_MAX * 3 + 64];
	/* Nothing we mount from here on propagates back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return vlab_err_set(err, errno, "make the mount tree private");
	/* volatile: the layer is thrown away with the container, so the
	 * overlay need not sync it to disk (Linux 5.10; retried without). */
	int n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s%s,volatile",
			 cfg->rootfs, l->upper, l->work, cfg->userns ? ",userxattr" : "");
	if (n < 0 || (size_t)n >= sizeof(opts))
		return vlab_err_set(err, ENAMETOOLONG, "overlay options");
	/* nodev: device nodes a container makes on its layer do not open. */
	int r = mount("overlay", l->merged, "overlay", MS_NODEV, opts);
	if (r < 0 && errno == EINVAL) {
		opts[n - 9] = '\0';
		r = mount("overlay", l->merged, "overlay", MS_NODEV, opts);
	}
	if (r < 0 && errno == EACCES && cfg->userns && !cfg->rootless)
		return vlab_err_set(err, errno,
				    "mount the overlay (%s): with userns=on the container's root "
				    "is uid %u of the host, which must be able to reach the image",
				    opts, (unsigned)cfg->map_base);
	if (r < 0)
		return vlab_err_set(err, errno, "mount the overlay (%s)", opts);
	if (ct_procdev_setup(l->merged, cfg->userns, err) < 0)
		return -1;
	if (cg && ct_cgroup_mount_inside(cg, l->merged, err) < 0)
		return -1;
	return 0;
}

int ct_rootfs_pivot(const struct ct_layer *l, struct vlab_err *err)
{
	/* pivot_root(".", "."): the old root ends up stacked on top of the
	 * new one and is detached at once (ct_rootfs_detach_old), so it needs
	 * no folder in the image. */
	if (chdir(l->merged) < 0)
		return vlab_err_set(err, errno, "chdir %s", l->merged);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return vlab_err_set(err, errno, "pivot_root into %s", l->merged);
	return 0;
}

int ct_rootfs_detach_old(struct vlab_err *err)
{
	if (umount2(".", MNT_DETACH) < 0)
		return vlab_err_set(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return vlab_err_set(err, errno, "chdir /");
	return 0;
}

static uint64_t tree_sum;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		tree_sum += (uint64_t)st->st_size;
	return 0;
}

uint64_t ct_tree_bytes(const char *path)
{
	tree_sum = 0;
	nftw(path, add_size, 16, FTW_PHYS | FTW_MOUNT);
	return tree_sum;
}
