/* engines/confine.c: the seccomp profiles of the VMM and the unikernel
 * monitor, and the SIGSYS handler that reports a forbidden call. */
#include "engines/confine.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

enum cond {
	ANY,	  /* allowed whatever the arguments */
	NO_EXEC,  /* mmap, mprotect: never PROT_EXEC */
	THREADS,  /* clone: CLONE_THREAD set (a thread, never a process) */
	SHARED_VM, /* clone: CLONE_VM set (LeakSanitizer's tracer, not a fork) */
	SELF,	  /* tgkill: to this process only */
	IOCTLS,	  /* ioctl: the profile's request numbers only */
	ENOSYS_,  /* refused with ENOSYS (clone3: glibc falls back to clone) */
};

struct call {
	const char *name;
	enum cond cond;
};

/* What every run loop does: move bytes on descriptors it already has,
 * wait, keep time, allocate memory, handle its signals, end. */
static const struct call common[] = {
    {"read", ANY},	     {"write", ANY},	     {"readv", ANY},
    {"writev", ANY},	     {"pread64", ANY},	     {"pwrite64", ANY},
    {"preadv", ANY},	     {"pwritev", ANY},	     {"recvfrom", ANY},
    {"sendto", ANY},	     {"recvmsg", ANY},	     {"sendmsg", ANY},
    {"poll", ANY},	     {"ppoll", ANY},	     {"close", ANY},
    {"fcntl", ANY},	     {"lseek", ANY},	     {"fstat", ANY},
    {"newfstatat", ANY},     {"fdatasync", ANY},     {"fsync", ANY},
    {"ioctl", IOCTLS},	     {"futex", ANY},	     {"brk", ANY},
    {"mmap", NO_EXEC},	     {"mprotect", NO_EXEC},  {"munmap", ANY},
    {"mremap", ANY},	     {"madvise", ANY},	     {"rt_sigaction", ANY},
    {"rt_sigprocmask", ANY}, {"rt_sigreturn", ANY},  {"sigaltstack", ANY},
    {"restart_syscall", ANY}, {"alarm", ANY},	     {"setitimer", ANY},
    {"clock_gettime", ANY},  {"clock_nanosleep", ANY}, {"nanosleep", ANY},
    {"sched_yield", ANY},    {"getpid", ANY},	     {"gettid", ANY},
    {"tgkill", SELF},	     {"exit", ANY},	     {"exit_group", ANY},
    {NULL, ANY},
};

/* The VMM also starts its vCPU threads after confinement, its virtio-rng
 * reads the host's generator, and threads end. */
static const struct call vmm_extra[] = {
    {"clone", THREADS},	    {"clone3", ENOSYS_}, {"set_robust_list", ANY}, {"rseq", ANY},
    {"getrandom", ANY},	    {"sched_getaffinity", ANY}, {NULL, ANY},
};

#ifdef SANITIZED
/* The sanitizer runtime: reports read /proc/self/maps; LeakSanitizer
 * stops the world with a tracer thread at exit.  (The sanitizer calls open,
 * stat and getdents on x86-64, not their *at forms, and its tracer runs
 * with SIGSYS blocked: a call missing here kills the tracer silently and
 * the process waits for it forever.) */
static const struct call sanitizer_extra[] = {
    {"open", ANY},    {"openat", ANY},	   {"stat", ANY},     {"lstat", ANY},
    {"access", ANY},  {"getdents", ANY},   {"getdents64", ANY}, {"readlink", ANY},
    {"prctl", ANY},   {"getrlimit", ANY},  {"arch_prctl", ANY},
    {"ptrace", ANY},  {"wait4", ANY},	   {"clone", SHARED_VM}, {"prlimit64", ANY},
    {"getppid", ANY}, {"sched_getaffinity", ANY}, {"kill", ANY}, {NULL, ANY},
};
#endif

struct ioctl_req {
	const char *name;
	unsigned long nr;
};

#define REQ(x) {#x, x}
static const struct ioctl_req uk_ioctls[] = {
    REQ(KVM_RUN), REQ(KVM_GET_REGS), REQ(KVM_GET_SREGS), REQ(KVM_GET_MSRS), {NULL, 0},
};
/* Run loop, interrupts (lines and MSIs), and what explaining a guest's
 * fault reads (registers, an address translated). */
static const struct ioctl_req vmm_ioctls[] = {
    REQ(KVM_RUN),	  REQ(KVM_IRQ_LINE),  REQ(KVM_SIGNAL_MSI), REQ(KVM_GET_REGS),
    REQ(KVM_GET_SREGS), REQ(KVM_TRANSLATE), {NULL, 0},
};

struct profile {
	const char *name;
	const struct call *extra;
	const struct ioctl_req *ioctls;
};

static const struct profile profiles[VLAB_CONFINE_PROFILES] = {
    [VLAB_CONFINE_UNIKERNEL] = {"unikernel", NULL, uk_ioctls},
    [VLAB_CONFINE_VMM] = {"vmm", vmm_extra, vmm_ioctls},
};

const char *vlab_confine_name(enum vlab_confine_profile profile)
{
	return (unsigned)profile < VLAB_CONFINE_PROFILES ? profiles[profile].name : NULL;
}

/* ---- the SIGSYS handler (async-signal-safe: no stdio, no malloc) ---- */

#define NAMES 512
static const char *names[NAMES]; /* syscall numbers resolved before the filter */
static const char *confined_as;

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(tmp));
	if (v < 0 && at + 1 < cap)
		buf[at++] = '-';
	while (n && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char line[256];
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < NAMES && names[nr] ? names[nr] : "?";
	for (int kind = 0; kind < 2; kind++) {
		size_t n = put(line, 0, sizeof(line), kind ? "error " : "log ");
		n = put(line, n, sizeof(line), "confinement: the ");
		n = put(line, n, sizeof(line), confined_as ? confined_as : "instance");
		n = put(line, n, sizeof(line), " made a system call its seccomp filter forbids: ");
		n = put(line, n, sizeof(line), name);
		n = put(line, n, sizeof(line), " (");
		n = put_num(line, n, sizeof(line), nr);
		n = put(line, n, sizeof(line), si->si_arch == AUDIT_ARCH_X86_64 ? "" : ", foreign ABI");
		n = put(line, n, sizeof(line), "); stopped with SIGSYS\n");
		(void)!write(VLAB_CHILD_EVENT_FD, line, n);
	}
	/* Die of the signal itself: default action, delivered on return. */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(sig, &dfl, NULL);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

/* ---- building the filter ---- */

static struct scmp_arg_cmp arg(unsigned nr, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	return (struct scmp_arg_cmp){.arg = nr, .op = op, .datum_a = a, .datum_b = b};
}

static int add_call(scmp_filter_ctx ctx, const struct call *c, const struct ioctl_req *ioctls,
		    struct vlab_err *err)
{
	int nr = seccomp_syscall_resolve_name(c->name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call of this architecture */
	int rc = 0;
	switch (c->cond) {
	case ANY:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		break;
	case NO_EXEC:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		break;
	case THREADS:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		break;
	case SHARED_VM:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      arg(0, SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM));
		break;
	case SELF:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      arg(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
		break;
	case IOCTLS:
		for (const struct ioctl_req *r = ioctls; r && r->name && rc == 0; r++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      arg(1, SCMP_CMP_EQ, (scmp_datum_t)r->nr, 0));
		break;
	case ENOSYS_:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		break;
	}
	/* The same rule listed twice (sanitizer extras): once is enough. */
	if (rc < 0 && rc != -EEXIST)
		return vlab_err_set(err, -rc, "seccomp rule for %s", c->name);
	return 0;
}

static int add_list(scmp_filter_ctx ctx, const struct call *list, const struct ioctl_req *ioctls,
		    struct vlab_err *err)
{
	for (; list && list->name; list++)
		if (add_call(ctx, list, ioctls, err) < 0)
			return -1;
	return 0;
}

static void resolve_names(void)
{
	for (int nr = 0; nr < NAMES; nr++)
		if (!names[nr])
			names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

int vlab_confine(enum vlab_confine_profile profile, struct vlab_child *child,
		 struct vlab_err *err)
{
	if ((unsigned)profile >= VLAB_CONFINE_PROFILES)
		return vlab_err_set(err, EINVAL, "no confinement profile %d", (int)profile);
	const struct profile *p = &profiles[profile];
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return vlab_err_set(err, ENOMEM, "seccomp_init");
	int rc;
	/* i386 (int 0x80) and x32 calls are not the run loop's: kill. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
		vlab_err_set(err, -rc, "seccomp attributes");
		goto fail;
	}
	if (add_list(ctx, common, p->ioctls, err) < 0 || add_list(ctx, p->extra, p->ioctls, err) < 0)
		goto fail;
#ifdef SANITIZED
	if (add_list(ctx, sanitizer_extra, p->ioctls, err) < 0)
		goto fail;
#endif
	resolve_names();
	confined_as = profile == VLAB_CONFINE_VMM ? "VMM" : "unikernel monitor";
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	struct rlimit nocore = {0, 0};
	if (sigaction(SIGSYS, &sa, NULL) < 0 || setrlimit(RLIMIT_CORE, &nocore) < 0) {
		vlab_err_set(err, errno, "SIGSYS handler");
		goto fail;
	}
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &sys, NULL);
	if ((rc = seccomp_load(ctx)) < 0) {
		vlab_err_set(err, -rc, "load the %s seccomp filter", p->name);
		goto fail;
	}
	seccomp_release(ctx);
	if (child) {
		vlab_child_attr(child, "confinement", "seccomp: %zu system calls",
				vlab_confine_describe(profile, NULL, 0));
		vlab_child_phase(child, "confine");
	}
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

/* ---- describing it ---- */

/* Was the same call with the same condition listed before entry e? */
static int listed_before(const struct call *const *lists, size_t nlists, const struct call *e)
{
	for (size_t l = 0; l < nlists; l++)
		for (const struct call *c = lists[l]; c && c->name; c++) {
			if (c == e)
				return 0;
			if (!strcmp(c->name, e->name) && c->cond == e->cond)
				return 1;
		}
	return 0;
}

size_t vlab_confine_describe(enum vlab_confine_profile profile, char (*out)[256], size_t max)
{
	static const char *const how[] = {
	    [ANY] = "",
	    [NO_EXEC] = ": never PROT_EXEC",
	    [THREADS] = ": threads only (CLONE_THREAD)",
	    [SHARED_VM] = ": sharing memory only (CLONE_VM)",
	    [SELF] = ": this process only",
	    [IOCTLS] = ":",
	    [ENOSYS_] = ": refused with ENOSYS",
	};
	if ((unsigned)profile >= VLAB_CONFINE_PROFILES)
		return 0;
	const struct profile *p = &profiles[profile];
	const struct call *lists[3] = {common, p->extra, NULL};
	size_t nlists = 2, n = 0;
#ifdef SANITIZED
	lists[nlists++] = sanitizer_extra;
#endif
	for (size_t l = 0; l < nlists; l++)
		for (const struct call *c = lists[l]; c && c->name; c++) {
			if (seccomp_syscall_resolve_name(c->name) == __NR_SCMP_ERROR ||
			    listed_before(lists, nlists, c))
				continue;
			if (n < max && out) {
				int k = snprintf(out[n], 256, "%s%s%s", c->name, how[c->cond],
						 l == 2 ? " (sanitizer build only)" : "");
				if (c->cond == IOCTLS)
					for (const struct ioctl_req *r = p->ioctls;
					     r->name && k > 0 && k < 256; r++)
						k += snprintf(out[n] + k, 256 - (size_t)k, " %s",
							      r->name);
			}
			n++;
		}
	return n;
}
