/* lesson/runner_guard.c: the lab runner's process-level limits and its
 * start: an alarm for time spent inside one C function (the count hook
 * cannot fire there), which reports the lab position to the front end and
 * ends the runner (its instances die with it); RLIMIT_CPU as the last
 * backstop; and lesson_runner_spawn(), which starts the runner for a front
 * end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/paths.h"
#include "core/proc.h"
#include "lesson/ipc.h"
#include "lesson/runner.h"
#include "lesson/sandbox.h"

#define LESSON_RUNNER_GRACE_MS 2000

extern char **environ;

/* Appends s; with esc, as the inside of a JSON string (quotes, backslashes
 * and control bytes become '?'). */
static size_t put_text(char *buf, size_t at, size_t cap, const char *s, int esc)
{
	for (; *s && at + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		buf[at++] = esc && (c == '"' || c == '\\' || c < 0x20) ? '?' : (char)c;
	}
	return at;
}

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	return put_text(buf, at, cap, s, 0);
}

static size_t put_int(char *buf, size_t at, size_t cap, long v)
{
	char tmp[24];
	int n = 0;
	if (v < 0) {
		if (at + 1 < cap)
			buf[at++] = '-';
		v = -v;
	}
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 23);
	while (n > 0 && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

/* For the alarm handler. */
static volatile sig_atomic_t cur_seq = -1, cur_item = -1;
static struct lesson_sandbox *alarm_sb;

static void on_alarm(int sig)
{
	(void)sig;
	char buf[1024];
	size_t n = 0;
	buf[n++] = 'E';
	if (cur_seq < 0) { /* loading the lab */
		n = put(buf, n, sizeof(buf), "{\"t\":\"fatal\",\"message\":\"");
	} else {
		n = put(buf, n, sizeof(buf), "{\"t\":\"done\",\"seq\":");
		n = put_int(buf, n, sizeof(buf), cur_seq);
		n = put(buf, n, sizeof(buf), ",\"item\":");
		n = put_int(buf, n, sizeof(buf), cur_item);
		n = put(buf, n, sizeof(buf), ",\"status\":\"error\",\"score\":0,\"message\":\"");
	}
	const char *pos = alarm_sb ? lesson_sandbox_position(alarm_sb) : "";
	n = put_text(buf, n, sizeof(buf), pos[0] ? pos : "?", 1);
	n = put(buf, n, sizeof(buf),
		": stopped: the action ran past its time limit inside a library function "
		"(a pathological pattern or string operation?), so the lab runner was "
		"stopped, and its instances with it\",\"fatal\":true}");
	ssize_t w = send(LESSON_RUNNER_FD, buf, n, MSG_NOSIGNAL);
	(void)w;
	_exit(3);
}

static void set_alarm(uint64_t ms)
{
	struct itimerval it = {0};
	it.it_value.tv_sec = (time_t)(ms / 1000);
	it.it_value.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* RLIMIT_CPU soft limit: CPU used so far + budget_s (0: off). */
static void cpu_backstop(unsigned budget_s)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_CPU, &rl) < 0)
		return;
	if (!budget_s) {
		rl.rlim_cur = rl.rlim_max;
	} else {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		rlim_t want = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + budget_s;
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max ? rl.rlim_max : want;
	}
	setrlimit(RLIMIT_CPU, &rl);
}

void lesson_runner_guard_install(struct lesson_sandbox *sb)
{
	alarm_sb = sb;
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
}

void lesson_runner_guard_arm(int seq, int item, int timeout_ms)
{
	cur_seq = seq;
	cur_item = item;
	set_alarm((uint64_t)timeout_ms + LESSON_RUNNER_GRACE_MS);
	cpu_backstop((unsigned)(timeout_ms / 1000) + 10);
}

void lesson_runner_guard_disarm(void)
{
	set_alarm(0);
	cpu_backstop(0);
	cur_seq = cur_item = -1;
}

int lesson_runner_spawn(const char *lab, pid_t *pid, int *sock, struct vlab_err *err)
{
	char self[VLAB_PATH_MAX], parent[24];
	int sv[2];
	if (vlab_self_exe(self, sizeof(self), err) < 0)
		return -1;
	if (lesson_ipc_pair(sv, err) < 0)
		return -1;
	/* Above the numbers the child's dup2s write to. */
	for (int k = 0; k < 2; k++) {
		int h = fcntl(sv[k], F_DUPFD_CLOEXEC, 10);
		if (h < 0) {
			vlab_err_set(err, errno, "dup runner socket");
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		close(sv[k]);
		sv[k] = h;
	}
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	char *argv[] = {self, "__lab-runner", "--lab", (char *)lab, "--parent", parent, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], LESSON_RUNNER_FD);
	vlab_spawnattr_init(&attr);
	int rc = posix_spawn(pid, self, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return vlab_err_set(err, rc, "start the lab runner (%s)", self);
	}
	*sock = sv[0];
	return 0;
}
