/* engines/container/exec.c: the runtime's side of exec into a running
 * container (the front end's side is exec_client.c).
 *
 * The runtime listens on the abstract socket "@vlab-ct/<owner tag>" and
 * serves the front end's uid and root only.
 * A request is one SOCK_SEQPACKET message on the exec socket: 'x', then
 * '1' for a terminal or '0' for the three descriptors passed along
 * (SCM_RIGHTS), then argv as NUL-separated strings.  The runtime forks a
 * helper, which joins the container's cgroups and namespaces (setns on
 * the init's pidfd) and forks the command, so that it is born inside the
 * pid namespace.  The command drops privileges exactly as the init did and
 * sends its seccomp listener back to the runtime.  The helper and the
 * command answer the client directly on its connection:
 *
 *   's' pid [+ terminal master]   started
 *   'e' errno message             could not start it
 *   'x' wait status               it ended                                */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "engines/container/ct.h"

#define REQ_MAX 65536

struct ct_exec_session {
	pid_t helper;
	int helper_fd; /* runtime side of the helper socket; -1 after its end */
	int listener;  /* seccomp listener received, not yet taken */
};

int ct_exec_listen(struct ct_runtime *rt, struct vlab_err *err)
{
	/* An abstract socket (no file to make and remove), in the host's
	 * network namespace; who may use it is checked per connection. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vlab-ct/%s", rt->tag);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1)
		return vlab_err_set(err, ENAMETOOLONG, "exec socket name for %s", rt->tag);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vlab_err_set(err, errno, "exec socket");
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "listen on @%s", sa.sun_path + 1);
	}
	snprintf(rt->exec_path, sizeof(rt->exec_path), "@%s", sa.sun_path + 1);
	rt->exec_fd = fd;
	return 0;
}

static void reply(int conn, char type, const char *text, int pass_fd)
{
	ct_msg_send(conn, type, text, pass_fd, NULL);
}

static void reply_error(int conn, const struct vlab_err *err)
{
	char text[VLAB_ERR_MSG + 16];
	snprintf(text, sizeof(text), "%d %s", err->code, err->msg);
	reply(conn, 'e', text, -1);
}

/* The command, inside every namespace.  Never returns. */
static void command(struct ct_runtime *rt, char **argv, int tty, int *stdio, int conn,
		    int helper_fd) __attribute__((noreturn));
static void command(struct ct_runtime *rt, char **argv, int tty, int *stdio, int conn,
		    int helper_fd)
{
	struct vlab_err err = {0};
	int master = -1;
	char text[32];
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsid();
	if (chdir("/") < 0) {
		vlab_err_set(&err, errno, "chdir / in the container");
		goto fail;
	}
	if (tty) {
		/* A terminal of the container's own devpts. */
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		char name[64];
		int slave = -1;
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
		    ptsname_r(master, name, sizeof(name)) != 0 ||
		    (slave = open(name, O_RDWR | O_CLOEXEC)) < 0) {
			vlab_err_set(&err, errno, "allocate a terminal in the container");
			goto fail;
		}
		ioctl(slave, TIOCSCTTY, 0);
		if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
			vlab_err_set(&err, errno, "terminal stdio");
			goto fail;
		}
		close(slave);
	} else {
		/* Move them out of the way first: they may sit on 0-2. */
		int hi[3];
		for (int i = 0; i < 3; i++)
			if ((hi[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 10)) < 0) {
				vlab_err_set(&err, errno, "stdio");
				goto fail;
			}
		for (int i = 0; i < 3; i++)
			if (dup2(hi[i], i) < 0) {
				vlab_err_set(&err, errno, "stdio");
				goto fail;
			}
	}
	if (ct_caps_apply(ct_caps_effective(&rt->cfg), &err) < 0)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		vlab_err_set(&err, errno, "set no_new_privs");
		goto fail;
	}
	if (rt->cfg.seccomp) {
		int lfd = ct_seccomp_load(&rt->sc, &err);
		if (lfd == -1)
			goto fail;
		if (lfd >= 0) {
			ct_msg_send(helper_fd, CT_MSG_FD, "", lfd, NULL);
			close(lfd);
		}
	}
	ct_slice_default();
	snprintf(text, sizeof(text), "%d", (int)getpid());
	reply(conn, 's', text, master);
	/* Only stdio (and the connection, closed by the exec) survive. */
	syscall(SYS_close_range, 3u, (unsigned)conn - 1, 0);
	syscall(SYS_close_range, (unsigned)conn + 1, ~0u, 0);
	execve(argv[0], argv, (char *const *)ct_container_env);
	vlab_err_set(&err, errno, "execute %s in the container", argv[0]);
fail:
	reply_error(conn, &err);
	_exit(127);
}

/* Closes every descriptor from 3 up but those in keep (-1 entries ignored). */
static void close_except(const int *keep, int n)
{
	int k[8], m = 0;
	for (int i = 0; i < n && m < 8; i++)
		if (keep[i] >= 3)
			k[m++] = keep[i];
	for (int i = 1; i < m; i++) /* insertion sort: a handful of entries */
		for (int j = i; j > 0 && k[j - 1] > k[j]; j--) {
			int t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	unsigned lo = 3;
	for (int i = 0; i < m; i++) {
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0u, 0);
}

/* The helper: joins the container, forks the command, reports its end. */
static void helper(struct ct_runtime *rt, char **argv, int tty, int *stdio, int conn,
		   int helper_fd) __attribute__((noreturn));
static void helper(struct ct_runtime *rt, char **argv, int tty, int *stdio, int conn,
		   int helper_fd)
{
	struct vlab_err err = {0};
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Not dumpable (as root), like the init: the command is born inside
	 * the container as a copy of us, and until it execs, its
	 * /proc/PID/exe would hand the container the host's vlab binary
	 * (CVE-2019-5736).  exec() makes the command dumpable again. */
	if (!rt->cfg.rootless)
		prctl(PR_SET_DUMPABLE, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int keep[6] = {conn, helper_fd, rt->init_pidfd, tty ? -1 : stdio[0], tty ? -1 : stdio[1],
		       tty ? -1 : stdio[2]};
	close_except(keep, 6);
	if (rt->have_cg && rt->cg.ops->attach(&rt->cg, 0, &err) < 0)
		goto fail;
	int ns = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
		 CLONE_NEWCGROUP | (rt->cfg.userns ? CLONE_NEWUSER : 0);
	if (setns(rt->init_pidfd, ns) < 0) {
		vlab_err_set(&err, errno, "join the container's namespaces");
		goto fail;
	}
	if (rt->cfg.userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		vlab_err_set(&err, errno, "become root in the user namespace");
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		vlab_err_set(&err, errno, "fork in the container");
		goto fail;
	}
	if (pid == 0)
		command(rt, argv, tty, stdio, conn, helper_fd);
	close(helper_fd);
	for (int i = 0; !tty && i < 3; i++)
		close(stdio[i]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	char text[32];
	snprintf(text, sizeof(text), "%d", st);
	reply(conn, 'x', text, -1);
	_exit(0);
fail:
	reply_error(conn, &err);
	_exit(127);
}

/* Reads a request: tty flag, argv (in buf), passed descriptors. */
static int read_request(int conn, char *buf, size_t len, char **argv, int *tty, int *stdio,
			struct vlab_err *err)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	struct pollfd p = {.fd = conn, .events = POLLIN};
	if (poll(&p, 1, 1000) != 1)
		return vlab_err_set(err, ETIMEDOUT, "no request from the exec client");
	ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	int nfd = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k; i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
				if (nfd < 3)
					stdio[nfd++] = f;
				else
					close(f);
			}
		}
	if (n < 3 || buf[0] != 'x' || (buf[1] != '0' && buf[1] != '1') || (mh.msg_flags & MSG_TRUNC))
		goto bad;
	*tty = buf[1] == '1';
	if (!*tty && nfd != 3)
		goto bad;
	buf[n] = '\0';
	int argc = 0;
	for (char *s = buf + 2; s < buf + n && argc < CT_ARGV_MAX - 1; s += strlen(s) + 1)
		argv[argc++] = s;
	argv[argc] = NULL;
	if (argc == 0 || argv[0][0] != '/')
		goto bad;
	return 0;
bad:
	for (int i = 0; i < nfd; i++)
		close(stdio[i]);
	return vlab_err_set(err, EPROTO, "malformed exec request");
}

struct ct_exec_session *ct_exec_accept(struct ct_runtime *rt, struct vlab_err *err)
{
	int conn = accept4(rt->exec_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			vlab_err_set(err, errno, "accept an exec client");
		return NULL;
	}
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		close(conn);
		vlab_err_set(err, EPERM, "exec request from uid %u refused", (unsigned)cred.uid);
		return NULL;
	}
	char *buf = malloc(REQ_MAX);
	char *argv[CT_ARGV_MAX];
	int stdio[3] = {-1, -1, -1}, tty = 0, hv[2] = {-1, -1};
	struct ct_exec_session *s = calloc(1, sizeof(*s));
	if (!buf || !s) {
		vlab_err_set(err, ENOMEM, "exec request");
		goto fail;
	}
	if (read_request(conn, buf, REQ_MAX, argv, &tty, stdio, err) < 0)
		goto fail;
	if (rt->init_pid <= 0) {
		vlab_err_set(err, ESRCH, "the container is not running");
		reply_error(conn, err);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hv) < 0) {
		vlab_err_set(err, errno, "helper socket");
		reply_error(conn, err);
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		vlab_err_set(err, errno, "fork the exec helper");
		reply_error(conn, err);
		goto fail;
	}
	if (pid == 0) {
		close(hv[0]);
		helper(rt, argv, tty, stdio, conn, hv[1]);
	}
	close(hv[1]);
	s->helper = pid;
	s->helper_fd = hv[0];
	s->listener = -1;
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	close(conn);
	free(buf);
	return s;
fail:
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	if (hv[0] >= 0)
		close(hv[0]);
	if (hv[1] >= 0)
		close(hv[1]);
	close(conn);
	free(buf);
	free(s);
	return NULL;
}

int ct_exec_session_fd(const struct ct_exec_session *s)
{
	return s->helper_fd;
}

int ct_exec_session_take_listener(struct ct_exec_session *s)
{
	int fd = s->listener;
	s->listener = -1;
	return fd;
}

int ct_exec_session_done(const struct ct_exec_session *s)
{
	return s->helper == 0 && s->helper_fd < 0;
}

int ct_exec_session_pump(struct ct_exec_session *s, struct ct_runtime *rt)
{
	(void)rt;
	if (s->helper_fd >= 0) {
		char text[64];
		int fd = -1;
		int t = ct_msg_recv(s->helper_fd, text, sizeof(text), &fd, 0, NULL);
		if (t == CT_MSG_FD && fd >= 0) {
			if (s->listener >= 0)
				close(s->listener);
			s->listener = fd;
		} else if (fd >= 0) {
			close(fd);
		}
		if (t == 0 || (t < 0 && errno != ETIMEDOUT)) {
			close(s->helper_fd);
			s->helper_fd = -1;
		}
	}
	if (s->helper > 0 && waitpid(s->helper, NULL, WNOHANG) == s->helper)
		s->helper = 0;
	return s->helper == 0 && s->helper_fd < 0;
}

void ct_exec_session_end(struct ct_exec_session *s, struct ct_runtime *rt)
{
	(void)rt;
	if (s->helper > 0) {
		kill(s->helper, SIGKILL);
		waitpid(s->helper, NULL, 0);
	}
	if (s->helper_fd >= 0)
		close(s->helper_fd);
	if (s->listener >= 0)
		close(s->listener);
	free(s);
}
