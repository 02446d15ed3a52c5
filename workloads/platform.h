/* workloads/platform.h: the shim between the probe agent's portable code
 * and the system it runs on.
 *
 * The agent and its workloads (workloads/NAME.c; not workloads/linux/) are
 * portable C11 that include only <stddef.h>, <stdint.h> and this header.
 * Everything that touches the system goes through the plat_* functions
 * below.  Two implementations exist:
 *
 *   workloads/linux/platform.c     Linux (static musl binary, also glibc
 *                                  for the unit tests)
 *   engines/unikernel/guest/...    the vlab library OS
 *
 * Build contract for a freestanding port (-ffreestanding -nostdlib):
 *   - compile workloads/{agent,cpu,mem,disk,echo,sysinfo,exec,proto,fmt}.c
 *     with -I<repo root>; they need no libc header;
 *   - provide every plat_* function declared here, plus memcpy, memset,
 *     memmove, memcmp and strlen with their standard meaning (GCC may emit
 *     calls to memcpy/memset on its own); nothing else is referenced
 *     (`make check-freestanding`-style proof: mk/workloads.mk links the
 *     portable objects with `ld -r` and fails on any other undefined symbol);
 *   - SSE2 must be usable (the floating-point kernels use double);
 *   - call wl_agent_serve() (workloads/agent.h) from the entry point: it
 *     prints READY, serves requests and returns the exit status when asked
 *     to shut down or when the control channel ends.
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * enum plat_status value on failure; plat_error_text() then says what
 * failed in words ("open /dev/vda: Permission denied").  No function
 * blocks for ever except plat_wait() with timeout_ms < 0. */
#ifndef VLAB_WORKLOADS_PLATFORM_H
#define VLAB_WORKLOADS_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* The libc subset portable code may call (standard prototypes). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Failure codes, returned negated. */
enum plat_status {
	PLAT_OK = 0,
	PLAT_EIO = 1,	/* an I/O operation failed */
	PLAT_ENOMEM,	/* not enough memory for the request */
	PLAT_ENOTSUP,	/* not available on this platform */
	PLAT_EINVAL,	/* a bad argument (size, port, path) */
	PLAT_EBUSY,	/* in use (a UDP port) */
	PLAT_ETIMEDOUT, /* a bounded operation ran out of time */
	PLAT_EEOF,	/* the control channel ended */
};

/* Words for the most recent failure (static storage, never NULL). */
const char *plat_error_text(void);

/* ---- identity ---- */

/* What the guest sees of its machine.  Strings are NUL-terminated, "" when
 * unknown; numbers are 0 when unknown. */
struct plat_info {
	char platform[16];	  /* "linux", "unikernel" */
	char kernel[96];	  /* "Linux 6.1.0-28-cloud-amd64", "vlab-uk 0.1" */
	char kernel_version[128]; /* build string: "#1 SMP PREEMPT_DYNAMIC Debian ..." */
	char arch[16];		  /* "x86_64" */
	char hostname[64];
	char addrs[128];	  /* IPv4 addresses other than loopback, "a/24,b/16" */
	uint32_t cpus;		  /* CPUs online */
	uint32_t cpus_allowed;	  /* CPUs this process may run on (affinity) */
	uint64_t mem_total_bytes; /* memory the kernel manages */
	uint64_t mem_free_bytes;  /* available for new allocations */
	uint64_t mem_limit_bytes; /* a cgroup limit on this process, 0 if none */
	uint64_t uptime_ns;	  /* since the guest (or host) booted */
	uint64_t pid;		  /* the agent's process id, 0 when there are none */
};

/* Fills *info.  Never fails (unknown fields stay empty). */
void plat_info(struct plat_info *info);
/* Only what READY reports (platform, kernel, cpus, total memory), and
 * cheaply: no file is read for it but the count of CPUs online.  Every
 * start of an instance waits for it. */
void plat_info_basic(struct plat_info *info);

/* ---- time ---- */

/* A monotonic clock in nanoseconds (CLOCK_MONOTONIC on Linux). */
uint64_t plat_now_ns(void);

/* ---- the control channel (the agent's line protocol) ---- */

/* Reads what is available now, at most len bytes, without waiting.
 * Returns the byte count (0: nothing yet), -PLAT_EEOF when the channel
 * ended, -PLAT_EIO on error. */
long plat_ctl_read(void *buf, size_t len);

/* Writes all of buf (waits for room).  0, or -PLAT_EIO / -PLAT_EEOF. */
int plat_ctl_write(const void *buf, size_t len);

/* What plat_wait() found. */
#define PLAT_READY_CTL 1u  /* the control channel has input (or ended) */
#define PLAT_READY_SOCK 2u /* the UDP socket has a datagram */
#define PLAT_READY_STOP 4u /* the system asks the agent to stop (SIGTERM) */

/* Waits until the control channel or the UDP socket sock (ignored when < 0)
 * is readable, a stop is requested, or timeout_ms passes (< 0: no limit).
 * Returns a PLAT_READY_* mask (0 on timeout). */
unsigned plat_wait(int sock, int timeout_ms);

/* ---- memory ---- */

/* A zeroed, page-aligned buffer of bytes for a workload, or NULL when the
 * memory is not there (the agent answers `err nomem`).  Freed with the same
 * size. */
void *plat_alloc(size_t bytes);
void plat_free(void *p, size_t bytes);

/* ---- the disk workload's target ---- */

struct plat_disk;

/* Opens the disk target for writing and reading back bytes bytes: the
 * platform's configured device (the VM's /dev/vda, the unikernel's block
 * device) or, on Linux without one, a scratch file it creates and removes
 * on close.  Fails with -PLAT_EINVAL when the target is smaller than bytes.
 * Offsets and lengths passed to the calls below are multiples of 512. */
int plat_disk_open(uint64_t bytes, struct plat_disk **out);
/* Where the data goes, for the result ("/dev/vda", "/var/tmp/..."). */
const char *plat_disk_name(const struct plat_disk *d);
int plat_disk_write(struct plat_disk *d, uint64_t off, const void *buf, size_t len);
/* Makes every written byte durable (fsync, a flush hypercall). */
int plat_disk_sync(struct plat_disk *d);
/* Drops cached copies so the next reads come from the device.  Returns 0
 * when it did, -PLAT_ENOTSUP when the platform keeps no cache. */
int plat_disk_drop_cache(struct plat_disk *d);
int plat_disk_read(struct plat_disk *d, uint64_t off, void *buf, size_t len);
/* Closes the target (and removes a scratch file). */
void plat_disk_close(struct plat_disk *d);

/* ---- UDP, for the echo server ---- */

struct plat_addr {
	uint8_t ip[4]; /* IPv4, network order */
	uint16_t port; /* host order */
};

/* Opens a UDP socket bound to port on every address (0: any free port),
 * non-blocking.  Returns a handle >= 0; *bound gets the port it holds.
 * -PLAT_EBUSY when the port is taken. */
int plat_udp_open(uint16_t port, uint16_t *bound);
/* One datagram, without waiting: its length (truncated to len), 0 when
 * none is queued, or a negative status.  *from gets the sender. */
long plat_udp_recv(int sock, void *buf, size_t len, struct plat_addr *from);
/* Sends one datagram.  0, or a negative status. */
int plat_udp_send(int sock, const void *buf, size_t len, const struct plat_addr *to);
void plat_udp_close(int sock);

/* ---- running a command (Linux guests only) ---- */

struct plat_exec {
	/* in */
	const char *cmd;     /* a shell command line (/bin/sh -c) */
	uint64_t timeout_ns; /* killed (SIGKILL) after this long */
	char *out, *err;     /* capture buffers for stdout and stderr */
	size_t out_cap, err_cap;
	/* out */
	size_t out_len, err_len;
	int out_truncated, err_truncated; /* output went past the buffer */
	int exit_code;			  /* when it exited, else -1 */
	int signal;			  /* the signal that ended it, else 0 */
	int timed_out;			  /* killed at the timeout */
};

/* Runs x->cmd with stdin empty, waits for it (bounded by timeout_ns) and
 * captures its output.  -PLAT_ENOTSUP where there are no processes. */
int plat_exec(struct plat_exec *x);

#endif
