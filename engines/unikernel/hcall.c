/* engines/unikernel/hcall.c: the hypercalls of uk_abi.h, host side.
 *
 * One exit per call: the guest's `out` names the call (the port) and the
 * guest-physical address of its argument struct (the value).  The struct
 * is copied in, checked, served and copied back; the guest is stopped
 * while this runs, so nothing changes underneath.  Any argument that is
 * wrong (an address outside RAM, a length too large, an offset past the
 * disk) makes the hypercall invalid: the monitor refuses to guess and
 * stops the guest with a message naming the call, the field and the value. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/unikernel/monitor.h"

#define IO_MAX (1u << 20) /* console, control: bytes per call */
#define BLOCK_SIZE 512u
#define BLOCK_MAX_IO (4u << 20)	   /* block: bytes per call */
#define CTL_WRITE_TIMEOUT_MS 30000 /* a front end that stops reading */

struct hcall {
	const char *name;
	uint32_t size; /* of the argument struct */
	int (*fn)(struct uk_monitor *m, void *arg, struct vlab_err *err);
};

static int invalid(struct vlab_err *err, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(struct vlab_err *err, const char *call, const char *fmt, ...)
{
	char why[VLAB_ERR_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return vlab_err_set(err, 0, "invalid hypercall %s: %s", call, why);
}

/* The buffer of a uk_hc_io, checked: host pointer or NULL with err. */
static void *io_buf(struct uk_monitor *m, const struct uk_hc_io *io, uint64_t max, const char *call,
		    struct vlab_err *err)
{
	if (io->len > max) {
		invalid(err, call, "length %#" PRIx64 " exceeds %#" PRIx64, io->len, max);
		return NULL;
	}
	void *p = uk_gpa(m, io->data, io->len, "buffer", err);
	if (!p)
		vlab_err_prefix(err, "invalid hypercall %s", call);
	return p;
}

static int hc_console_write(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_io *io = arg;
	const char *p = io_buf(m, io, IO_MAX, "console_write", err);
	if (!p)
		return -1;
	io->ret = (int64_t)io->len;
	if (m->console_fd < 0)
		return 0;
	/* The console never holds the guest up: what does not fit is dropped
	 * and counted. */
	size_t done = 0;
	while (done < io->len) {
		ssize_t n =
		    send(m->console_fd, p + done, io->len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(m->console_fd, p + done, io->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < io->len) {
		m->console_dropped += io->len - done;
		if (m->counters && m->console_dropped_id < 0)
			m->console_dropped_id =
			    vlab_counters_id(m->counters, "console.dropped_bytes");
		vlab_counter_add(m->counters, m->console_dropped_id, io->len - done);
	}
	return 0;
}

static int hc_clock(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	(void)m;
	(void)err;
	struct uk_hc_clock *c = arg;
	c->monotonic_ns = vlab_now_ns();
	c->wall_ns = vlab_wall_ns();
	c->ret = 0;
	return 0;
}

/* Receives one frame from the TAP into guest buffer [data, data + len):
 * *ret and *more as in struct uk_hc_net_recv.  -1 with err: invalid. */
static int net_recv(struct uk_monitor *m, uk_gpa_t data, uint64_t len, int64_t *ret, uint64_t *more,
		    const char *call, struct vlab_err *err)
{
	if (m->tap_fd < 0)
		return invalid(err, call, "there is no network device");
	if (len < (uint64_t)m->mtu + 14 || len > IO_MAX)
		return invalid(err, call, "receive buffer of %" PRIu64 " bytes: need %u..%u", len,
			       m->mtu + 14, IO_MAX);
	void *p = uk_gpa(m, data, len, "receive buffer", err);
	if (!p)
		return vlab_err_prefix(err, "invalid hypercall %s", call);
	ssize_t n;
	do
		n = read(m->tap_fd, p, len);
	while (n < 0 && errno == EINTR);
	*ret = n >= 0 ? n : errno == EAGAIN ? -UK_EAGAIN : -UK_EIO;
	struct pollfd pfd = {.fd = m->tap_fd, .events = POLLIN};
	*more = n >= 0 && poll(&pfd, 1, 0) == 1;
	return 0;
}

static int hc_poll(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_poll *p = arg;
	if (p->timeout_ns > UK_POLL_MAX_NS)
		return invalid(err, "poll", "timeout %" PRIu64 " ns exceeds an hour",
			       p->timeout_ns);
	if (p->events & ~(uint64_t)(UK_POLL_CTL | UK_POLL_NET))
		return invalid(err, "poll", "unknown event bits %#" PRIx64, p->events);
	p->ready = 0;
	p->ret = 0;
	p->net_ret = -UK_EAGAIN;
	p->net_more = 0;
	if (m->stop_signal) {
		p->ready = UK_POLL_STOP;
		return 0;
	}
	struct pollfd pfd[3] = {
	    {.fd = m->stop_pipe[0], .events = POLLIN},
	    {.fd = (p->events & UK_POLL_CTL) ? m->control_fd : -1, .events = POLLIN},
	    {.fd = (p->events & UK_POLL_NET) ? m->tap_fd : -1, .events = POLLIN},
	};
	struct timespec ts = {.tv_sec = (time_t)(p->timeout_ns / 1000000000u),
			      .tv_nsec = (long)(p->timeout_ns % 1000000000u)};
	int r = ppoll(pfd, 3, &ts, NULL);
	if (m->stop_signal)
		p->ready |= UK_POLL_STOP;
	if (r < 0 && errno != EINTR) {
		p->ret = -UK_EIO;
		return 0;
	}
	if (r > 0 && pfd[1].revents)
		p->ready |= UK_POLL_CTL; /* input, or the front end hung up */
	if (r > 0 && pfd[2].revents) {
		p->ready |= UK_POLL_NET;
		if (p->net_data && net_recv(m, p->net_data, p->net_len, &p->net_ret, &p->net_more,
					    "poll", err) < 0)
			return -1;
	}
	return 0;
}

static int hc_block_info(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	(void)err;
	struct uk_hc_block_info *b = arg;
	if (m->disk_fd < 0) {
		*b = (struct uk_hc_block_info){.ret = -UK_ENODEV};
		return 0;
	}
	b->capacity = m->disk_bytes;
	b->block_size = BLOCK_SIZE;
	b->max_io = BLOCK_MAX_IO;
	b->ret = 0;
	return 0;
}

/* Checks a block request against the disk; host pointer or NULL + err. */
static void *block_check(struct uk_monitor *m, const struct uk_hc_block_io *b, const char *call,
			 struct vlab_err *err)
{
	if (m->disk_fd < 0) {
		invalid(err, call, "there is no block device");
		return NULL;
	}
	if (b->offset % BLOCK_SIZE || b->len % BLOCK_SIZE) {
		invalid(err, call,
			"offset %#" PRIx64 " or length %#" PRIx64
			" is not a multiple of the block size (%u)",
			b->offset, b->len, BLOCK_SIZE);
		return NULL;
	}
	if (b->len > BLOCK_MAX_IO) {
		invalid(err, call, "length %#" PRIx64 " exceeds the most one call moves (%#x)",
			b->len, BLOCK_MAX_IO);
		return NULL;
	}
	if (b->offset > m->disk_bytes || b->len > m->disk_bytes - b->offset) {
		invalid(err, call,
			"bytes [%#" PRIx64 ", +%#" PRIx64 ") %s the disk's capacity (%#" PRIx64
			" bytes)",
			b->offset, b->len,
			b->offset + b->len < b->offset ? "wrap past 2^64, beyond" : "lie beyond",
			m->disk_bytes);
		return NULL;
	}
	void *p = uk_gpa(m, b->data, b->len, "buffer", err);
	if (!p)
		vlab_err_prefix(err, "invalid hypercall %s", call);
	return p;
}

static int hc_block_read(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_block_io *b = arg;
	uint8_t *p = block_check(m, b, "block_read", err);
	if (!p)
		return -1;
	uint64_t done = 0;
	while (done < b->len) {
		ssize_t n = pread(m->disk_fd, p + done, b->len - done, (off_t)(b->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			b->ret = -UK_EIO;
			return 0;
		}
		if (n == 0) { /* the file shrank under us: the disk reads as zeros */
			memset(p + done, 0, b->len - done);
			break;
		}
		done += (uint64_t)n;
	}
	b->ret = (int64_t)b->len;
	return 0;
}

static int hc_block_write(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_block_io *b = arg;
	const uint8_t *p = block_check(m, b, "block_write", err);
	if (!p)
		return -1;
	uint64_t done = 0;
	while (done < b->len) {
		ssize_t n = pwrite(m->disk_fd, p + done, b->len - done, (off_t)(b->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->ret = -UK_EIO;
			return 0;
		}
		done += (uint64_t)n;
	}
	b->ret = (int64_t)b->len;
	return 0;
}

static int hc_block_flush(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_block_io *b = arg;
	if (m->disk_fd < 0)
		return invalid(err, "block_flush", "there is no block device");
	b->ret = fdatasync(m->disk_fd) < 0 ? -UK_EIO : 0;
	return 0;
}

static int hc_net_info(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	(void)err;
	struct uk_hc_net_info *n = arg;
	*n = (struct uk_hc_net_info){.ret = -UK_ENODEV};
	if (m->tap_fd < 0)
		return 0;
	memcpy(n->mac, m->mac, sizeof(n->mac));
	n->mtu = m->mtu;
	n->ip = m->ip;
	n->netmask = m->netmask;
	n->gateway = m->gateway;
	n->ret = 0;
	return 0;
}

static int hc_net_send(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_io *io = arg;
	if (m->tap_fd < 0)
		return invalid(err, "net_send", "there is no network device");
	if (io->len < 14 || io->len > (uint64_t)m->mtu + 14)
		return invalid(err, "net_send", "frame of %" PRIu64 " bytes: need 14..%u", io->len,
			       m->mtu + 14);
	const uint8_t *p = io_buf(m, io, (uint64_t)m->mtu + 14, "net_send", err);
	if (!p)
		return -1;
	/* The guest speaks with its own address on the lab network only. */
	if (memcmp(p + 6, m->mac, 6))
		return invalid(err, "net_send",
			       "source MAC %02x:%02x:%02x:%02x:%02x:%02x is not the guest's own "
			       "(%02x:%02x:%02x:%02x:%02x:%02x)",
			       p[6], p[7], p[8], p[9], p[10], p[11], m->mac[0], m->mac[1],
			       m->mac[2], m->mac[3], m->mac[4], m->mac[5]);
	ssize_t n;
	do
		n = write(m->tap_fd, p, io->len);
	while (n < 0 && errno == EINTR);
	/* A full TAP queue drops the frame, as a busy wire would. */
	io->ret = n < 0 && errno != EAGAIN ? -UK_EIO : (int64_t)io->len;
	return 0;
}

static int hc_net_recv(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_net_recv *r = arg;
	return net_recv(m, r->data, r->len, &r->ret, &r->more, "net_recv", err);
}

static int hc_ctl_read(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_io *io = arg;
	if (m->control_fd < 0)
		return invalid(err, "ctl_read", "there is no control channel");
	void *p = io_buf(m, io, IO_MAX, "ctl_read", err);
	if (!p)
		return -1;
	ssize_t n;
	do
		n = recv(m->control_fd, p, io->len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	io->ret = n > 0		    ? n
		  : n == 0	    ? (io->len ? -UK_EPIPE : 0)
		  : errno == EAGAIN ? -UK_EAGAIN
				    : -UK_EIO;
	return 0;
}

static int hc_ctl_write(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	struct uk_hc_io *io = arg;
	if (m->control_fd < 0)
		return invalid(err, "ctl_write", "there is no control channel");
	const uint8_t *p = io_buf(m, io, IO_MAX, "ctl_write", err);
	if (!p)
		return -1;
	uint64_t deadline = vlab_now_ns() + CTL_WRITE_TIMEOUT_MS * 1000000ull, done = 0;
	io->ret = (int64_t)io->len;
	while (done < io->len) {
		ssize_t n =
		    send(m->control_fd, p + done, io->len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			done += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			io->ret = errno == EPIPE || errno == ECONNRESET ? -UK_EPIPE : -UK_EIO;
			break;
		}
		/* Full: wait for room, a stop request, or the deadline. */
		uint64_t now = vlab_now_ns();
		if (now >= deadline || m->stop_now) {
			io->ret = -UK_EIO;
			break;
		}
		struct pollfd pfd[2] = {{.fd = m->control_fd, .events = POLLOUT},
					{.fd = m->stop_pipe[0], .events = POLLIN}};
		poll(pfd, 2, (int)((deadline - now) / 1000000u) + 1);
	}
	return 0;
}

static int hc_exit(struct uk_monitor *m, void *arg, struct vlab_err *err)
{
	const struct uk_hc_exit *e = arg;
	if (e->status > 255)
		return invalid(err, "exit", "status %" PRIu64 " is not 0..255", e->status);
	m->exited = 1;
	m->exit_status = (int)e->status;
	return 1;
}

static const struct hcall hcalls[UK_HC_COUNT] = {
    [UK_HC_CONSOLE_WRITE] = {"console_write", sizeof(struct uk_hc_io), hc_console_write},
    [UK_HC_CLOCK] = {"clock", sizeof(struct uk_hc_clock), hc_clock},
    [UK_HC_POLL] = {"poll", sizeof(struct uk_hc_poll), hc_poll},
    [UK_HC_BLOCK_INFO] = {"block_info", sizeof(struct uk_hc_block_info), hc_block_info},
    [UK_HC_BLOCK_READ] = {"block_read", sizeof(struct uk_hc_block_io), hc_block_read},
    [UK_HC_BLOCK_WRITE] = {"block_write", sizeof(struct uk_hc_block_io), hc_block_write},
    [UK_HC_BLOCK_FLUSH] = {"block_flush", sizeof(struct uk_hc_block_io), hc_block_flush},
    [UK_HC_NET_INFO] = {"net_info", sizeof(struct uk_hc_net_info), hc_net_info},
    [UK_HC_NET_SEND] = {"net_send", sizeof(struct uk_hc_io), hc_net_send},
    [UK_HC_NET_RECV] = {"net_recv", sizeof(struct uk_hc_net_recv), hc_net_recv},
    [UK_HC_CTL_READ] = {"ctl_read", sizeof(struct uk_hc_io), hc_ctl_read},
    [UK_HC_CTL_WRITE] = {"ctl_write", sizeof(struct uk_hc_io), hc_ctl_write},
    [UK_HC_EXIT] = {"exit", sizeof(struct uk_hc_exit), hc_exit},
};

const char *uk_hcall_name(unsigned nr)
{
	return nr < UK_HC_COUNT ? hcalls[nr].name : NULL;
}

int uk_hcall(struct uk_monitor *m, unsigned port, unsigned size, uint32_t value,
	     struct vlab_err *err)
{
	if (port == UK_TRAP_PORT)
		return vlab_err_set(
		    err, 0,
		    "invalid hypercall: port %#x belongs to the monitor's exception "
		    "stubs, not to the guest",
		    port);
	if (port < UK_HC_PORT_BASE || port >= UK_HC_PORT(UK_HC_COUNT))
		return vlab_err_set(err, 0,
				    "invalid hypercall: unknown hypercall number %d (port %#x; "
				    "known: 0..%d at ports %#x..%#x)",
				    (int)port - UK_HC_PORT_BASE, port, UK_HC_COUNT - 1,
				    UK_HC_PORT_BASE, UK_HC_PORT(UK_HC_COUNT - 1));
	const struct hcall *h = &hcalls[port - UK_HC_PORT_BASE];
	if (size != 4)
		return vlab_err_set(err, 0,
				    "invalid hypercall %s: a %u-byte `out`; hypercalls are 32-bit "
				    "(outl) writes of the argument's address",
				    h->name, size);
	if (value % 8)
		return vlab_err_set(
		    err, 0, "invalid hypercall %s: argument address %#x is not 8-byte aligned",
		    h->name, value);
	void *argp = uk_gpa(m, value, h->size, "argument struct", err);
	if (!argp)
		return vlab_err_prefix(err, "invalid hypercall %s", h->name);
	/* Work on a copy: what the guest wrote is read exactly once. */
	uint64_t arg[8];
	_Static_assert(sizeof(arg) >= sizeof(struct uk_hc_io) &&
			   sizeof(arg) >= sizeof(struct uk_hc_poll) &&
			   sizeof(arg) >= sizeof(struct uk_hc_block_io) &&
			   sizeof(arg) >= sizeof(struct uk_hc_net_info),
		       "argument copy too small");
	memcpy(arg, argp, h->size);
	m->hypercalls++;
	vlab_counter_add(m->counters, m->hc_id[port - UK_HC_PORT_BASE], 1);
	int r = h->fn(m, arg, err);
	if (r == 0)
		memcpy(argp, arg, h->size);
	return r;
}
