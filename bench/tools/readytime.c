/* bench/tools/readytime.c: how long a command takes to say READY.
 *
 *   readytime [-n RUNS] [-w WARMUP] [-k] [-t SECONDS] [-p PREFIX | -f FD] -- CMD [ARG...]
 *
 * Starts CMD (posix_spawn, like vlab starts its instances) RUNS + WARMUP
 * times, one after the other, and measures on CLOCK_MONOTONIC the time from
 * just before the spawn to the first line on CMD's standard output that
 * begins with PREFIX ("READY") -- or, with -f, to the first byte CMD writes
 * to its descriptor FD (a pipe; for programs that signal that way, like
 * bench/kvm_floor).  Then it waits for CMD to end (or, with -k,
 * kills its process group: for programs that stay up, like QEMU).  Standard
 * input is /dev/null; standard error is passed through.
 *
 * Prints one line: runs=N min_ms=.. median_ms=.. max_ms=..  (warm-up runs
 * discarded).  Exit status 1 when a run never said READY within the time
 * limit (-t, default 60 s). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One run: the time to READY in ms, or -1. */
static double one_run(char **argv, const char *prefix, int notify_fd, int kill_after, int timeout_s)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (notify_fd >= 0)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], notify_fd >= 0 ? notify_fd : 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	uint64_t t0 = now_ns();
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	if (rc != 0) {
		fprintf(stderr, "readytime: cannot start %s: %s\n", argv[0], strerror(rc));
		close(out[0]);
		return -1;
	}
	char buf[8192], line[64];
	size_t llen = 0, plen = strlen(prefix);
	double ms = -1;
	uint64_t deadline = t0 + (uint64_t)timeout_s * 1000000000ull;
	if (plen > sizeof(line))
		plen = sizeof(line);
	while (ms < 0) {
		uint64_t t = now_ns();
		if (t >= deadline)
			break;
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		if (poll(&p, 1, (int)((deadline - t) / 1000000 + 1)) <= 0)
			continue;
		ssize_t n = read(out[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		uint64_t t1 = now_ns();
		if (notify_fd >= 0) {
			ms = (double)(t1 - t0) / 1e6;
			break;
		}
		/* The start of the current line, byte by byte: a serial port
		 * may deliver a line in many reads. */
		for (ssize_t i = 0; i < n && ms < 0; i++) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				llen = 0;
				continue;
			}
			if (llen < plen)
				line[llen++] = buf[i];
			if (llen == plen && !memcmp(line, prefix, plen))
				ms = (double)(t1 - t0) / 1e6;
		}
	}
	if (kill_after || ms < 0)
		kill(-pid, SIGKILL);
	else /* drain so the program is not stopped by a full pipe */
		while (read(out[0], buf, sizeof(buf)) > 0)
			;
	close(out[0]);
	waitpid(pid, NULL, 0);
	return ms;
}

int main(int argc, char **argv)
{
	int runs = 10, warmup = 1, kill_after = 0, timeout_s = 60, notify_fd = -1, c;
	const char *prefix = "READY";
	while ((c = getopt(argc, argv, "+n:w:kt:p:f:")) != -1) {
		switch (c) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'k':
			kill_after = 1;
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'f':
			notify_fd = atoi(optarg);
			if (notify_fd < 3 || notify_fd > 100)
				notify_fd = -2;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc || runs < 2 || warmup < 0 || timeout_s < 1 || notify_fd == -2) {
		fprintf(stderr, "usage: readytime [-n RUNS>=2] [-w WARMUP] [-k] [-t SECONDS] "
				"[-p PREFIX | -f FD>=3] -- CMD [ARG...]\n");
		return 2;
	}
	double *ms = calloc((size_t)runs, sizeof(double));
	if (!ms)
		return 1;
	for (int i = 0; i < warmup + runs; i++) {
		double t = one_run(argv + optind, prefix, notify_fd, kill_after, timeout_s);
		if (t < 0) {
			fprintf(stderr, "readytime: %s did not %s %s within %d s\n", argv[optind],
				notify_fd >= 0 ? "write to descriptor" : "print",
				notify_fd >= 0 ? "its notify" : prefix, timeout_s);
			return 1;
		}
		if (i >= warmup)
			ms[i - warmup] = t;
	}
	qsort(ms, (size_t)runs, sizeof(double), cmp);
	double med = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
	printf("runs=%d min_ms=%.3f median_ms=%.3f max_ms=%.3f\n", runs, ms[0], med, ms[runs - 1]);
	free(ms);
	return 0;
}
