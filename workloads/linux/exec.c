/* workloads/linux/exec.c: plat_exec(): run `/bin/sh -c CMD` with an empty
 * stdin, capture stdout and stderr (bounded), and wait at most the timeout.
 *
 * The command runs in its own process group with default signal handling
 * and an empty signal mask (the agent blocks some signals for itself); on
 * timeout the whole group is killed.  Output past the capture buffers is
 * read and dropped so the command never blocks on a full pipe.  Once the
 * shell has exited, output still held by a background grandchild is not
 * waited for. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workloads/linux/internal.h"
#include "workloads/platform.h"

extern char **environ;

struct sink {
	int fd;
	char *buf;
	size_t cap, *len;
	int *truncated;
};

/* Reads what is there (a bounded amount); returns 0 at end of file or on
 * error, 1 otherwise. */
static int drain(struct sink *s)
{
	char scratch[4096];
	for (int rounds = 0; rounds < 64; rounds++) { /* bounded: a flood cannot hold us */
		size_t room = s->cap - *s->len;
		char *dst = room ? s->buf + *s->len : scratch;
		size_t want = room ? room : sizeof(scratch);
		ssize_t n = read(s->fd, dst, want);
		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EINTR ? 1 : errno == EAGAIN ? 1 : 0;
		if (room)
			*s->len += (size_t)n;
		else
			*s->truncated = 1;
	}
	return 1;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

int plat_exec(struct plat_exec *x)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, rc = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;
	x->out_len = x->err_len = 0;
	x->out_truncated = x->err_truncated = x->timed_out = 0;
	x->exit_code = -1;
	x->signal = 0;
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = plat_linux_fail(PLAT_EIO, errno, "pipe");
		goto close_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawnattr_init(&attr);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETPGROUP);
	char *argv[] = {"/bin/sh", "-c", (char *)x->cmd, NULL};
	int e = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		rc = plat_linux_fail(PLAT_EIO, e, "start /bin/sh");
		goto close_pipes;
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	struct sink sinks[2] = {
	    {out[0], x->out, x->out_cap, &x->out_len, &x->out_truncated},
	    {err[0], x->err, x->err_cap, &x->err_len, &x->err_truncated},
	};
	int open_pipes[2] = {1, 1}, exited = 0, status = 0;
	int pidfd = pidfd_of(pid);
	uint64_t deadline = plat_now_ns() + x->timeout_ns;
	while (!exited) {
		struct pollfd p[3];
		int np = 0, map[3];
		for (int i = 0; i < 2; i++)
			if (open_pipes[i]) {
				p[np] = (struct pollfd){.fd = sinks[i].fd, .events = POLLIN};
				map[np++] = i;
			}
		if (pidfd >= 0) {
			p[np] = (struct pollfd){.fd = pidfd, .events = POLLIN};
			map[np++] = 2;
		}
		uint64_t now = plat_now_ns();
		if (now >= deadline) {
			kill(-pid, SIGKILL);
			x->timed_out = 1;
			waitpid(pid, &status, 0);
			exited = 1;
			break;
		}
		int ms = (int)((deadline - now) / 1000000) + 1;
		if (pidfd < 0 && ms > 20)
			ms = 20; /* no pidfd: look at the child now and then */
		int r = poll(p, (nfds_t)np, ms);
		if (r < 0 && errno != EINTR) {
			rc = plat_linux_fail(PLAT_EIO, errno, "poll");
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		for (int k = 0; r > 0 && k < np; k++)
			if (map[k] < 2 && p[k].revents && !drain(&sinks[map[k]]))
				open_pipes[map[k]] = 0;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			exited = 1;
	}
	/* What the shell wrote before it ended is in the pipes now. */
	for (int i = 0; i < 2; i++)
		if (open_pipes[i])
			drain(&sinks[i]);
	if (pidfd >= 0)
		close(pidfd);
	if (rc == 0) {
		if (WIFEXITED(status) && !x->timed_out)
			x->exit_code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			x->signal = WTERMSIG(status);
	}
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}
