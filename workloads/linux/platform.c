/* workloads/linux/platform.c: the agent's platform shim on Linux: the
 * control channel on file descriptors, clocks, memory with a check
 * against what is really available (so a too-large request is answered
 * `err nomem` instead of waking the OOM killer), the disk target, UDP
 * sockets and running commands.  Builds with musl (the static agent) and
 * glibc (unit tests). */
#include "workloads/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "workloads/linux/linux.h"
#include "workloads/linux/internal.h"

static struct plat_linux_config cfg = {.ctl_in = 0, .ctl_out = 1};
static volatile sig_atomic_t got_stop, got_child;
static sigset_t wait_mask; /* the mask during plat_wait: our signals open */
static char errtext[512];

const char *plat_error_text(void)
{
	return errtext;
}

int plat_linux_fail(int status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(errtext, sizeof(errtext), fmt, ap);
	va_end(ap);
	if (code && n >= 0 && (size_t)n < sizeof(errtext))
		snprintf(errtext + n, sizeof(errtext) - (size_t)n, ": %s", strerror(code));
	return -status;
}

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_child = 1;
	else
		got_stop = 1;
}

int plat_linux_init(const struct plat_linux_config *c)
{
	cfg = *c;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR */
	sigset_t ours, old;
	sigemptyset(&ours);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &ours, &old) < 0) {
		plat_linux_fail(PLAT_EIO, errno, "block signals");
		return -1;
	}
	wait_mask = old;
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGCHLD);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGCHLD, &sa, NULL) < 0) {
		plat_linux_fail(PLAT_EIO, errno, "install signal handlers");
		return -1;
	}
	return 0;
}

int plat_linux_raw_tty(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0) {
		plat_linux_fail(PLAT_EIO, errno, "tcgetattr");
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		plat_linux_fail(PLAT_EIO, errno, "tcsetattr");
		return -1;
	}
	tcflush(fd, TCIFLUSH); /* line noise from before we listened */
	return 0;
}

uint64_t plat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- identity ---- */

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void plat_info_basic(struct plat_info *info)
{
	memset(info, 0, sizeof(*info));
	copy(info->platform, sizeof(info->platform), "linux");
	struct utsname u;
	if (uname(&u) == 0) {
		snprintf(info->kernel, sizeof(info->kernel), "%s %s", u.sysname, u.release);
		copy(info->kernel_version, sizeof(info->kernel_version), u.version);
		copy(info->arch, sizeof(info->arch), u.machine);
		copy(info->hostname, sizeof(info->hostname), u.nodename);
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	info->cpus = n > 0 ? (uint32_t)n : 0;
	struct sysinfo si;
	if (sysinfo(&si) == 0)
		info->mem_total_bytes = (uint64_t)si.totalram * si.mem_unit;
}

void plat_info(struct plat_info *info)
{
	plat_info_basic(info);
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		info->cpus_allowed = (uint32_t)CPU_COUNT(&set);
	info->mem_free_bytes = linux_mem_available();
	info->mem_limit_bytes = linux_cgroup_mem_limit(NULL);
	struct timespec ts;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		info->uptime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	info->pid = (uint64_t)getpid();
	linux_ipv4_addrs(info->addrs, sizeof(info->addrs));
}

/* ---- the control channel ---- */

long plat_ctl_read(void *buf, size_t len)
{
	struct pollfd p = {.fd = cfg.ctl_in, .events = POLLIN};
	int r = poll(&p, 1, 0);
	if (r < 0 && errno != EINTR)
		return plat_linux_fail(PLAT_EIO, errno, "poll the control channel");
	if (r <= 0)
		return 0;
	ssize_t n = read(cfg.ctl_in, buf, len);
	if (n == 0)
		return -PLAT_EEOF;
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return plat_linux_fail(PLAT_EIO, errno, "read the control channel");
	}
	return (long)n;
}

int plat_ctl_write(const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(cfg.ctl_out, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = cfg.ctl_out, .events = POLLOUT};
			poll(&pfd, 1, 1000);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EPIPE) {
			return plat_linux_fail(PLAT_EEOF, errno, "write the control channel");
		} else {
			return plat_linux_fail(PLAT_EIO, n < 0 ? errno : EIO,
					       "write the control channel");
		}
	}
	return 0;
}

unsigned plat_wait(int sock, int timeout_ms)
{
	struct pollfd p[2] = {
	    {.fd = cfg.ctl_in, .events = POLLIN},
	    {.fd = sock, .events = POLLIN},
	};
	struct timespec ts, *tsp = NULL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	int r = ppoll(p, sock >= 0 ? 2 : 1, tsp, &wait_mask);
	unsigned ev = 0;
	if (got_child) {
		got_child = 0;
		if (cfg.reap_orphans)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
	}
	if (got_stop)
		ev |= PLAT_READY_STOP;
	if (r > 0) {
		if (p[0].revents)
			ev |= PLAT_READY_CTL;
		if (sock >= 0 && p[1].revents)
			ev |= PLAT_READY_SOCK;
	}
	return ev;
}

/* ---- memory ---- */

/* Bytes handed out and not freed yet.  Workloads allocate all their
 * buffers before touching them, and untouched pages do not show in
 * MemAvailable, so each request is checked together with these. */
static uint64_t outstanding;

void *plat_alloc(size_t bytes)
{
	uint64_t avail = linux_mem_available();
	uint64_t usage = 0, limit = linux_cgroup_mem_limit(&usage);
	if (limit && (limit <= usage ? 0 : limit - usage) < avail)
		avail = limit > usage ? limit - usage : 0;
	avail -= avail / 16; /* leave the rest of the guest some room */
	if (avail && bytes + outstanding > avail) {
		plat_linux_fail(PLAT_ENOMEM, 0,
				"%llu bytes asked (with %llu already held), %llu available",
				(unsigned long long)bytes, (unsigned long long)outstanding,
				(unsigned long long)avail);
		return NULL;
	}
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED) {
		plat_linux_fail(PLAT_ENOMEM, errno, "map %zu bytes", bytes);
		return NULL;
	}
	outstanding += bytes;
	return p;
}

void plat_free(void *p, size_t bytes)
{
	if (!p)
		return;
	munmap(p, bytes ? bytes : 1);
	outstanding -= bytes <= outstanding ? bytes : outstanding;
}

/* ---- the disk target ---- */

struct plat_disk {
	int fd;
	int scratch; /* created by us: removed on close */
	char path[PATH_MAX];
};

static const char *scratch_dir(void)
{
	const char *env = getenv("TMPDIR");
	if (cfg.scratch_dir)
		return cfg.scratch_dir;
	if (env && *env)
		return env;
	if (access("/var/tmp", W_OK) == 0)
		return "/var/tmp";
	return "/tmp";
}

int plat_disk_open(uint64_t bytes, struct plat_disk **out)
{
	static unsigned seq;
	struct plat_disk *d = calloc(1, sizeof(*d));
	if (!d)
		return plat_linux_fail(PLAT_ENOMEM, ENOMEM, "disk");
	if (cfg.disk) {
		copy(d->path, sizeof(d->path), cfg.disk);
		d->fd = open(d->path, O_RDWR | O_CLOEXEC);
	} else {
		snprintf(d->path, sizeof(d->path), "%s/vlab-agent-disk.%d.%u", scratch_dir(),
			 (int)getpid(), seq++);
		d->fd = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		d->scratch = 1;
	}
	if (d->fd < 0) {
		int e = errno;
		plat_linux_fail(e == ENOENT ? PLAT_EINVAL : PLAT_EIO, e, "open %s", d->path);
		free(d);
		return e == ENOENT ? -PLAT_EINVAL : -PLAT_EIO;
	}
	struct stat st;
	if (fstat(d->fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		plat_linux_fail(PLAT_EINVAL, 0, "%s is neither a file nor a block device", d->path);
		plat_disk_close(d);
		return -PLAT_EINVAL;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t size = lseek(d->fd, 0, SEEK_END);
		if (size >= 0 && (uint64_t)size < bytes) {
			plat_linux_fail(PLAT_EINVAL, 0, "%s holds %lld bytes, %llu asked", d->path,
					(long long)size, (unsigned long long)bytes);
			plat_disk_close(d);
			return -PLAT_EINVAL;
		}
	}
	*out = d;
	return 0;
}

const char *plat_disk_name(const struct plat_disk *d)
{
	return d->path;
}

int plat_disk_write(struct plat_disk *d, uint64_t off, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(d->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return plat_linux_fail(PLAT_EIO, n < 0 ? errno : ENOSPC,
					       "write %s at byte %llu", d->path,
					       (unsigned long long)off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int plat_disk_sync(struct plat_disk *d)
{
	if (fsync(d->fd) < 0)
		return plat_linux_fail(PLAT_EIO, errno, "fsync %s", d->path);
	return 0;
}

int plat_disk_drop_cache(struct plat_disk *d)
{
	int e = posix_fadvise(d->fd, 0, 0, POSIX_FADV_DONTNEED);
	if (e)
		return plat_linux_fail(PLAT_ENOTSUP, e, "drop the page cache of %s", d->path);
	return 0;
}

int plat_disk_read(struct plat_disk *d, uint64_t off, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = pread(d->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return plat_linux_fail(
			    PLAT_EIO, n < 0 ? errno : 0, "read %s at byte %llu%s", d->path,
			    (unsigned long long)off, n == 0 ? ": end of file" : "");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

void plat_disk_close(struct plat_disk *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->scratch)
		unlink(d->path);
	free(d);
}
