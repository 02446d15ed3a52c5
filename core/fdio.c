/* core/fdio.c: full writes and bounded line reading. */
#include "core/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

static int remaining_ms(uint64_t deadline_ns)
{
	uint64_t now = vlab_now_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int vlab_write_all(int fd, const void *buf, size_t len, int timeout_ms, struct vlab_err *err)
{
	const char *p = buf;
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : vlab_now_ns() + (uint64_t)timeout_ms * 1000000;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int ms = timeout_ms < 0 ? -1 : remaining_ms(deadline);
			if (timeout_ms >= 0 && ms == 0)
				return vlab_err_set(err, ETIMEDOUT, "write to fd %d", fd);
			if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
				return vlab_err_set(err, errno, "poll fd %d", fd);
			continue;
		}
		return vlab_err_set(err, n < 0 ? errno : EIO, "write to fd %d", fd);
	}
	return 0;
}

int vlab_fd_nonblock(int fd, int on, struct vlab_err *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return vlab_err_set(err, errno, "fcntl F_GETFL fd %d", fd);
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, fl) < 0)
		return vlab_err_set(err, errno, "fcntl F_SETFL fd %d", fd);
	return 0;
}

void vlab_lines_init(struct vlab_lines *lb, size_t max_line)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max_line ? max_line : 65536;
}

void vlab_lines_free(struct vlab_lines *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* Drops returned lines from the front of the buffer. */
static void compact(struct vlab_lines *lb)
{
	if (lb->consumed == 0)
		return;
	memmove(lb->buf, lb->buf + lb->consumed, lb->len - lb->consumed);
	lb->len -= lb->consumed;
	lb->consumed = 0;
}

static int reserve(struct vlab_lines *lb, size_t extra, struct vlab_err *err)
{
	compact(lb);
	size_t need = lb->len + extra + 1;
	if (need <= lb->cap)
		return 0;
	size_t cap = lb->cap ? lb->cap : 256;
	while (cap < need)
		cap *= 2;
	char *nb = realloc(lb->buf, cap);
	if (!nb)
		return vlab_err_set(err, ENOMEM, "line buffer of %zu bytes", cap);
	lb->buf = nb;
	lb->cap = cap;
	return 0;
}

int vlab_lines_feed(struct vlab_lines *lb, const void *data, size_t len, struct vlab_err *err)
{
	if (reserve(lb, len, err) < 0)
		return -1;
	memcpy(lb->buf + lb->len, data, len);
	lb->len += len;
	return 0;
}

ssize_t vlab_lines_fill(struct vlab_lines *lb, int fd, struct vlab_err *err)
{
	size_t chunk = 4096;
	if (reserve(lb, chunk, err) < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, lb->buf + lb->len, chunk);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		return vlab_err_set(err, errno, "read fd %d", fd);
	}
	if (n == 0)
		lb->eof = 1;
	lb->len += (size_t)n;
	return n;
}

char *vlab_lines_next(struct vlab_lines *lb, int *overlong)
{
	if (overlong)
		*overlong = 0;
	for (;;) {
		size_t avail = lb->len - lb->consumed;
		/* buf is NULL before the first fill: no arithmetic on it then. */
		char *start = avail ? lb->buf + lb->consumed : NULL;
		char *nl = avail ? memchr(start, '\n', avail) : NULL;
		if (!nl) {
			if (avail > lb->max) {
				/* Too long with no end in sight: drop what we hold and
				 * discard until the next newline. */
				lb->len = lb->consumed;
				lb->discarding = 1;
				if (overlong)
					*overlong = 1;
			}
			return NULL;
		}
		size_t linelen = (size_t)(nl - start);
		lb->consumed += linelen + 1;
		if (lb->discarding || linelen > lb->max) {
			lb->discarding = 0;
			if (overlong)
				*overlong = 1;
			return NULL;
		}
		if (linelen > 0 && start[linelen - 1] == '\r')
			linelen--;
		start[linelen] = '\0';
		return start;
	}
}

int vlab_lines_wait(struct vlab_lines *lb, int fd, int timeout_ms, char **line,
		    struct vlab_err *err)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : vlab_now_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		int overlong = 0;
		char *l = vlab_lines_next(lb, &overlong);
		if (overlong)
			return vlab_err_set(err, EMSGSIZE, "line longer than %zu bytes on fd %d",
					    lb->max, fd);
		if (l) {
			*line = l;
			return 1;
		}
		if (lb->eof)
			return vlab_err_set(err, EPIPE, "end of stream on fd %d", fd);
		int ms = timeout_ms < 0 ? -1 : remaining_ms(deadline);
		if (timeout_ms >= 0 && ms == 0)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return vlab_err_set(err, errno, "poll fd %d", fd);
		}
		if (r == 0)
			continue;
		if (vlab_lines_fill(lb, fd, err) < 0)
			return -1;
	}
}
