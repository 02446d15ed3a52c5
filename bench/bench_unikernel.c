/* bench/bench_unikernel.c: how fast the unikernel starts and how little it
 * costs, side by side in one run with what it stands on:
 *
 *   kvm floor     a fresh process that creates a VM, runs it to its first
 *                 exit and tears it down (bench/kvm_floor.c): the least any
 *                 KVM-based instance can cost;
 *   unikernel     vlab_instance_start() of the probe agent unikernel to its
 *                 READY line, seen by the front end (the startup metric);
 *   host agent    the same agent as a plain process, same instance path;
 *   container     the container engine, when this build and host have it.
 *
 * Runs are interleaved so that machine noise hits every column alike;
 * compare the ratios.  Then the unikernel's startup phases, its image size
 * and its memory at READY (RSS and PSS of the instance process, which is
 * the monitor with the guest's RAM inside it), against the targets:
 * median <= 3 ms, image <= 64 KiB, RSS <= 2 MiB.
 *
 *   bench_unikernel [--runs N] [--warmup N] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/paths.h"
#include "core/units.h"
#include "engines/engine.h"
#include "metrics/footprint.h"
#include "metrics/stats.h"

extern char **environ;

#define MAX_RUNS 10000
#define NPHASES 5 /* spawn kvm load first-insn READY */

static const char *const phase_names[NPHASES] = {"spawn", "kvm", "load", "first-insn", "READY"};

struct column {
	const char *name;
	const char *why_not; /* set when the column cannot be measured here */
	double *ms;	     /* per run */
	size_t n;
};

static double *samples(size_t runs)
{
	double *p = calloc(runs, sizeof(double));
	if (!p) {
		fprintf(stderr, "bench_unikernel: out of memory\n");
		exit(5);
	}
	return p;
}

/* One run of bench/kvm_floor: ms to its first exit and to its end. */
static int floor_once(const char *prog, double *first, double *total)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	char *argv[] = {(char *)prog, "3", NULL};
	pid_t pid;
	uint64_t t0 = vlab_now_ns();
	int rc = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return -1;
	}
	char c;
	ssize_t n = read(p[0], &c, 1);
	uint64_t t1 = vlab_now_ns();
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	uint64_t t2 = vlab_now_ns();
	if (n != 1 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	*first = (double)(t1 - t0) / 1e6;
	*total = (double)(t2 - t0) / 1e6;
	return 0;
}

struct uk_sample {
	double phase_ms[NPHASES];
	double rss_kib, pss_kib, anon_kib;
};

/* Starts one instance of engine to READY and stops it.  Returns the
 * startup in ms, or a negative number with err. */
static double instance_once(const char *engine, struct uk_sample *us, struct vlab_err *err)
{
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	double ms = -1;
	if (vlab_spec_init(&spec, engine, "bench", err) < 0)
		return -1;
	if (vlab_instance_create(&spec, &inst, err) < 0)
		goto out;
	if (vlab_instance_start(inst, err) < 0 || vlab_instance_wait_ready(inst, 10000, err) < 0)
		goto out;
	ms = (double)vlab_instance_startup_ns(inst) / 1e6;
	if (us) {
		struct metrics_smaps sm;
		if (metrics_read_smaps(vlab_instance_pid(inst), &sm, err) < 0) {
			ms = -1;
			goto out;
		}
		us->rss_kib = (double)sm.rss / 1024;
		us->pss_kib = (double)sm.pss / 1024;
		us->anon_kib = (double)sm.pss_anon / 1024;
		vlab_instance_pump(inst, NULL);
		const struct vlab_phase *ph;
		size_t n = vlab_instance_phases(inst, &ph);
		for (int k = 0; k < NPHASES - 1; k++) {
			us->phase_ms[k] = 0;
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ph[i].name, phase_names[k]))
					us->phase_ms[k] = (double)ph[i].ns / 1e6;
		}
		us->phase_ms[NPHASES - 1] = ms;
	}
	vlab_instance_stop(inst, 2000, NULL);
out:
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
	return ms;
}

static int summary(const double *v, size_t n, size_t warmup, struct metrics_summary *s)
{
	struct vlab_err err = {0};
	return metrics_summarize(v, n, warmup, s, &err);
}

static void row(const char *name, const double *v, size_t n, size_t warmup, double base)
{
	struct metrics_summary s;
	if (summary(v, n, warmup, &s) < 0) {
		printf("  %-26s (too few samples)\n", name);
		return;
	}
	printf("  %-26s %8.2f %8.2f %8.2f", name, s.min, s.median, s.max);
	if (base > 0)
		printf("   x%.2f", s.median / base);
	printf("\n");
}

/* Is the engine compiled in and able to run here? */
static const char *unavailable(const char *engine)
{
	static char why[300];
	const struct vlab_engine *e = vlab_engine_find(engine);
	if (!e)
		return "not in this build";
	struct vlab_avail a;
	e->probe(&a);
	if (a.level == VLAB_AVAIL_NO) {
		snprintf(why, sizeof(why), "cannot run here: %s", a.reason);
		return why;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"runs", required_argument, NULL, 'r'},
					     {"warmup", required_argument, NULL, 'w'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	size_t runs = 100, warmup = 3;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r')
			runs = strtoul(optarg, NULL, 10);
		else if (c == 'w')
			warmup = strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: bench_unikernel [--runs N] [--warmup N]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (runs < warmup + 2 || runs > MAX_RUNS) {
		fprintf(stderr, "bench_unikernel: --runs must be %zu..%d\n", warmup + 2, MAX_RUNS);
		return 2;
	}
	const char *why = unavailable("unikernel");
	if (why) {
		printf("SKIP: unikernel %s\n", why);
		return 77;
	}

	/* bench/kvm_floor sits beside this program. */
	char floor_prog[VLAB_PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", floor_prog, sizeof(floor_prog) - 16);
	if (l < 0)
		return 5;
	floor_prog[l] = '\0';
	strcpy(strrchr(floor_prog, '/') + 1, "kvm_floor");

	struct column col[4] = {
	    {.name = "kvm floor: first exit"},
	    {.name = "unikernel: READY"},
	    {.name = "host agent: READY", .why_not = unavailable("host")},
	    {.name = "container: READY", .why_not = unavailable("container")},
	};
	double *floor_total = samples(runs);
	for (int k = 0; k < 4; k++)
		col[k].ms = samples(runs);
	struct uk_sample *us = calloc(runs, sizeof(*us));
	if (!us)
		return 5;

	for (size_t i = 0; i < runs; i++) {
		struct vlab_err err = {0};
		if (floor_once(floor_prog, &col[0].ms[col[0].n], &floor_total[col[0].n]) == 0)
			col[0].n++;
		double ms = instance_once("unikernel", &us[col[1].n], &err);
		if (ms < 0) {
			fprintf(stderr, "bench_unikernel: unikernel: %s\n", err.msg);
			return 1;
		}
		col[1].ms[col[1].n++] = ms;
		for (int k = 2; k < 4; k++) {
			if (col[k].why_not)
				continue;
			const char *engine = k == 2 ? "host" : "container";
			ms = instance_once(engine, NULL, &err);
			if (ms < 0) {
				static char msg[VLAB_ERR_MSG];
				snprintf(msg, sizeof(msg), "failed: %s", err.msg);
				col[k].why_not = msg;
				continue;
			}
			col[k].ms[col[k].n++] = ms;
		}
	}

	struct metrics_summary fs;
	double base = summary(col[0].ms, col[0].n, warmup, &fs) == 0 ? fs.median : 0;
	printf("unikernel startup: %zu runs each, first %zu dropped, interleaved\n", runs, warmup);
	printf("  %-26s %8s %8s %8s   %s\n", "ms", "min", "median", "max", "vs floor");
	row(col[0].name, col[0].ms, col[0].n, warmup, 0);
	row("kvm floor: with teardown", floor_total, col[0].n, warmup, base);
	for (int k = 1; k < 4; k++) {
		if (col[k].why_not)
			printf("  %-26s %s\n", col[k].name, col[k].why_not);
		else
			row(col[k].name, col[k].ms, col[k].n, warmup, base);
	}

	/* Where the unikernel's startup goes: each phase's end, since create(). */
	printf("unikernel phases (ms since create, median):");
	double *v = samples(runs);
	for (int k = 0; k < NPHASES; k++) {
		for (size_t i = 0; i < col[1].n; i++)
			v[i] = us[i].phase_ms[k];
		struct metrics_summary s;
		if (summary(v, col[1].n, warmup, &s) == 0)
			printf(" %s %.2f", phase_names[k], s.median);
	}
	printf("\n");

	struct metrics_summary uk;
	summary(col[1].ms, col[1].n, warmup, &uk);
	printf("target startup median <= 3 ms: %.2f ms, %s\n", uk.median,
	       uk.median <= 3.0 ? "met" : "MISSED");

	char image[VLAB_PATH_MAX];
	struct stat st;
	if (vlab_image_path(VLAB_IMAGE_UNIKERNEL, image, sizeof(image), NULL) == 0 &&
	    stat(image, &st) == 0)
		printf("target image <= 64 KiB stripped: %s is %lld bytes (%.1f KiB), %s\n", image,
		       (long long)st.st_size, (double)st.st_size / 1024,
		       st.st_size <= 65536 ? "met" : "MISSED");

	struct metrics_summary rss, pss, anon;
	for (size_t i = 0; i < col[1].n; i++)
		v[i] = us[i].rss_kib;
	summary(v, col[1].n, warmup, &rss);
	for (size_t i = 0; i < col[1].n; i++)
		v[i] = us[i].pss_kib;
	summary(v, col[1].n, warmup, &pss);
	for (size_t i = 0; i < col[1].n; i++)
		v[i] = us[i].anon_kib;
	summary(v, col[1].n, warmup, &anon);
	printf("target RSS <= 2 MiB (monitor + guest, at READY, median): RSS %.0f KiB, %s; "
	       "PSS %.0f KiB, of which private memory (monitor heap + guest RAM) %.0f KiB\n",
	       rss.median, rss.median <= 2048 ? "met" : "MISSED", pss.median, anon.median);
	free(v);
	free(us);
	free(floor_total);
	for (int k = 0; k < 4; k++)
		free(col[k].ms);
	return 0;
}
