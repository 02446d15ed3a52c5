/* engines/container/clone.c: creating the container's init with its
 * namespaces, and the setup conversation with the runtime.
 *
 * clone3() makes the init in new pid, mount, uts and ipc namespaces (and a
 * user namespace in rootless mode), returning a pidfd; on cgroup v2
 * directly inside its cgroup (CLONE_INTO_CGROUP), on v1 it moves itself
 * in, then makes its cgroup namespace (rooted at its own cgroup).  Its
 * network namespace was made meanwhile by a thread of the runtime (net.c)
 * and is joined with setns (with a user namespace the clone makes it).
 * The init forks the program's process (pid 2) at once: while the init
 * builds the container's filesystem, that process drops its privileges,
 * then waits for the filesystem and becomes the program; the init only
 * reaps from then on (init.c).  Runtime and container talk over a
 * SOCK_SEQPACKET pair:
 *
 *   runtime                  init (pid 1)             program (pid 2)
 *   cgroups made, filter
 *   compiled, exec socket,
 *   net namespace (thread),
 *   attributes (held)
 *   clone ---------------->  net namespace, cgroups,
 *                            cgroup namespace
 *   (user namespace:         (user namespace: waits
 *   uid/gid maps, GO ----->  for GO)
 *                            fork ------------------> host name,
 *   net=on: a veth with      mount namespace          loopback up,
 *   eth0 inside              private, overlay,        capabilities,
 *                            /proc /dev /sys,         no_new_privs, seccomp
 *        <---------------------------------------------- seccomp listener
 *                            pivot_root, old root     or none
 *                            detached, descriptors
 *                            closed; "ready" ------>  (waits for it)
 *   (net=on: GO ----------------------------------->  waits for it)
 *                                                     exec: the held events
 *                                                     go out in one write
 *        <---------------------------------------------- error, or end of file
 *
 * Everything the container needs is ready before the clone and inherited
 * with its memory.  Nothing else wakes up while the container is set up,
 * and no process is made late: on a busy machine each of those costs a
 * scheduler round. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/container/ct.h"

int ct_msg_send(int fd, char type, const char *text, int pass_fd, struct vlab_err *err)
{
	char buf[VLAB_ERR_MSG + 16];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%c%s", type, text ? text : "");
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vlab_err_set(err, errno, "send setup message");
	return 0;
}

int ct_msg_recv(int fd, char *text, size_t len, int *pass_fd, int timeout_ms,
		struct vlab_err *err)
{
	char buf[VLAB_ERR_MSG + 16];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	if (pass_fd)
		*pass_fd = -1;
	if (timeout_ms >= 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			vlab_err_set(err, ETIMEDOUT, "no setup message within %d ms", timeout_ms);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vlab_err_set(err, errno, "receive setup message");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (pass_fd && *pass_fd < 0)
				*pass_fd = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return 0;
	buf[n] = '\0';
	snprintf(text, len, "%s", buf + 1);
	return (unsigned char)buf[0];
}

void ct_msg_error(int fd, const struct vlab_err *err)
{
	char text[VLAB_ERR_MSG + 16];
	snprintf(text, sizeof(text), "%d %s", err ? err->code : 0, vlab_err_msg(err));
	ct_msg_send(fd, CT_MSG_ERROR, text, -1, NULL);
}

void ct_msg_parse_error(const char *text, struct vlab_err *err)
{
	char *end;
	long code = strtol(text, &end, 10);
	if (!err)
		return;
	err->code = (int)code;
	snprintf(err->msg, sizeof(err->msg), "%s", *end == ' ' ? end + 1 : text);
}

static int write_file(const char *path, const char *text, struct vlab_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s", path);
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	if (n != (ssize_t)strlen(text))
		return vlab_err_set(err, n < 0 ? e : EIO, "write '%s' to %s", text, path);
	return 0;
}

int ct_write_idmaps(const struct ct_runtime *rt, struct vlab_err *err)
{
	char path[64], map[64];
	const struct ct_config *c = &rt->cfg;
	if (c->rootless) {
		/* One id: the user's own, as root inside.  setgroups must be
		 * denied before an unprivileged process may write gid_map. */
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)rt->init_pid);
		if (write_file(path, "deny", err) < 0)
			return -1;
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)c->host_gid);
	} else {
		snprintf(map, sizeof(map), "0 %u 65536\n", (unsigned)c->map_base);
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)rt->init_pid);
	if (write_file(path, map, err) < 0)
		return -1;
	if (c->rootless)
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)c->host_uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)rt->init_pid);
	return write_file(path, map, err);
}

/* Waits for the runtime's GO; anything else ends the init. */
static int wait_go(int fd, struct vlab_err *err)
{
	char text[VLAB_ERR_MSG];
	int t = ct_msg_recv(fd, text, sizeof(text), NULL, -1, err);
	if (t == CT_MSG_GO)
		return 0;
	if (t == 0)
		return vlab_err_set(err, EPIPE, "the runtime went away during setup");
	if (t > 0)
		return vlab_err_set(err, EPROTO, "unexpected setup message '%c'", t);
	return -1;
}

/* The program's process (pid 2), forked by the init at once: while the
 * init builds the container's filesystem it drops its own privileges
 * (two CPUs work at once), then waits for the filesystem and becomes the
 * program.  (A process made at the end, after all that work, would wait on
 * a busy machine for its first turn: the scheduler charges it the CPU time
 * its cgroup has just used.)  Never returns. */
static void program_main(struct ct_runtime *rt, int fd, int mounted_fd) __attribute__((noreturn));
static void program_main(struct ct_runtime *rt, int fd, int mounted_fd)
{
	struct vlab_err err = {0};
	const struct ct_config *cfg = &rt->cfg;
	struct vlab_child *child = rt->child;

	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0) {
		vlab_err_set(&err, errno, "set the host name");
		goto fail;
	}
	if (ct_net_loopback(&err) < 0)
		goto fail;
	if (ct_caps_apply(ct_caps_effective(cfg), &err) < 0)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		vlab_err_set(&err, errno, "set no_new_privs");
		goto fail;
	}
	uint64_t seccomp_ns = 0;
	if (cfg->seccomp) {
		int lfd = ct_seccomp_load(&rt->sc, &err);
		if (lfd == -1)
			goto fail;
		/* The runtime answers the denied calls (seccomp.c). */
		if (ct_msg_send(fd, lfd >= 0 ? CT_MSG_FD : CT_MSG_NOFD, "", lfd, &err) < 0)
			goto fail;
		if (lfd >= 0)
			close(lfd);
		seccomp_ns = vlab_now_ns();
	}
	/* The init's word that the filesystem is ready, with when, then the
	 * end of file: it has closed its last descriptor.  End of file alone:
	 * it failed and has said why. */
	uint64_t mounted_ns, more;
	ssize_t n;
	do
		n = read(mounted_fd, &mounted_ns, sizeof(mounted_ns));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(mounted_ns))
		_exit(127);
	do
		n = read(mounted_fd, &more, sizeof(more));
	while (n < 0 && errno == EINTR);
	if (n != 0)
		_exit(127);
	close(mounted_fd);
	/* pivot_root gave us the container's root, but our working folder is
	 * still the runtime's, on the host: it would lead out. */
	if (chdir("/") < 0) {
		vlab_err_set(&err, errno, "chdir / in the container");
		goto fail;
	}
	/* (the phases in the order they happened) */
	if (seccomp_ns && seccomp_ns < mounted_ns)
		vlab_child_phase_at(child, "seccomp", seccomp_ns);
	vlab_child_phase_at(child, "mounts", mounted_ns);
	if (seccomp_ns >= mounted_ns)
		vlab_child_phase_at(child, "seccomp", seccomp_ns);

	/* net=on: the runtime plugs eth0 in meanwhile; the program finds it. */
	if (cfg->net) {
		if (wait_go(fd, &err) < 0)
			goto fail;
		vlab_child_phase(child, "net");
	}
	ct_program_exec(cfg->argv, child->control_fd, child->console_fd, fd, child);
fail:
	ct_msg_error(fd, &err);
	_exit(127);
}

/* The init, in its new namespaces: forks the program's process, builds
 * the container's filesystem meanwhile, tells it, and reaps.  Never
 * returns. */
static void child_main(struct ct_runtime *rt, int fd) __attribute__((noreturn));
static void child_main(struct ct_runtime *rt, int fd)
{
	struct vlab_err err = {0};
	const struct ct_config *cfg = &rt->cfg;
	struct vlab_child *child = rt->child;

	/* Dies with the runtime; the race before this line is caught by the
	 * setup socket (end of file). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The network namespace the runtime made meanwhile (net.c). */
	if (rt->netns.fd >= 0) {
		if (setns(rt->netns.fd, CLONE_NEWNET) < 0) {
			vlab_err_set(&err, errno, "join the container's network namespace");
			goto fail;
		}
		close(rt->netns.fd);
	}
	/* The runtime's held events are ours now (see runtime.c); they and
	 * ours go out in one write just before the program's exec, so the
	 * attributes are there before READY can be.  First: the init runs. */
	vlab_child_phase(child, "clone");
	ct_publish_start(rt);
	/* The host's /proc is still ours: it names our pid out there. */
	char self[32] = "";
	if (readlink("/proc/self", self, sizeof(self) - 1) > 0)
		vlab_child_attr(child, "init_pid", "%s", self);
	/* Into the cgroups first (v1): a process moving itself is cheap. */
	for (int i = 0; i < rt->ncg_self_fds; i++) {
		if (write(rt->cg_self_fds[i], "0", 1) != 1) {
			vlab_err_set(&err, errno, "move into the container's cgroup");
			goto fail;
		}
		close(rt->cg_self_fds[i]);
	}
	/* ...and a cgroup namespace rooted there, for the program and for
	 * whatever exec joins later (it joins ours). */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		vlab_err_set(&err, errno, "new cgroup namespace");
		goto fail;
	}
	ct_init_rename();
	if (cfg->userns) {
		/* the runtime writes our uid/gid maps first */
		if (wait_go(fd, &err) < 0)
			goto fail;
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			vlab_err_set(&err, errno, "become root in the user namespace");
			goto fail;
		}
	}
	/* (Dumpable as a user: see init.c, and the runtime writes our
	 * /proc/PID/uid_map, which is root's when we are not dumpable.) */
	if (!cfg->rootless)
		prctl(PR_SET_DUMPABLE, 0);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int mounted[2];
	if (pipe2(mounted, O_CLOEXEC) < 0) {
		vlab_err_set(&err, errno, "pipe to the program's process");
		goto fail;
	}
	pid_t program = fork();
	if (program < 0) {
		vlab_err_set(&err, errno, "start the container's program");
		goto fail;
	}
	if (program == 0) {
		close(mounted[1]);
		program_main(rt, fd, mounted[0]);
	}
	close(mounted[0]);
	/* The filesystem, in the mount namespace we share with the program
	 * (pivot_root moves its root too).  On failure our exit ends the
	 * pid namespace, the program with it. */
	if (ct_rootfs_mount(cfg, &rt->layer, cfg->rootless ? NULL : &rt->cg, &err) < 0 ||
	    ct_rootfs_pivot(&rt->layer, &err) < 0 || ct_rootfs_detach_old(&err) < 0)
		goto fail;
	ct_init_reap(program, mounted[1]);
fail:
	ct_msg_error(fd, &err);
	_exit(127);
}

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

int ct_clone_init(struct ct_runtime *rt, struct vlab_err *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return vlab_err_set(err, errno, "setup socket");
	uint64_t flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
	if (rt->netns.fd < 0)
		flags |= CLONE_NEWNET;
	if (rt->cfg.userns)
		flags |= CLONE_NEWUSER;
	int pidfd = -1;
	struct clone_args ca = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	/* cgroup v2: born in its cgroup, no migration afterwards. */
	if (rt->cg_clone_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)rt->cg_clone_fd;
	}
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	rt->cg_in = pid >= 0 && rt->cg_clone_fd >= 0;
	if (pid < 0 && rt->cg_clone_fd >= 0 && errno != ENOSYS) {
		ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP; /* then the runtime moves it */
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
	}
	if (pid < 0 && errno == ENOSYS) {
		pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
		if (pid > 0)
			pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	}
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return vlab_err_set(err, e, "clone the container's init with new namespaces");
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(rt, sv[1]);
	}
	close(sv[1]);
	rt->init_pid = (pid_t)pid;
	rt->sync_fd = sv[0];
	rt->init_pidfd = pidfd;
	if (pidfd < 0) {
		int e = errno;
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, NULL, 0);
		close(sv[0]);
		rt->sync_fd = -1;
		rt->init_pid = 0;
		return vlab_err_set(err, e, "pidfd of the container's init");
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	return 0;
}
