/* engines/vm/tcg.c: the software fallback: the same guest under QEMU's
 * TCG emulator, for hosts where KVM is absent or cannot run a Linux
 * kernel at useful speed.
 *
 * The instance process supervises qemu-system-x86_64: ttyS1 is the
 * control channel itself (handed to QEMU as a socket), ttyS0 goes through
 * a relay here so its output stays bounded and the kernel's first console
 * line can be timed, QEMU's own messages become log events, and QEMU dies
 * with us (PR_SET_PDEATHSIG).  Every report says "emulated". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "engines/vm/console.h"
#include "engines/vm/vm.h"

#define ARGV_MAX 64
#define STOP_GRACE_MS 2000

struct argv_buf {
	char *v[ARGV_MAX + 1];
	char store[8192];
	size_t n, used;
};

static int arg(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int arg(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(a->store + a->used, sizeof(a->store) - a->used, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(a->store) - a->used || a->n == ARGV_MAX)
		return -1;
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)w + 1;
	return 0;
}

/* First qemu-system-x86_64 on $PATH. */
static int find_qemu(char *out, size_t len, struct vlab_err *err)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (snprintf(out, len, "%s/qemu-system-x86_64", d) < (int)len &&
		    access(out, X_OK) == 0)
			return 0;
	return vlab_err_set(
	    err, ENOENT, "backend tcg needs qemu-system-x86_64 (apt-get install qemu-system-x86)");
}

/* The QEMU command line for cfg.  con_fd and ctl_fd carry ttyS0 and ttyS1. */
static int build_argv(struct argv_buf *a, const char *qemu, const struct vm_config *cfg,
		      const struct vm_host *host, int con_fd, int ctl_fd)
{
	int r = 0;
	r |= arg(a, "%s", qemu);
	r |= arg(a, "-accel") | arg(a, "tcg%s", cfg->cpus > 1 ? ",thread=multi" : "");
	r |= arg(a, "-M") | arg(a, "pc");
	r |=
	    arg(a, "-nodefaults") | arg(a, "-no-user-config") | arg(a, "-display") | arg(a, "none");
	r |= arg(a, "-no-reboot"); /* a guest reboot ends the instance, as with our VMM */
	r |= arg(a, "-m") | arg(a, "%lluM", (unsigned long long)(cfg->mem_bytes >> 20));
	r |= arg(a, "-smp") | arg(a, "%u", cfg->cpus);
	/* max: every feature TCG emulates; the lab's switches on top. */
	r |= arg(a, "-cpu") | arg(a, "max,%cpae,%cnx", cfg->pae ? '+' : '-', cfg->nx ? '+' : '-');
	r |= arg(a, "-kernel") | arg(a, "%s", cfg->kernel);
	if (cfg->initrd[0])
		r |= arg(a, "-initrd") | arg(a, "%s", cfg->initrd);
	r |= arg(a, "-append") | arg(a, "%s", cfg->cmdline);
	r |= arg(a, "-chardev") | arg(a, "socket,id=ttyS0,fd=%d", con_fd);
	r |= arg(a, "-serial") | arg(a, "chardev:ttyS0");
	r |= arg(a, "-chardev") | arg(a, "socket,id=ttyS1,fd=%d", ctl_fd);
	r |= arg(a, "-serial") | arg(a, "chardev:ttyS1");
	if (cfg->disk[0]) {
		/* QEMU's option syntax doubles commas inside values. */
		char path[2 * VLAB_PATH_MAX], *p = path;
		for (const char *s = cfg->disk; *s && p < path + sizeof(path) - 2; s++) {
			if (*s == ',')
				*p++ = ',';
			*p++ = *s;
		}
		*p = '\0';
		r |= arg(a, "-drive") | arg(a, "file=%s,format=raw,if=none,id=disk0%s", path,
					    cfg->disk_readonly ? ",readonly=on" : "");
		r |= arg(a, "-device") | arg(a, "virtio-blk-pci,drive=disk0");
	}
	if (host->tap_fd >= 0) {
		r |= arg(a, "-netdev") | arg(a, "tap,id=net0,fd=%d", host->tap_fd);
		r |= arg(a, "-device") |
		     arg(a, "virtio-net-pci,netdev=net0,mac=%s", host->guest_mac);
	}
	if (cfg->rng)
		r |= arg(a, "-device") | arg(a, "virtio-rng-pci");
	return r ? -1 : 0;
}

/* Child side of fork: keep only what QEMU needs, then exec it. */
static void exec_qemu(char **argv, const int *keep, int nkeep, int err_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(err_fd, 2);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
	}
	/* Everything else closes on exec; the passed descriptors stay. */
	syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
	for (int i = 0; i < nkeep; i++)
		fcntl(keep[i], F_SETFD, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* QEMU's stderr, line by line, as log events; the last line is kept for
 * the error message when it fails. */
static ssize_t qemu_messages(struct vlab_child *child, int fd, char *last, size_t lastlen)
{
	char buf[2048];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n;
	buf[n] = '\0';
	char *save = NULL;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		vlab_child_log(child, "qemu: %s", l);
		snprintf(last, lastlen, "%s", l);
	}
	return n;
}

int vm_tcg_serve(const struct vm_config *cfg, const struct vm_host *host, struct vlab_child *child,
		 struct vlab_err *err)
{
	char qemu[VLAB_PATH_MAX], last[512] = "";
	int con[2] = {-1, -1}, errp[2] = {-1, -1}, pidfd = -1, rc = -1;
	pid_t pid = -1;
	struct argv_buf *a = calloc(1, sizeof(*a));
	struct vm_console *out = malloc(sizeof(*out)); /* guest console -> front end */
	if (!a || !out) {
		free(a);
		free(out);
		return vlab_err_set(err, ENOMEM, "qemu command line");
	}
	vlab_fd_nonblock(child->console_fd, 1, NULL);
	vm_console_init(out, child->console_fd, child);
	if (find_qemu(qemu, sizeof(qemu), err) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		vlab_err_set(err, errno, "tcg: console plumbing");
		goto out;
	}
	if (build_argv(a, qemu, cfg, host, con[1], child->control_fd) < 0) {
		vlab_err_set(err, E2BIG, "tcg: QEMU command line too long");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		vlab_err_set(err, errno, "tcg: fork");
		goto out;
	}
	if (pid == 0) {
		int keep[3] = {con[1], child->control_fd, host->tap_fd};
		exec_qemu(a->v, keep, host->tap_fd >= 0 ? 3 : 2, errp[1]);
	}
	vlab_child_phase(child, "qemu");
	vlab_child_attr(child, "vmm_pid", "%d", (int)pid);
	close(con[1]);
	con[1] = -1;
	close(errp[1]);
	errp[1] = -1;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		vlab_err_set(err, errno, "tcg: pidfd_open");
		goto out;
	}
	vlab_fd_nonblock(con[0], 1, NULL);
	int stopping = 0, console_open = 1;
	uint64_t stop_at = 0;
	for (;;) {
		if (vm_stop_requested && !stopping) {
			stopping = 1;
			stop_at = vlab_now_ns();
			kill(pid, SIGTERM);
		}
		if (stopping && vlab_now_ns() - stop_at > STOP_GRACE_MS * 1000000ull)
			kill(pid, SIGKILL);
		struct pollfd p[4] = {
		    {.fd = pidfd, .events = POLLIN},
		    {.fd = con[0], .events = POLLIN},
		    {.fd = errp[0], .events = POLLIN},
		    {.fd = console_open ? child->console_fd : -1,
		     .events = POLLIN | (vm_console_flush(out) ? POLLOUT : 0)},
		};
		if (poll(p, 4, stopping ? 100 : -1) < 0 && errno != EINTR) {
			vlab_err_set(err, errno, "tcg: poll");
			goto out;
		}
		if (p[2].revents)
			qemu_messages(child, errp[0], last, sizeof(last));
		if (p[1].revents & POLLIN) {
			char buf[4096];
			ssize_t n = read(con[0], buf, sizeof(buf));
			if (n > 0)
				vm_console_write(out, buf, (size_t)n);
		}
		if (p[3].revents & POLLIN) {
			/* Keyboard input for the guest's console. */
			char buf[512];
			ssize_t n = read(child->console_fd, buf, sizeof(buf));
			if (n > 0)
				vlab_write_all(con[0], buf, (size_t)n, 1000, NULL);
			else if (n == 0)
				console_open = 0;
		}
		if (p[3].revents & (POLLHUP | POLLERR))
			console_open = 0;
		if (console_open)
			vm_console_flush(out);
		if (p[0].revents)
			break;
	}
	vlab_fd_nonblock(errp[0], 1, NULL);
	while (qemu_messages(child, errp[0], last, sizeof(last)) > 0)
		;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		rc = 0;
	} else if (stopping) {
		rc = 0; /* we asked it to stop */
	} else if (WIFSIGNALED(st)) {
		vlab_err_set(err, EIO, "qemu was killed by signal %d%s%s", WTERMSIG(st),
			     last[0] ? ": " : "", last);
	} else {
		vlab_err_set(err, EIO, "qemu failed (status %d)%s%s", WEXITSTATUS(st),
			     last[0] ? ": " : "", last);
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (pidfd >= 0)
		close(pidfd);
	vm_console_destroy(out);
	free(out);
	free(a);
	return rc;
}
