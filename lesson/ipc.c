/* lesson/ipc.c: framed JSON messages with descriptors over SEQPACKET. */
#include "lesson/ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"

int lesson_ipc_pair(int fds[2], struct vlab_err *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return vlab_err_set(err, errno, "socketpair for the lab runner");
	return 0;
}

static int wait_fd(int fd, short events, uint64_t deadline, int forever, struct vlab_err *err)
{
	for (;;) {
		int ms = -1;
		if (!forever) {
			uint64_t now = vlab_now_ns();
			if (now >= deadline)
				return vlab_err_set(err, ETIMEDOUT, "lab runner channel");
			ms = (int)((deadline - now + 999999) / 1000000);
		}
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vlab_err_set(err, errno, "poll lab runner channel");
		if (r > 0)
			return 0;
	}
}

static int send_frag(int fd, char flag, const char *data, size_t len, const int *fds, size_t nfds,
		     uint64_t deadline, int forever, struct vlab_err *err)
{
	char cbuf[CMSG_SPACE(sizeof(int) * LESSON_IPC_MAXFDS)];
	struct iovec iov[2] = {{.iov_base = &flag, .iov_len = 1},
			       {.iov_base = (void *)data, .iov_len = len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, deadline, forever, err) < 0)
				return -1;
			continue;
		}
		return vlab_err_set(err, errno, "send to the lab runner channel");
	}
}

int lesson_ipc_send(int fd, json_t *msg, const int *fds, size_t nfds, int timeout_ms,
		    struct vlab_err *err)
{
	if (nfds > LESSON_IPC_MAXFDS)
		return vlab_err_set(err, EINVAL, "too many descriptors in one message");
	char *text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		return vlab_err_set(err, ENOMEM, "encode a message");
	size_t len = strlen(text), off = 0;
	uint64_t deadline = vlab_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	int r = 0;
	do {
		size_t n = len - off > LESSON_IPC_FRAG ? LESSON_IPC_FRAG : len - off;
		char flag = off + n < len ? 'M' : 'E';
		r = send_frag(fd, flag, text + off, n, off == 0 ? fds : NULL, off == 0 ? nfds : 0,
			      deadline, timeout_ms < 0, err);
		off += n;
	} while (r == 0 && off < len);
	free(text);
	return r;
}

void lesson_ipc_rx_init(struct lesson_ipc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

static void drop_fds(struct lesson_ipc_rx *rx)
{
	for (size_t i = 0; i < rx->nfds; i++)
		close(rx->fds[i]);
	rx->nfds = 0;
}

void lesson_ipc_rx_free(struct lesson_ipc_rx *rx)
{
	drop_fds(rx);
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}

static void take_fds(struct lesson_ipc_rx *rx, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[LESSON_IPC_MAXFDS * 2];
		if (n > sizeof(got) / sizeof(got[0]))
			n = sizeof(got) / sizeof(got[0]);
		memcpy(got, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (rx->nfds < LESSON_IPC_MAXFDS)
				rx->fds[rx->nfds++] = got[i];
			else
				close(got[i]);
		}
	}
}

int lesson_ipc_recv(int fd, struct lesson_ipc_rx *rx, json_t **msg, int *fds, size_t *nfds,
		    int timeout_ms, struct vlab_err *err)
{
	uint64_t deadline = vlab_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	*msg = NULL;
	*nfds = 0;
	for (;;) {
		if (rx->cap - rx->len < LESSON_IPC_FRAG + 2) {
			size_t cap = rx->cap ? rx->cap * 2 : 2 * LESSON_IPC_FRAG;
			char *b = realloc(rx->buf, cap);
			if (!b)
				return vlab_err_set(err, ENOMEM, "lab runner message");
			rx->buf = b;
			rx->cap = cap;
		}
		char flag;
		char cbuf[CMSG_SPACE(sizeof(int) * LESSON_IPC_MAXFDS * 2)];
		struct iovec iov[2] = {{.iov_base = &flag, .iov_len = 1},
				       {.iov_base = rx->buf + rx->len, .iov_len = LESSON_IPC_FRAG}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (timeout_ms == 0)
				return 0;
			int r = wait_fd(fd, POLLIN, deadline, timeout_ms < 0, err);
			if (r < 0)
				return err && err->code == ETIMEDOUT ? 0 : -1;
			continue;
		}
		if (n < 0)
			return vlab_err_set(err, errno, "receive from the lab runner channel");
		if (n == 0)
			return vlab_err_set(err, EPIPE, "the other end of the lab runner channel is gone");
		take_fds(rx, &mh);
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			lesson_ipc_rx_free(rx);
			return vlab_err_set(err, EBADMSG, "oversized lab runner message");
		}
		rx->len += (size_t)n - 1;
		if (flag == 'M') {
			if (rx->len > LESSON_IPC_MAX) {
				lesson_ipc_rx_free(rx);
				return vlab_err_set(err, EBADMSG, "lab runner message over %u bytes",
						    LESSON_IPC_MAX);
			}
			continue;
		}
		if (flag != 'E') {
			lesson_ipc_rx_free(rx);
			return vlab_err_set(err, EBADMSG, "malformed lab runner frame");
		}
		json_error_t je;
		json_t *m = json_loadb(rx->buf, rx->len, 0, &je);
		rx->len = 0;
		if (!m || !json_is_object(m)) {
			json_decref(m);
			drop_fds(rx);
			return vlab_err_set(err, EBADMSG, "malformed lab runner message: %s", je.text);
		}
		memcpy(fds, rx->fds, rx->nfds * sizeof(int));
		*nfds = rx->nfds;
		rx->nfds = 0;
		*msg = m;
		return 1;
	}
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return c ? 1 : 0;
	if ((c & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *lesson_json_text(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((const unsigned char *)s + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	json_t *j = json_stringn(out, o);
	free(out);
	return j;
}
