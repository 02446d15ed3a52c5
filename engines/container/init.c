/* engines/container/init.c: the container's pid 1, a tiny reaping init.
 *
 * Pid 1 of a pid namespace is special: the kernel does not deliver it
 * signals it has no handler for (a plain program there ignores SIGTERM),
 * every orphan in the container becomes its child, and when it ends the
 * kernel kills everything else in the namespace.  So pid 1 is this loop
 * (like tini or docker --init), not the program: it starts the program as
 * pid 2, forwards it the signals that stop or poke it, reaps orphans, and
 * exits with the program's status (128+signal when it was killed).
 *
 * It is the runtime's own clone, never an exec: it holds no descriptor, no
 * capability but CAP_KILL, its command line and environment are blanked,
 * and (as root) it is not dumpable, so the container's root cannot reach the host's vlab
 * binary through /proc/1/exe.  A rootless init stays dumpable: it is the
 * user's own process either way, and exec's setns(pidfd) needs ptrace
 * access to it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/container/ct.h"

const char *const ct_container_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"TERM=xterm",
	"container=vlab",
	NULL,
};

static void close_from(int lo, int hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0) == 0)
		return;
	for (int fd = lo; fd <= hi && fd < 65536; fd++)
		close(fd);
}

/* pid 2: stdio on the channels, nothing else open but the setup socket
 * and the event channel, both closed by the exec. */
void ct_program_exec(char *const argv[], int control_fd, int console_fd, int sync_fd,
		     struct vlab_child *child)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* No setsid(): it stays in the runtime's session.  A new session is a
	 * new scheduler autogroup, and a process moved into a fresh one waits
	 * milliseconds for its first turn on a busy machine. */
	struct vlab_err err = {0};
	if (dup2(control_fd, 0) < 0 || dup2(control_fd, 1) < 0 || dup2(console_fd, 2) < 0) {
		vlab_err_set(&err, errno, "set up the program's stdio");
		goto fail;
	}
	int keep_lo = sync_fd < child->event_fd ? sync_fd : child->event_fd;
	int keep_hi = sync_fd < child->event_fd ? child->event_fd : sync_fd;
	close_from(3, keep_lo - 1);
	close_from(keep_lo + 1, keep_hi - 1);
	close_from(keep_hi + 1, ~0u >> 1);
	fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
	fcntl(child->event_fd, F_SETFD, FD_CLOEXEC);
	vlab_child_phase(child, "exec");
	vlab_child_flush(child);
	execve(argv[0], argv, (char *const *)ct_container_env);
	vlab_err_set(&err, errno, "execute %s in the container", argv[0]);
fail:
	ct_msg_error(sync_fd, &err);
	_exit(127);
}

void ct_init_rename(void)
{
	/* The init is a copy of the runtime: its command line would show the
	 * runtime's (paths on the host) to `ps` in the container.  Blank it
	 * in place; where allowed, also shrink it to the new name. */
	extern char *program_invocation_name;
	char *start = program_invocation_name, buf[8192];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t len = read(fd, buf, sizeof(buf));
	close(fd);
	static const char name[] = "vlab-init";
	if (len < (ssize_t)sizeof(name) || memcmp(buf, start, strlen(start) + 1))
		return; /* not where we expect it: leave it alone */
	memset(start, 0, (size_t)len);
	memcpy(start, name, sizeof(name));
	prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(start + sizeof(name)), 0, 0);
	prctl(PR_SET_NAME, name);
	/* The runtime's environment is the host's business too. */
	for (char **e = environ; e && *e; e++)
		memset(*e, 0, strlen(*e));
	clearenv();
}

void ct_init_reap(pid_t main_pid, int mounted_fd)
{
	/* pid 1 keeps nothing of the runtime's: no descriptor at all (the
	 * program has its own copies), no capability but CAP_KILL, which
	 * forwards signals to a program running under another uid (it never
	 * executes anything, so its bounding set stays: see ct_caps_set).
	 * Then the program may go on: the container is set up. */
	uint64_t now = vlab_now_ns();
	close_from(0, mounted_fd - 1);
	close_from(mounted_fd + 1, ~0u >> 1);
	ct_caps_set(1ull << CAP_KILL, NULL);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (write(mounted_fd, &now, sizeof(now)) != (ssize_t)sizeof(now))
		_exit(127); /* the program is gone: so are we */
	close(mounted_fd); /* (the program waits for this end of file too) */

	sigset_t all;
	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* Stop, interrupt, hang-up, user signals, window size:
			 * the program's business. */
			if (sig != SIGPIPE && sig != SIGURG)
				kill(main_pid, sig);
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != main_pid)
				continue;
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
	}
}
