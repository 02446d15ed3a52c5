/* core/paths.c: the lookup order for vlab's files. */
#include "core/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VLAB_LIBDIR
#define VLAB_LIBDIR "/usr/local/lib/vlab"
#endif
#ifndef VLAB_DATADIR
#define VLAB_DATADIR "/usr/local/share/vlab"
#endif

static const char *image_files[VLAB_IMAGE_COUNT] = {
	[VLAB_IMAGE_KERNEL] = "vmlinuz",
	[VLAB_IMAGE_INITRAMFS] = "initramfs.cpio.gz",
	[VLAB_IMAGE_ROOTFS] = "rootfs",
	[VLAB_IMAGE_AGENT] = "vlab-agent",
	[VLAB_IMAGE_UNIKERNEL] = "agent.uk",
};

static const char *image_names[VLAB_IMAGE_COUNT] = {
	[VLAB_IMAGE_KERNEL] = "kernel",
	[VLAB_IMAGE_INITRAMFS] = "initramfs",
	[VLAB_IMAGE_ROOTFS] = "rootfs",
	[VLAB_IMAGE_AGENT] = "agent",
	[VLAB_IMAGE_UNIKERNEL] = "unikernel",
};

static int fmt(char *buf, size_t len, struct vlab_err *err, const char *f, const char *a,
	       const char *b)
{
	int n = snprintf(buf, len, f, a, b);
	if (n < 0 || (size_t)n >= len)
		return vlab_err_set(err, ENAMETOOLONG, "path %s%s is too long", a, b);
	return 0;
}

/* $VLAB_SELF, else /proc/self/exe; *from_env says which. */
static int resolve_self(char *buf, size_t len, int *from_env, struct vlab_err *err)
{
	const char *env = getenv("VLAB_SELF");
	*from_env = env && *env;
	if (*from_env) {
		char *rp = realpath(env, NULL);
		if (!rp)
			return vlab_err_set(err, errno, "VLAB_SELF=%s", env);
		int r = fmt(buf, len, err, "%s%s", rp, "");
		free(rp);
		return r;
	}
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return vlab_err_set(err, errno, "readlink /proc/self/exe");
	if ((size_t)n >= len - 1)
		return vlab_err_set(err, ENAMETOOLONG, "path of the vlab executable");
	buf[n] = '\0';
	return 0;
}

int vlab_self_exe(char *buf, size_t len, struct vlab_err *err)
{
	int from_env;
	if (resolve_self(buf, len, &from_env, err) < 0)
		return -1;
	/* Instances are this program re-executed; a test program linked with
	 * libvlab would run its own tests again instead, without end. */
	const char *base = strrchr(buf, '/');
	if (!from_env && strncmp(base ? base + 1 : buf, "vlab", 4))
		return vlab_err_set(err, ENOEXEC,
				    "%s is not vlab: set VLAB_SELF to the vlab executable", buf);
	return 0;
}

/* Directory holding the vlab executable. */
static int self_dir(char *buf, size_t len, struct vlab_err *err)
{
	int from_env;
	if (resolve_self(buf, len, &from_env, err) < 0)
		return -1;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* $env, else <selfdir>/<rel> when it exists, else installed. */
static int lookup(char *buf, size_t len, struct vlab_err *err, const char *env, const char *rel,
		  const char *installed)
{
	const char *e = getenv(env);
	if (e && *e)
		return fmt(buf, len, err, "%s%s", e, "");
	char dir[VLAB_PATH_MAX];
	if (self_dir(dir, sizeof(dir), err) < 0)
		return -1;
	if (fmt(buf, len, err, "%s/%s", dir, rel) < 0)
		return -1;
	/* A source tree: the executable sits beside build/. */
	char build[VLAB_PATH_MAX];
	if (is_dir(buf) || (fmt(build, sizeof(build), NULL, "%s/%s", dir, "build") == 0 && is_dir(build)))
		return 0;
	return fmt(buf, len, err, "%s%s", installed, "");
}

int vlab_program_path(const char *name, char *buf, size_t len)
{
	char dir[VLAB_PATH_MAX];
	if (self_dir(dir, sizeof(dir), NULL) < 0)
		return -1;
	/* Beside vlab (a build folder), in build/ beside it (a source tree);
	 * installed only for a vlab outside a source tree, never an older
	 * install's program for a vlab just built. */
	char build[VLAB_PATH_MAX];
	int tree = fmt(build, sizeof(build), NULL, "%s/%s", dir, "build") == 0 && is_dir(build);
	if (fmt(buf, len, NULL, "%s/%s", dir, name) == 0 && access(buf, X_OK) == 0)
		return 0;
	if (tree && fmt(buf, len, NULL, "%s/%s", build, name) == 0 && access(buf, X_OK) == 0)
		return 0;
	if (!tree && fmt(buf, len, NULL, "%s/%s", VLAB_LIBDIR, name) == 0 &&
	    access(buf, X_OK) == 0)
		return 0;
	return -1;
}

int vlab_image_dir(char *buf, size_t len, struct vlab_err *err)
{
	return lookup(buf, len, err, "VLAB_IMAGES", "build/images", VLAB_LIBDIR "/images");
}

int vlab_image_path(enum vlab_image which, char *buf, size_t len, struct vlab_err *err)
{
	if ((unsigned)which >= VLAB_IMAGE_COUNT)
		return vlab_err_set(err, EINVAL, "no image number %d", (int)which);
	char dir[VLAB_PATH_MAX];
	if (vlab_image_dir(dir, sizeof(dir), err) < 0)
		return -1;
	return fmt(buf, len, err, "%s/%s", dir, image_files[which]);
}

const char *vlab_image_name(enum vlab_image which)
{
	return (unsigned)which < VLAB_IMAGE_COUNT ? image_names[which] : "?";
}

int vlab_labs_dir(char *buf, size_t len, struct vlab_err *err)
{
	return lookup(buf, len, err, "VLAB_LABS", "labs", VLAB_DATADIR "/labs");
}

/* $xdg/vlab<suffix>, else $HOME/<fallback>/vlab<suffix>. */
static int xdg(char *buf, size_t len, struct vlab_err *err, const char *xdgvar,
	       const char *fallback, const char *suffix)
{
	const char *x = getenv(xdgvar);
	if (x && x[0] == '/')
		return snprintf(buf, len, "%s/vlab%s", x, suffix) < (int)len
			       ? 0
			       : vlab_err_set(err, ENAMETOOLONG, "$%s is too long", xdgvar);
	const char *home = getenv("HOME");
	if (!home || home[0] != '/')
		return vlab_err_set(err, ENOENT, "neither $%s nor $HOME is set", xdgvar);
	return snprintf(buf, len, "%s/%s/vlab%s", home, fallback, suffix) < (int)len
		       ? 0
		       : vlab_err_set(err, ENAMETOOLONG, "$HOME is too long");
}

int vlab_user_labs_dir(char *buf, size_t len, struct vlab_err *err)
{
	return xdg(buf, len, err, "XDG_DATA_HOME", ".local/share", "/labs");
}

int vlab_state_dir(char *buf, size_t len, struct vlab_err *err)
{
	return xdg(buf, len, err, "XDG_STATE_HOME", ".local/state", "");
}

int vlab_runtime_dir(char *buf, size_t len, struct vlab_err *err)
{
	const char *e = getenv("VLAB_RUNTIME_DIR");
	if (e && e[0] == '/')
		return fmt(buf, len, err, "%s%s", e, "");
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (x && x[0] == '/' && is_dir(x))
		return fmt(buf, len, err, "%s%s", x, "/vlab");
	if (geteuid() == 0)
		return fmt(buf, len, err, "%s%s", "/run/vlab", "");
	return snprintf(buf, len, "/tmp/vlab-%u", (unsigned)geteuid()) < (int)len
		       ? 0
		       : vlab_err_set(err, ENAMETOOLONG, "runtime dir");
}

int vlab_mkdir_p(const char *path, unsigned mode, struct vlab_err *err)
{
	char tmp[VLAB_PATH_MAX];
	if (strlen(path) >= sizeof(tmp))
		return vlab_err_set(err, ENAMETOOLONG, "mkdir %s", path);
	strcpy(tmp, path);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, mode) < 0 && errno != EEXIST)
				return vlab_err_set(err, errno, "mkdir %s", tmp);
			*p = c;
			if (!c)
				break;
		}
	}
	if (!is_dir(path))
		return vlab_err_set(err, ENOTDIR, "%s", path);
	return 0;
}
