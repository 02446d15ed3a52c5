/* core/fdio.h: file-descriptor plumbing: full writes, bounded line reads. */
#ifndef VLAB_CORE_FDIO_H
#define VLAB_CORE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

/* Writes all of buf, retrying on EINTR and short writes.  On a non-blocking
 * fd it waits (poll) for room, at most timeout_ms in total (-1: forever). */
int vlab_write_all(int fd, const void *buf, size_t len, int timeout_ms, struct vlab_err *err);

/* Sets or clears O_NONBLOCK. */
int vlab_fd_nonblock(int fd, int on, struct vlab_err *err);

/* A line splitter over a byte stream with a hard cap on line length, so a
 * flooding peer costs bounded memory.  Lines end at '\n'; a '\r' before it
 * is dropped. */
struct vlab_lines {
	char *buf;
	size_t len, cap, max;
	size_t consumed; /* bytes of buf already returned as lines */
	int eof;
	int discarding; /* inside an overlong line, dropping bytes */
};

void vlab_lines_init(struct vlab_lines *lb, size_t max_line);
void vlab_lines_free(struct vlab_lines *lb);

/* Reads what is available from fd (one read call).  Returns bytes read,
 * 0 on end of file (lb->eof set), -1 with err on error; EAGAIN is not an
 * error (returns 0 without setting eof). */
ssize_t vlab_lines_fill(struct vlab_lines *lb, int fd, struct vlab_err *err);

/* Appends bytes from elsewhere (a UART model, a test).  -1 when the pending
 * partial line would exceed max. */
int vlab_lines_feed(struct vlab_lines *lb, const void *data, size_t len, struct vlab_err *err);

/* Next complete line (NUL-terminated, without '\n'), valid until the next
 * call on lb; NULL when none is complete.  A line longer than max is reported
 * through *overlong (set to 1) and discarded up to its end. */
char *vlab_lines_next(struct vlab_lines *lb, int *overlong);

/* Waits up to timeout_ms for a complete line from fd.  Returns 1 with *line
 * set, 0 on timeout, -1 with err on error, end of file or an overlong line. */
int vlab_lines_wait(struct vlab_lines *lb, int fd, int timeout_ms, char **line,
		    struct vlab_err *err);

#endif
