/* engines/container/exec_client.c: the front end's side of exec into a
 * running container (protocol in exec.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/container/container.h"
#include "engines/container/ct.h"

#define RUN_CAP (1u << 20)

static int connect_to(struct vlab_instance *inst, struct vlab_err *err)
{
	vlab_instance_pump(inst, NULL);
	const char *path = vlab_instance_attr(inst, "exec.socket");
	if (strcmp(vlab_instance_engine(inst)->name, "container"))
		return vlab_err_set(err, EINVAL, "%s is not a container", vlab_instance_name(inst));
	if (!path || vlab_instance_state(inst) != VLAB_STATE_RUNNING)
		return vlab_err_set(err, ESRCH, "%s: no running container to exec into",
				    vlab_instance_name(inst));
	/* "@name": an abstract socket (see exec.c); else a path. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t l = strlen(path);
	if (l >= sizeof(sa.sun_path))
		return vlab_err_set(err, ENAMETOOLONG, "exec socket %s", path);
	memcpy(sa.sun_path, path, l);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len = sizeof(sa);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vlab_err_set(err, errno, "exec socket");
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "%s: connect to %s", vlab_instance_name(inst), path);
	}
	return fd;
}

int vlab_container_exec_start(struct vlab_instance *inst, char *const argv[], const int stdio[3],
			      struct vlab_container_exec *x, struct vlab_err *err)
{
	memset(x, 0, sizeof(*x));
	x->conn = x->pty = -1;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return vlab_err_set(err, EINVAL, "exec: argv[0] must be an absolute path");
	size_t len = 2;
	int argc = 0;
	for (; argv[argc]; argc++) {
		if (argc == CT_ARGV_MAX - 1)
			return vlab_err_set(err, E2BIG, "exec: more than %d arguments",
					    CT_ARGV_MAX - 1);
		len += strlen(argv[argc]) + 1;
	}
	if (len > 65000)
		return vlab_err_set(err, E2BIG, "exec: arguments too long");
	char *msg = malloc(len);
	if (!msg)
		return vlab_err_set(err, ENOMEM, "exec request");
	msg[0] = 'x';
	msg[1] = stdio ? '0' : '1';
	size_t off = 2;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(msg + off, argv[i], l);
		off += l;
	}
	int fd = connect_to(inst, err);
	if (fd < 0) {
		free(msg);
		return -1;
	}
	union {
		char b[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = msg, .iov_len = off};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (stdio) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * 3);
		memcpy(CMSG_DATA(c), stdio, sizeof(int) * 3);
	}
	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	int e = errno;
	free(msg);
	if (n < 0) {
		close(fd);
		return vlab_err_set(err, e, "exec: send the request");
	}
	x->conn = fd;
	char text[VLAB_ERR_MSG];
	int pass = -1;
	int t = ct_msg_recv(fd, text, sizeof(text), &pass, 10000, err);
	if (t == 's') {
		x->pid = (pid_t)atoi(text);
		x->pty = pass;
		return 0;
	}
	if (pass >= 0)
		close(pass);
	if (t == 'e')
		ct_msg_parse_error(text, err);
	else if (t == 0)
		vlab_err_set(err, EPIPE, "exec: the runtime closed the session");
	else if (t > 0)
		vlab_err_set(err, EPROTO, "exec: unexpected answer '%c'", t);
	vlab_err_prefix(err, "%s: exec %s", vlab_instance_name(inst), argv[0]);
	close(fd);
	x->conn = -1;
	return -1;
}

int vlab_container_exec_wait(struct vlab_container_exec *x, int timeout_ms, int *status,
			     struct vlab_err *err)
{
	struct vlab_err failed = {0};
	int have_failure = 0;
	while (!x->ended) {
		if (x->conn < 0)
			return vlab_err_set(err, EBADF, "exec: no session");
		char text[VLAB_ERR_MSG];
		int t = ct_msg_recv(x->conn, text, sizeof(text), NULL, timeout_ms, err);
		if (t < 0)
			return -1;
		if (t == 0)
			return vlab_err_set(err, EPIPE, "exec: the session ended without a status");
		if (t == 'e') {
			ct_msg_parse_error(text, &failed);
			have_failure = 1;
		} else if (t == 'x') {
			x->status = atoi(text);
			x->ended = 1;
		}
	}
	if (status)
		*status = x->status;
	if (have_failure) {
		*err = failed;
		return -1;
	}
	return 0;
}

void vlab_container_exec_close(struct vlab_container_exec *x)
{
	if (x->conn >= 0)
		close(x->conn);
	if (x->pty >= 0)
		close(x->pty);
	x->conn = x->pty = -1;
}

/* Appends what fd has to *buf (bounded).  0 at end of file. */
static int slurp(int fd, char **buf, size_t *len, int *truncated)
{
	char tmp[16384];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	size_t take = (size_t)n;
	if (*len + take > RUN_CAP) {
		take = RUN_CAP - *len;
		*truncated = 1;
	}
	if (take) {
		char *nb = realloc(*buf, *len + take + 1);
		if (!nb)
			return 0;
		*buf = nb;
		memcpy(*buf + *len, tmp, take);
		*len += take;
		(*buf)[*len] = '\0';
	}
	return 1;
}

int vlab_container_run(struct vlab_instance *inst, char *const argv[], const char *input,
		       int timeout_ms, struct vlab_container_run *r, struct vlab_err *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, rc = -1;
	struct vlab_container_exec x = {.conn = -1, .pty = -1};
	memset(r, 0, sizeof(*r));
	r->out = calloc(1, 1);
	r->errout = calloc(1, 1);
	if (!r->out || !r->errout) {
		vlab_err_set(err, ENOMEM, "exec output");
		goto out;
	}
	/* stdin is a socket: send(MSG_NOSIGNAL) to a command that exits
	 * without reading gives EPIPE, not a SIGPIPE to the caller. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		vlab_err_set(err, errno, "exec pipes");
		goto out;
	}
	int stdio[3] = {in[0], out[1], er[1]};
	if (vlab_container_exec_start(inst, argv, stdio, &x, err) < 0)
		goto out;
	close(in[0]);
	close(out[1]);
	close(er[1]);
	in[0] = out[1] = er[1] = -1;
	/* Small inputs fit the socket buffer. */
	if (input && *input) {
		size_t l = strlen(input);
		if (send(in[1], input, l, MSG_NOSIGNAL) < 0 && errno != EPIPE) {
			vlab_err_set(err, errno, "exec: write stdin");
			goto out;
		}
	}
	close(in[1]);
	in[1] = -1;
	uint64_t deadline = timeout_ms < 0 ? 0 : vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while (out[0] >= 0 || er[0] >= 0) {
		struct pollfd p[2] = {{.fd = out[0], .events = POLLIN}, {.fd = er[0], .events = POLLIN}};
		int ms = -1;
		if (deadline) {
			uint64_t now = vlab_now_ns();
			if (now >= deadline) {
				vlab_err_set(err, ETIMEDOUT, "exec %s: still running after %d ms",
					     argv[0], timeout_ms);
				goto out;
			}
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (poll(p, 2, ms) < 0 && errno != EINTR) {
			vlab_err_set(err, errno, "poll");
			goto out;
		}
		if (p[0].revents && !slurp(out[0], &r->out, &r->out_len, &r->truncated)) {
			close(out[0]);
			out[0] = -1;
		}
		if (p[1].revents && !slurp(er[0], &r->errout, &r->err_len, &r->truncated)) {
			close(er[0]);
			er[0] = -1;
		}
	}
	int left = -1;
	if (deadline) {
		uint64_t now = vlab_now_ns();
		left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
	}
	if (vlab_container_exec_wait(&x, left, &r->status, err) < 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	vlab_container_exec_close(&x);
	return rc;
}

void vlab_container_run_free(struct vlab_container_run *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
}
