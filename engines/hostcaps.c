/* engines/hostcaps.c: probe the host by trying each feature. */
#include "engines/hostcaps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engines/kvm/probe.h"

void vlab_hostcaps_probe_kvm(struct vlab_hostcaps *c, unsigned flags)
{
	struct stat st;
	c->kvm_present = stat("/dev/kvm", &st) == 0 && S_ISCHR(st.st_mode);
	if (!c->kvm_present) {
		c->kvm_open_errno = ENOENT;
		return;
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		c->kvm_open_errno = errno;
		return;
	}
	c->kvm_api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	static const char *mods[] = {"kvm_intel", "kvm_amd", "kvm_pvm", NULL};
	for (int i = 0; mods[i]; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/sys/module/%s", mods[i]);
		if (access(p, F_OK) == 0) {
			snprintf(c->kvm_module, sizeof(c->kvm_module), "%s", mods[i]);
			break;
		}
	}
	if (!(flags & VLAB_CAPS_MEASURE_KVM))
		return;
	struct kvm_loop_cost l0, l3;
	struct vlab_err err = {0};
	if (kvm_measure_loop(3, 2000000, &l3, &err) < 0 || kvm_measure_loop(0, 2000000, &l0, &err) < 0) {
		snprintf(c->kvm_measure_error, sizeof(c->kvm_measure_error), "%s", vlab_err_msg(&err));
		return;
	}
	c->kvm_measured = 1;
	c->cpl0_ns = l0.ns_per_iter;
	c->cpl3_ns = l3.ns_per_iter;
	c->ratio = l3.ns_per_iter > 0 ? l0.ns_per_iter / l3.ns_per_iter : 0;
	c->kvm_hw = c->ratio > 0 && c->ratio < KVM_EMULATED_RATIO;
}

/* Runs fn in a forked child; returns 0 or the errno it reported. */
static int in_child(int (*fn)(int arg), int arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return ECHILD;
	return WIFEXITED(st) ? WEXITSTATUS(st) : ECHILD;
}

static int try_unshare(int flag)
{
	/* Without root, every namespace needs a user namespace first. */
	if (geteuid() != 0 && flag != CLONE_NEWUSER)
		flag |= CLONE_NEWUSER;
	return unshare(flag) == 0 ? 0 : errno;
}

static int try_userns_unpriv(int unused)
{
	(void)unused;
	if (geteuid() == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			return errno;
	}
	return unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
}

static void probe_ns(struct vlab_hostcaps *c)
{
	static const struct {
		const char *name;
		int flag;
	} all[VLAB_NS_COUNT] = {
		{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
		{"uts", CLONE_NEWUTS},   {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},
		{"cgroup", CLONE_NEWCGROUP},
	};
	for (int i = 0; i < VLAB_NS_COUNT; i++) {
		c->ns[i].name = all[i].name;
		c->ns[i].flag = all[i].flag;
		c->ns[i].err = in_child(try_unshare, all[i].flag);
		c->ns[i].ok = c->ns[i].err == 0;
	}
	c->userns_unpriv_err = in_child(try_userns_unpriv, 0);
	c->userns_unpriv = c->userns_unpriv_err == 0;
}

static void read_first_line(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void probe_cgroups(struct vlab_hostcaps *c)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f) && c->ncg < VLAB_CG_MAX) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *dash = strstr(line, " - ");
		if (!dash)
			continue;
		char mnt[256], fstype[32], src[64], sopts[512] = "";
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    sscanf(dash + 3, "%31s %63s %511s", fstype, src, sopts) < 2)
			continue;
		struct vlab_cg_mount *m = &c->cg[c->ncg];
		if (!strcmp(fstype, "cgroup2")) {
			m->version = 2;
			snprintf(m->path, sizeof(m->path), "%s", mnt);
			char p[300];
			snprintf(p, sizeof(p), "%s/cgroup.controllers", mnt);
			read_first_line(p, m->controllers, sizeof(m->controllers));
		} else if (!strcmp(fstype, "cgroup")) {
			m->version = 1;
			snprintf(m->path, sizeof(m->path), "%s", mnt);
			/* controllers are the super options that are not rw/ro/... */
			char *save = NULL;
			size_t used = 0;
			for (char *t = strtok_r(sopts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (!strcmp(t, "rw") || !strcmp(t, "ro") || !strncmp(t, "name=", 5) ||
				    !strncmp(t, "release_agent", 13) || !strcmp(t, "clone_children") ||
				    !strcmp(t, "noprefix") || !strcmp(t, "xattr"))
					continue;
				int w = snprintf(m->controllers + used, sizeof(m->controllers) - used,
						 "%s%s", used ? " " : "", t);
				if (w > 0 && (size_t)w < sizeof(m->controllers) - used)
					used += (size_t)w;
			}
			if (!used)
				continue; /* a named hierarchy such as name=systemd */
		} else {
			continue;
		}
		m->writable = access(m->path, W_OK) == 0;
		c->ncg++;
	}
	fclose(f);
}

static int word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' '))
			return 1;
	return 0;
}

const struct vlab_cg_mount *vlab_hostcaps_cgroup(const struct vlab_hostcaps *c,
						 const char *controller)
{
	for (int i = 0; i < c->ncg; i++)
		if (word_in(c->cg[i].controllers, controller))
			return &c->cg[i];
	return NULL;
}

static void probe_misc(struct vlab_hostcaps *c)
{
	c->seccomp_filter = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
	read_first_line("/proc/sys/kernel/seccomp/actions_avail", c->seccomp_actions,
			sizeof(c->seccomp_actions));
	FILE *f = fopen("/proc/filesystems", "re");
	if (f) {
		char line[128];
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "\toverlay\n"))
				c->overlayfs = 1;
		fclose(f);
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		c->tun = 1;
		close(fd);
	}
}

static void probe_qemu(struct vlab_hostcaps *c)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char p[512];
		snprintf(p, sizeof(p), "%s/qemu-system-x86_64", d);
		if (access(p, X_OK) == 0) {
			snprintf(c->qemu_path, sizeof(c->qemu_path), "%s", p);
			break;
		}
	}
	if (!c->qemu_path[0])
		return;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", c->qemu_path);
	FILE *f = popen(cmd, "re");
	if (!f)
		return;
	char line[256] = "";
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		const char *v = strstr(line, "version ");
		snprintf(c->qemu_version, sizeof(c->qemu_version), "%s", v ? v + 8 : line);
	}
	pclose(f);
}

static uint64_t tree_bytes(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	uint64_t sum = 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[VLAB_PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", path, e->d_name) < (int)sizeof(p))
			sum += tree_bytes(p);
	}
	closedir(d);
	return sum;
}

static void probe_images(struct vlab_hostcaps *c)
{
	for (int i = 0; i < VLAB_IMAGE_COUNT; i++) {
		if (vlab_image_path((enum vlab_image)i, c->image[i].path, sizeof(c->image[i].path),
				    NULL) < 0)
			continue;
		c->image[i].built = access(c->image[i].path, R_OK) == 0;
		if (c->image[i].built)
			c->image[i].bytes = tree_bytes(c->image[i].path);
	}
}

void vlab_hostcaps_probe(struct vlab_hostcaps *c, unsigned flags)
{
	memset(c, 0, sizeof(*c));
	c->is_root = geteuid() == 0;
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(c->kernel, sizeof(c->kernel), "%s %s", u.sysname, u.release);
	vlab_hostcaps_probe_kvm(c, flags);
	probe_ns(c);
	probe_cgroups(c);
	probe_misc(c);
	probe_qemu(c);
	probe_images(c);
}

const char *vlab_avail_level_name(enum vlab_avail_level level)
{
	switch (level) {
	case VLAB_AVAIL_YES: return "yes";
	case VLAB_AVAIL_DEGRADED: return "degraded";
	default: return "no";
	}
}

#define SAY(a, lvl, be, ...)                                                                       \
	do {                                                                                       \
		(a)->level = (lvl);                                                                \
		snprintf((a)->backend, sizeof((a)->backend), "%s", (be));                          \
		snprintf((a)->reason, sizeof((a)->reason), __VA_ARGS__);                           \
	} while (0)

/* Keeps the backend, says why it cannot run after all. */
#define REFUSE(a, ...)                                                                             \
	do {                                                                                       \
		(a)->level = VLAB_AVAIL_NO;                                                        \
		snprintf((a)->reason, sizeof((a)->reason), __VA_ARGS__);                           \
	} while (0)

void vlab_avail_vm(const struct vlab_hostcaps *c, struct vlab_avail *a)
{
	int kvm_ok = c->kvm_present && c->kvm_open_errno == 0;
	if (kvm_ok && c->kvm_measured && c->kvm_hw)
		SAY(a, VLAB_AVAIL_YES, "kvm",
		    "KVM is hardware-assisted (CPL 0 loop %.1fx the CPL 3 loop): vlab's own VMM "
		    "boots the Linux guest",
		    c->ratio);
	else if (c->qemu_path[0])
		SAY(a, VLAB_AVAIL_DEGRADED, "tcg",
		    "%s: the Linux guest runs under QEMU software emulation (tcg), every figure "
		    "marked emulated; vlab's own VMM runs only its small test guests here",
		    !c->kvm_present    ? "no /dev/kvm"
		    : !kvm_ok          ? "/dev/kvm cannot be opened"
		    : c->kvm_measured  ? "KVM emulates guest kernel code (CPL 0) here"
				       : "KVM could not be measured");
	else
		SAY(a, VLAB_AVAIL_NO, "none",
		    "%s and qemu-system-x86_64 is missing (apt-get install qemu-system-x86)",
		    kvm_ok ? "KVM here cannot run a Linux kernel in useful time" : "no usable /dev/kvm");
	if (a->level != VLAB_AVAIL_NO &&
	    (!c->image[VLAB_IMAGE_KERNEL].built || !c->image[VLAB_IMAGE_INITRAMFS].built))
		REFUSE(a, "the kernel and initramfs are not built yet (make images)");
}

void vlab_avail_container(const struct vlab_hostcaps *c, struct vlab_avail *a)
{
	int all = 1;
	for (int i = 1; i < VLAB_NS_COUNT; i++)
		all &= c->ns[i].ok;
	if (!all && !c->is_root)
		SAY(a, VLAB_AVAIL_NO, "none",
		    "namespaces cannot be created here (unprivileged user namespaces are off?)");
	else if (!all)
		SAY(a, VLAB_AVAIL_NO, "none", "some namespace types are missing from this kernel");
	else if (!c->is_root)
		SAY(a, VLAB_AVAIL_DEGRADED, "rootless",
		    "rootless: namespaces inside a user namespace, no cgroup limits (run as root "
		    "for memory, pids and cpu limits)");
	else if (vlab_hostcaps_cgroup(c, "memory") && vlab_hostcaps_cgroup(c, "pids") &&
		 vlab_hostcaps_cgroup(c, "cpu"))
		SAY(a, VLAB_AVAIL_YES,
		    vlab_hostcaps_cgroup(c, "memory")->version == 2 ? "cgroup-v2" : "cgroup-v1",
		    "all namespaces, cgroup limits (memory, pids, cpu), seccomp and capabilities");
	else
		SAY(a, VLAB_AVAIL_DEGRADED, "no-limits",
		    "namespaces work but memory/pids/cpu cgroup controllers are missing");
	if (a->level != VLAB_AVAIL_NO && !c->overlayfs)
		REFUSE(a, "overlayfs is missing from this kernel");
	if (a->level != VLAB_AVAIL_NO && !c->image[VLAB_IMAGE_ROOTFS].built)
		REFUSE(a, "the container rootfs is not built yet (make images)");
}

void vlab_avail_unikernel(const struct vlab_hostcaps *c, struct vlab_avail *a)
{
	if (!c->kvm_present || c->kvm_open_errno)
		SAY(a, VLAB_AVAIL_NO, "none", "the unikernel needs /dev/kvm (%s)",
		    c->kvm_present ? strerror(c->kvm_open_errno) : "absent");
	else if (!c->image[VLAB_IMAGE_UNIKERNEL].built)
		SAY(a, VLAB_AVAIL_NO, "kvm", "the unikernel image is not built yet (make images)");
	else
		SAY(a, VLAB_AVAIL_YES, "kvm",
		    "the unikernel runs at CPL 3 on KVM: native speed%s",
		    c->kvm_measured && !c->kvm_hw ? " even though this KVM emulates CPL 0" : "");
}
