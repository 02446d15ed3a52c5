/* engines/unikernel/guest/platform.c: the probe agent's platform shim
 * (workloads/platform.h) on the library OS, so the unikernel runs the very
 * same agent and workloads as the VM, the container and the host: the
 * control channel and waiting on the hypercalls, memory from the heap, the
 * disk workload on the block device, UDP on the library OS's own network
 * stack.  There are no processes: `exec` is unsupported. */
#include "workloads/platform.h"

#include "uk.h"

static char errtext[256];
static char hostname[64] = "vlab-uk";

const char *plat_error_text(void)
{
	return errtext;
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errtext, sizeof(errtext), fmt, ap);
	va_end(ap);
	return -status;
}

void plat_uk_init(int argc, char **argv);

/* The agent's command line: hostname=NAME. */
void plat_uk_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "hostname=", 9))
			snprintf(hostname, sizeof(hostname), "%s", argv[i] + 9);
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

void plat_info(struct plat_info *info)
{
	const struct uk_boot_info *bi = uk_boot_info;
	memset(info, 0, sizeof(*info));
	copy(info->platform, sizeof(info->platform), "unikernel");
	copy(info->kernel, sizeof(info->kernel), UK_LIBOS_NAME " " UK_LIBOS_VERSION);
	snprintf(info->kernel_version, sizeof(info->kernel_version),
		 "vlab library OS, ABI %u, gcc %s", bi->abi_version, __VERSION__);
	copy(info->arch, sizeof(info->arch), "x86_64");
	copy(info->hostname, sizeof(info->hostname), hostname);
	if (uk_netif.up && uk_netif.ip) {
		const uint8_t *a = (const uint8_t *)&uk_netif.ip;
		unsigned bits = (unsigned)__builtin_popcount(uk_netif.netmask);
		snprintf(info->addrs, sizeof(info->addrs), "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
			 bits);
	}
	info->cpus = info->cpus_allowed = (uint32_t)bi->cpus;
	info->mem_total_bytes = bi->mem_size;
	info->mem_free_bytes = uk_heap_free();
	uint64_t now = uk_now_ns();
	info->uptime_ns =
	    bi->monotonic_base_ns && now > bi->monotonic_base_ns ? now - bi->monotonic_base_ns : 0;
}

void plat_info_basic(struct plat_info *info)
{
	plat_info(info); /* nothing in it costs more than a copy */
}

uint64_t plat_now_ns(void)
{
	return uk_now_ns();
}

long plat_ctl_read(void *buf, size_t len)
{
	long r = uk_ctl_read(buf, len);
	if (r == -UK_EPIPE)
		return fail(PLAT_EEOF, "the control channel ended");
	if (r < 0)
		return fail(PLAT_EIO, "control channel read failed (%ld)", r);
	return r;
}

int plat_ctl_write(const void *buf, size_t len)
{
	int r = uk_ctl_write(buf, len);
	if (r == -UK_EPIPE)
		return fail(PLAT_EEOF, "the control channel ended");
	if (r < 0)
		return fail(PLAT_EIO, "control channel write failed (%d)", r);
	return 0;
}

unsigned plat_wait(int sock, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? ~0ull : uk_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		unsigned ready = sock >= 0 && uk_udp_pending(sock) ? PLAT_READY_SOCK : 0;
		uint64_t now = uk_now_ns();
		uint64_t wait = ready || now >= deadline ? 0 : deadline - now;
		/* Waiting also hands network frames to the stack (ARP, ping). */
		unsigned got = uk_poll(UK_POLL_CTL, wait);
		if (got & UK_POLL_CTL)
			ready |= PLAT_READY_CTL;
		if (got & UK_POLL_STOP)
			ready |= PLAT_READY_STOP;
		if (sock >= 0 && uk_udp_pending(sock))
			ready |= PLAT_READY_SOCK;
		if (ready || uk_now_ns() >= deadline)
			return ready;
	}
}

void *plat_alloc(size_t bytes)
{
	void *p = uk_page_alloc(bytes);
	if (!p)
		fail(PLAT_ENOMEM, "%lu bytes asked, %lu free in the unikernel's heap",
		     (unsigned long)bytes, (unsigned long)uk_heap_free());
	return p;
}

void plat_free(void *p, size_t bytes)
{
	uk_page_free(p, bytes);
}

/* ---- the disk workload: the block device ---- */

struct plat_disk {
	uint64_t bytes;
};

int plat_disk_open(uint64_t bytes, struct plat_disk **out)
{
	uint64_t cap = uk_block_capacity();
	if (!cap)
		return fail(PLAT_ENOTSUP, "the unikernel has no block device");
	if (cap < bytes)
		return fail(PLAT_EINVAL, "the block device holds %lu bytes, fewer than %lu",
			    (unsigned long)cap, (unsigned long)bytes);
	struct plat_disk *d = malloc(sizeof(*d));
	if (!d)
		return fail(PLAT_ENOMEM, "disk handle");
	d->bytes = bytes;
	*out = d;
	return 0;
}

const char *plat_disk_name(const struct plat_disk *d)
{
	(void)d;
	return "block device 0 (hypercalls)";
}

int plat_disk_write(struct plat_disk *d, uint64_t off, const void *buf, size_t len)
{
	(void)d;
	int r = uk_block_write(off, buf, len);
	return r < 0 ? fail(PLAT_EIO, "block write at %lu failed (%d)", (unsigned long)off, r) : 0;
}

int plat_disk_read(struct plat_disk *d, uint64_t off, void *buf, size_t len)
{
	(void)d;
	int r = uk_block_read(off, buf, len);
	return r < 0 ? fail(PLAT_EIO, "block read at %lu failed (%d)", (unsigned long)off, r) : 0;
}

int plat_disk_sync(struct plat_disk *d)
{
	(void)d;
	int r = uk_block_flush();
	return r < 0 ? fail(PLAT_EIO, "block flush failed (%d)", r) : 0;
}

int plat_disk_drop_cache(struct plat_disk *d)
{
	(void)d;
	return fail(PLAT_ENOTSUP, "the library OS keeps no disk cache");
}

void plat_disk_close(struct plat_disk *d)
{
	free(d);
}

/* ---- UDP: the library OS's network stack ---- */

int plat_udp_open(uint16_t port, uint16_t *bound)
{
	if (!uk_netif.up && uk_net_init() < 0)
		return fail(PLAT_ENOTSUP, "the unikernel has no network (start it with net=on)");
	int s = uk_udp_open(port, bound);
	if (s < 0)
		return fail(PLAT_EBUSY, "UDP port %u is taken (or every socket is)", port);
	return s;
}

long plat_udp_recv(int sock, void *buf, size_t len, struct plat_addr *from)
{
	uint32_t ip = 0;
	uint16_t port = 0;
	long n = uk_udp_recv(sock, buf, len, &ip, &port);
	if (n > 0 && from) {
		memcpy(from->ip, &ip, 4);
		from->port = port;
	}
	return n;
}

int plat_udp_send(int sock, const void *buf, size_t len, const struct plat_addr *to)
{
	uint32_t ip;
	memcpy(&ip, to->ip, 4);
	if (uk_udp_send(sock, buf, len, ip, to->port) < 0)
		return fail(PLAT_EIO,
			    "UDP send to %u.%u.%u.%u:%u failed (no ARP answer, or too large)",
			    to->ip[0], to->ip[1], to->ip[2], to->ip[3], to->port);
	return 0;
}

void plat_udp_close(int sock)
{
	uk_udp_close(sock);
}

int plat_exec(struct plat_exec *x)
{
	(void)x;
	return fail(PLAT_ENOTSUP, "a unikernel runs one program and has no processes to start");
}
