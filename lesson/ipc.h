/* lesson/ipc.h: messages between a front end's session and its lab runner.
 *
 * One AF_UNIX SOCK_SEQPACKET socket pair.  A message is one JSON object,
 * sent as one or more datagrams of at most LESSON_IPC_FRAG bytes, each
 * starting with a flag byte: 'M' (more follows) or 'E' (last).  File
 * descriptors (SCM_RIGHTS) ride on the first datagram of a message.  The
 * message vocabulary is described in lesson/runner.c. */
#ifndef VLAB_LESSON_IPC_H
#define VLAB_LESSON_IPC_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

#define LESSON_IPC_FRAG 32768
#define LESSON_IPC_MAX (16u << 20) /* one message, reassembled */
#define LESSON_IPC_MAXFDS 8

/* A connected pair, close-on-exec. */
int lesson_ipc_pair(int fds[2], struct vlab_err *err);

/* Sends msg (not consumed) with nfds descriptors (duplicated by the
 * kernel; the caller still owns its own).  Waits at most timeout_ms (-1:
 * forever) for room. */
int lesson_ipc_send(int fd, json_t *msg, const int *fds, size_t nfds, int timeout_ms,
		    struct vlab_err *err);

/* Reassembles incoming messages; works on blocking and non-blocking fds. */
struct lesson_ipc_rx {
	char *buf;
	size_t len, cap;
	int fds[LESSON_IPC_MAXFDS];
	size_t nfds;
};

void lesson_ipc_rx_init(struct lesson_ipc_rx *rx);
/* Closes descriptors of a partial message, frees the buffer. */
void lesson_ipc_rx_free(struct lesson_ipc_rx *rx);

/* Reads until one whole message is in: returns 1 with *msg (caller frees
 * with json_decref) and its descriptors moved to fds and *nfds (caller owns;
 * fds must hold LESSON_IPC_MAXFDS); 0 when nothing complete is available
 * yet (non-blocking fd) or timeout_ms passed; -1 on end of stream
 * (err->code EPIPE), a malformed message (EBADMSG) or an error. */
int lesson_ipc_recv(int fd, struct lesson_ipc_rx *rx, json_t **msg, int *fds, size_t *nfds,
		    int timeout_ms, struct vlab_err *err);

/* A copy of s (len bytes) that is valid UTF-8 (bad bytes become U+FFFD)
 * and has no NUL, as a JSON string. */
json_t *lesson_json_text(const char *s, size_t len);

#endif
