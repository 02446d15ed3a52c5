/* engines/container/seccomp.c: the container's system call filter
 * (libseccomp), and the runtime's side of its notifications.
 *
 * The profile is in the spirit of Docker's default: everything is allowed
 * except the calls that reach past the container (mount and the new mount
 * API, namespaces, kernel modules, kexec, keyrings, bpf, perf, io_uring,
 * clocks, ...), which fail with EPERM rather than killing the caller.  The
 * i386 and x32 entry points are filtered too: an `int $0x80` from a 64-bit
 * program must not be a way around the filter.  Labs add or remove calls
 * by name (seccomp.deny, seccomp.allow).
 *
 * Counting denials: the denied calls use SECCOMP_RET_USER_NOTIF where the
 * kernel offers it.  The kernel parks the caller and hands the call to the
 * runtime through a listener descriptor; the runtime counts it (counters
 * "seccomp.denied" and "seccomp.denied.<name>") and answers EPERM.  The
 * caller sees exactly what SECCOMP_RET_ERRNO would give it.  clone3 is
 * answered ENOSYS directly, uncounted, as Docker does: C libraries then
 * fall back to clone, whose namespace flags the filter can inspect. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/paths.h"
#include "engines/container/ct.h"

_Static_assert(sizeof(struct sock_filter) == CT_BPF_INSN, "BPF instruction size");

const char *const ct_seccomp_default_deny[] = {
	/* filesystems and the mount table */
	"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
	"move_mount", "open_tree", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
	"quotactl", "quotactl_fd", "swapon", "swapoff", "nfsservctl", "sysfs", "ustat", "uselib",
	/* namespaces */
	"unshare", "setns",
	/* the kernel itself: modules, kexec, reboot, tracing, bpf, keyrings */
	"init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms",
	"query_module", "kexec_load", "kexec_file_load", "reboot", "bpf", "perf_event_open",
	"lookup_dcookie", "keyctl", "add_key", "request_key", "_sysctl", "syslog", "acct",
	/* other processes' memory */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	/* the host's clocks and hardware */
	"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
	"clock_adjtime64", "iopl", "ioperm", "vm86", "vm86old", "vhangup",
	/* NUMA placement (CAP_SYS_NICE in Docker) */
	"mbind", "set_mempolicy", "get_mempolicy", "move_pages", "migrate_pages",
	/* newer attack surface */
	"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
	NULL,
};

static const int ns_flags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
			       CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};

static int allowed(const struct ct_config *cfg, int nr)
{
	for (int i = 0; i < cfg->nallow; i++)
		if (cfg->allow[i] == nr)
			return 1;
	return 0;
}

/* The user-notification action when the kernel has it. */
static int kernel_notifies(void)
{
	char buf[256] = "";
	FILE *f = fopen("/proc/sys/kernel/seccomp/actions_avail", "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "user_notif") != NULL;
}

static scmp_filter_ctx make_ctx(const struct ct_config *cfg, int notify, struct vlab_err *err)
{
	const uint32_t deny = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;
	if (!ctx) {
		vlab_err_set(err, ENOMEM, "seccomp_init");
		return NULL;
	}
	if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && rc != -EEXIST)
		goto fail_rc;
	if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && rc != -EEXIST)
		goto fail_rc;
	/* We set no_new_privs ourselves, in order, before loading. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (int i = 0; ct_seccomp_default_deny[i]; i++) {
		int nr = seccomp_syscall_resolve_name(ct_seccomp_default_deny[i]);
		if (nr == __NR_SCMP_ERROR || allowed(cfg, nr))
			continue; /* unknown to this libseccomp, or the lab allows it */
		if ((rc = seccomp_rule_add(ctx, deny, nr, 0)) < 0) {
			vlab_err_set(err, -rc, "seccomp rule for %s", ct_seccomp_default_deny[i]);
			goto fail;
		}
	}
	int clone_nr = seccomp_syscall_resolve_name("clone");
	if (!allowed(cfg, clone_nr))
		for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
			rc = seccomp_rule_add(ctx, deny, clone_nr, 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)ns_flags[i],
						      (scmp_datum_t)ns_flags[i]));
			if (rc < 0)
				goto fail_rc;
		}
	int clone3_nr = seccomp_syscall_resolve_name("clone3");
	if (clone3_nr != __NR_SCMP_ERROR && !allowed(cfg, clone3_nr) &&
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3_nr, 0)) < 0)
		goto fail_rc;
	for (int i = 0; i < cfg->ndeny; i++) {
		/* A lab rule replaces a default one for the same call (clone). */
		rc = seccomp_rule_add(ctx, deny, cfg->deny[i], 0);
		if (rc == -EEXIST)
			continue;
		if (rc < 0) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, cfg->deny[i]);
			vlab_err_set(err, -rc, "seccomp rule for %s (from seccomp.deny)",
				     name ? name : "?");
			free(name);
			goto fail;
		}
	}
	return ctx;
fail_rc:
	vlab_err_set(err, -rc, "build the seccomp filter");
fail:
	seccomp_release(ctx);
	return NULL;
}

/* ---- a cache of compiled filters ----
 *
 * libseccomp takes a good part of a millisecond to compile the profile,
 * always to the same program for the same rules.  The compiled program is
 * kept in <runtime dir>/seccomp/<key>.bpf, the key a hash of everything the
 * result depends on, the vlab binary that compiled it included (a rebuilt or
 * upgraded vlab never loads an older build's filter); a header guards
 * against a truncated or damaged file. */

#define CACHE_MAGIC 0x46424c56u /* "VLBF" */

struct cache_head {
	uint32_t magic, insns;
	uint64_t key, sum;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t cache_key(const struct ct_config *cfg, int notify)
{
	const struct scmp_version *v = seccomp_version();
	uint64_t h = fnv(0xcbf29ce484222325ull, "vlab-seccomp-1", 14);
	for (int i = 0; ct_seccomp_default_deny[i]; i++)
		h = fnv(h, ct_seccomp_default_deny[i], strlen(ct_seccomp_default_deny[i]) + 1);
	h = fnv(h, &notify, sizeof(notify));
	h = fnv(h, v, sizeof(*v));
	struct stat self;
	if (stat("/proc/self/exe", &self) == 0) {
		uint64_t id[4] = {self.st_dev, self.st_ino, (uint64_t)self.st_size,
				  (uint64_t)self.st_mtim.tv_sec * 1000000000ull +
				      (uint64_t)self.st_mtim.tv_nsec};
		h = fnv(h, id, sizeof(id));
	}
	h = fnv(h, &cfg->ndeny, sizeof(cfg->ndeny));
	h = fnv(h, cfg->deny, sizeof(int) * (size_t)cfg->ndeny);
	h = fnv(h, &cfg->nallow, sizeof(cfg->nallow));
	return fnv(h, cfg->allow, sizeof(int) * (size_t)cfg->nallow);
}

static int cache_path(uint64_t key, char *buf, size_t len, int make)
{
	char base[VLAB_PATH_MAX];
	if (vlab_runtime_dir(base, sizeof(base), NULL) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/seccomp", base);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (make && vlab_mkdir_p(buf, 0700, NULL) < 0)
		return -1;
	n = snprintf(buf, len, "%s/seccomp/%016llx.bpf", base, (unsigned long long)key);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int cache_load(uint64_t key, struct ct_seccomp *sc)
{
	char path[VLAB_PATH_MAX + 64];
	if (cache_path(key, path, sizeof(path), 0) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct cache_head h;
	void *bpf = NULL;
	if (read(fd, &h, sizeof(h)) != sizeof(h) || h.magic != CACHE_MAGIC || h.key != key ||
	    h.insns == 0 || h.insns > CT_BPF_MAX || !(bpf = malloc((size_t)h.insns * CT_BPF_INSN)) ||
	    read(fd, bpf, (size_t)h.insns * CT_BPF_INSN) != (ssize_t)h.insns * CT_BPF_INSN ||
	    fnv(key, bpf, (size_t)h.insns * CT_BPF_INSN) != h.sum) {
		free(bpf);
		close(fd);
		return -1;
	}
	close(fd);
	sc->bpf = bpf;
	sc->bpf_len = h.insns;
	return 0;
}

static void cache_store(uint64_t key, const struct ct_seccomp *sc)
{
	char path[VLAB_PATH_MAX + 64], tmp[VLAB_PATH_MAX + 96];
	if (cache_path(key, path, sizeof(path), 1) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	size_t len = sc->bpf_len * CT_BPF_INSN;
	struct cache_head h = {.magic = CACHE_MAGIC, .insns = (uint32_t)sc->bpf_len, .key = key,
			       .sum = fnv(key, sc->bpf, len)};
	int ok = write(fd, &h, sizeof(h)) == sizeof(h) && write(fd, sc->bpf, len) == (ssize_t)len;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

int ct_seccomp_build(const struct ct_config *cfg, struct ct_seccomp *sc, struct vlab_err *err)
{
	memset(sc, 0, sizeof(*sc));
	sc->notify = kernel_notifies();
	uint64_t key = cache_key(cfg, sc->notify);
	if (cache_load(key, sc) == 0)
		return 0;
	scmp_filter_ctx ctx = make_ctx(cfg, sc->notify, err);
	if (!ctx)
		return -1;
	/* Compile to classic BPF in memory; the container loads it itself. */
	int mfd = memfd_create("vlab-seccomp", MFD_CLOEXEC);
	if (mfd < 0) {
		seccomp_release(ctx);
		return vlab_err_set(err, errno, "memfd_create");
	}
	int rc = seccomp_export_bpf(ctx, mfd);
	seccomp_release(ctx);
	if (rc < 0) {
		close(mfd);
		return vlab_err_set(err, -rc, "compile the seccomp filter");
	}
	off_t len = lseek(mfd, 0, SEEK_END);
	if (len <= 0 || len % CT_BPF_INSN || len > CT_BPF_MAX * CT_BPF_INSN) {
		close(mfd);
		return vlab_err_set(err, EINVAL, "compiled seccomp filter has %lld bytes",
				    (long long)len);
	}
	sc->bpf = malloc((size_t)len);
	if (!sc->bpf || pread(mfd, sc->bpf, (size_t)len, 0) != len) {
		close(mfd);
		free(sc->bpf);
		sc->bpf = NULL;
		return vlab_err_set(err, EIO, "read the compiled seccomp filter");
	}
	close(mfd);
	sc->bpf_len = (size_t)len / CT_BPF_INSN;
	cache_store(key, sc);
	return 0;
}

void ct_seccomp_free(struct ct_seccomp *sc)
{
	free(sc->bpf);
	memset(sc, 0, sizeof(*sc));
}

int ct_seccomp_load(const struct ct_seccomp *sc, struct vlab_err *err)
{
	struct sock_fprog prog = {.len = (unsigned short)sc->bpf_len,
				  .filter = (struct sock_filter *)sc->bpf};
	unsigned flags = sc->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return vlab_err_set(err, errno, "load the seccomp filter");
	return sc->notify ? (int)r : -2;
}

/* The name of a notified call: x32 calls arrive as x86-64 with bit 30. */
static char *call_name(uint32_t arch, int nr)
{
	char *name = NULL;
	if (arch == SCMP_ARCH_X86_64 && (nr & 0x40000000))
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X32, nr);
	if (!name)
		name = seccomp_syscall_resolve_num_arch(arch, nr);
	return name;
}

int ct_seccomp_answer(const struct ct_seccomp *sc, int fd, struct vlab_counters *cs, int total_id,
		      struct vlab_child *child)
{
	(void)sc;
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return 0; /* out of memory: the call stays parked until retried */
	int rc = seccomp_notify_receive(fd, req);
	if (rc < 0) {
		seccomp_notify_free(req, resp);
		/* ENOENT: the caller died in the meantime; anything else: dead. */
		return rc == -ENOENT || rc == -EINTR ? 0 : -1;
	}
	resp->id = req->id;
	resp->val = 0;
	resp->error = -EPERM;
	resp->flags = 0;
	seccomp_notify_respond(fd, resp); /* ENOENT: the caller is gone */

	vlab_counter_add(cs, total_id, 1);
	char *name = call_name(req->data.arch, req->data.nr);
	char key[VLAB_COUNTER_NAME];
	snprintf(key, sizeof(key), "seccomp.denied.%s", name ? name : "other");
	int id = vlab_counters_id(cs, key);
	if (id >= 0 && cs && __atomic_load_n(&cs->c[id].value, __ATOMIC_RELAXED) == 0)
		vlab_child_log(child, "seccomp denied %s (pid %u, %s ABI) with EPERM",
			       name ? name : "?", req->pid,
			       req->data.arch == SCMP_ARCH_X86 ? "i386"
			       : (req->data.nr & 0x40000000) ? "x32"
							      : "x86-64");
	vlab_counter_add(cs, id, 1);
	free(name);
	seccomp_notify_free(req, resp);
	return 0;
}

int ct_seccomp_export_pfc(const struct ct_config *cfg, const char *path, struct vlab_err *err)
{
	scmp_filter_ctx ctx = make_ctx(cfg, kernel_notifies(), err);
	if (!ctx)
		return -1;
	FILE *f = fopen(path, "we");
	if (!f) {
		seccomp_release(ctx);
		return vlab_err_set(err, errno, "create %s", path);
	}
	fflush(f);
	int rc = seccomp_export_pfc(ctx, fileno(f));
	seccomp_release(ctx);
	if (fclose(f) != 0 || rc < 0)
		return vlab_err_set(err, rc < 0 ? -rc : errno, "write %s", path);
	return 0;
}
