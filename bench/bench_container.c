/* bench/bench_container.c: container start-to-READY, vlab's runtime side by
 * side with the runtimes a user would otherwise pick, in one run:
 *
 *   host agent   the probe agent as a plain process: no isolation at all
 *   vlab         vlab_instance_start() of the container engine to the
 *                agent's READY seen by the front end (the startup metric);
 *                its runtime forked by the program's zygote, which the
 *                warm-up runs start (engines/zygote.h)
 *   vlab, exec   the same with VLAB_ZYGOTE=0: the runtime executed afresh
 *                for every start, as crun and runc are
 *   crun, runc   `crun run` / `runc run` of an OCI bundle on the same image
 *                and agent, with the same namespaces and limits
 *   bwrap        `bwrap --unshare-all` on the same image (no cgroups)
 *
 * Every column runs the same program (the image's /bin/vlab-agent) and is
 * timed from spawning the runtime to reading the agent's READY line; the
 * agent then sees its stdin close and exits.  Runs are interleaved so that
 * machine noise hits every column alike: compare the ratios.  crun 1.8
 * refuses this machine's hybrid cgroup layout while the empty cgroup2
 * hierarchy is mounted at /sys/fs/cgroup/unified, so crun is started in a
 * private mount namespace without it (an unshare and an umount, a few
 * tens of microseconds, are on crun's clock).  Target: vlab median <= 3 ms
 * and at least 3x faster than crun.
 *
 * --versus VLAB adds a column for another build of vlab (its runtime
 * program, found beside it as vlab finds its own), interleaved with this
 * one: an A/B of a change to the runtime on a noisy machine.
 *
 *   bench_container [--runs N] [--warmup N] [--versus VLAB] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/paths.h"
#include "engines/engine.h"
#include "metrics/stats.h"

extern char **environ;

#define MAX_RUNS 5000
#define NCOLS 7
#define NPHASES 7

enum { COL_HOST, COL_VLAB, COL_VLAB_EXEC, COL_VERSUS, COL_CRUN, COL_RUNC, COL_BWRAP };

struct column {
	const char *name;
	char why_not[256]; /* set when the column cannot run here */
	double *ms;
	size_t n;
	int failures;
};

static const char *const phase_names[NPHASES] = {"spawn",   "clone", "cgroup", "mounts",
						 "seccomp", "exec",  "READY"};
static double *phase_ms[NPHASES];

static char rootfs[VLAB_PATH_MAX], agent[VLAB_PATH_MAX], bundle[] = "/tmp/vlab-bench-ct-XXXXXX";
static const char *crun, *runc, *bwrap;

static const char *which(const char *prog)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/bin", "/sbin",
					   "/usr/local/bin", NULL};
	for (int i = 0; dirs[i]; i++) {
		static char p[NCOLS][256];
		static int k;
		char *slot = p[k++ % NCOLS];
		snprintf(slot, 256, "%s/%s", dirs[i], prog);
		if (access(slot, X_OK) == 0)
			return slot;
	}
	return NULL;
}

/* Mode for the child of spawn_ready(). */
enum { PLAIN, NO_UNIFIED };

/* Spawns argv with stdin and stdout on pipes; returns ms to the READY
 * line, then closes stdin (the agent exits) and reaps.  -1 on failure. */
static double spawn_ready(char *const argv[], int mode)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	uint64_t t0 = vlab_now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		if (mode == NO_UNIFIED) {
			if (unshare(CLONE_NEWNS) < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
				_exit(126);
			umount2("/sys/fs/cgroup/unified", MNT_DETACH);
		}
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	double ms = -1;
	char buf[4096];
	size_t len = 0;
	while (pid > 0 && len < sizeof(buf) - 1) {
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t n = read(out[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "READY")) {
			ms = (double)(vlab_now_ns() - t0) / 1e6;
			break;
		}
	}
	close(in[1]);
	close(out[0]);
	if (pid > 0) {
		int st;
		struct timespec wait = {.tv_sec = 0, .tv_nsec = 1000000};
		for (int i = 0; i < 5000 && waitpid(pid, &st, WNOHANG) == 0; i++)
			nanosleep(&wait, NULL);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ms = -1;
		}
	}
	return pid > 0 ? ms : -1;
}

static double vlab_start(int run);

/* One start with the runtime of the vlab at self (NULL: this one); the
 * phases are kept for this one only. */
static double vlab_once(int run, const char *self)
{
	char *mine = getenv("VLAB_SELF") ? strdup(getenv("VLAB_SELF")) : NULL;
	if (self)
		setenv("VLAB_SELF", self, 1);
	double ms = vlab_start(self ? -1 : run);
	if (self && mine)
		setenv("VLAB_SELF", mine, 1);
	else if (self)
		unsetenv("VLAB_SELF");
	free(mine);
	return ms;
}

static double vlab_start(int run)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	double ms = -1;
	if (vlab_spec_init(&spec, "container", "bench", &err) < 0)
		return -1;
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 10000, &err) < 0) {
		if (run <= 0)
			fprintf(stderr, "vlab container: %s\n", err.msg);
		goto out;
	}
	ms = (double)vlab_instance_startup_ns(inst) / 1e6;
	if (run < 0)
		goto stop;
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	for (int k = 0; k < NPHASES - 1; k++) {
		phase_ms[k][run] = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(ph[i].name, phase_names[k]))
				phase_ms[k][run] = (double)ph[i].ns / 1e6;
	}
	phase_ms[NPHASES - 1][run] = ms;
stop:
	vlab_instance_stop(inst, 2000, NULL);
out:
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
	return ms;
}

/* An OCI bundle on the image: `crun spec`'s defaults (namespaces, masked
 * and read-only paths), the agent as the process, the root read-only (as
 * vlab's lower layer), a cgroup namespace and vlab's default limits. */
static int make_bundle(char *why, size_t len)
{
	if (!mkdtemp(bundle)) {
		snprintf(why, len, "cannot make a bundle folder");
		return -1;
	}
	char cmd[VLAB_PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' spec >/dev/null 2>&1", bundle, crun);
	if (system(cmd) != 0) {
		snprintf(why, len, "`crun spec` failed");
		return -1;
	}
	char path[VLAB_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	json_error_t je;
	json_t *c = json_load_file(path, 0, &je);
	if (!c) {
		snprintf(why, len, "config.json: %s", je.text);
		return -1;
	}
	json_t *proc = json_object_get(c, "process"), *linux_ = json_object_get(c, "linux");
	json_object_set_new(proc, "args", json_pack("[s]", "/bin/vlab-agent"));
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(c, "root", json_pack("{s:s,s:b}", "path", rootfs, "readonly", 1));
	json_array_append_new(json_object_get(linux_, "namespaces"),
			      json_pack("{s:s}", "type", "cgroup"));
	json_object_set_new(linux_, "resources",
			    json_pack("{s:{s:I},s:{s:I}}", "memory", "limit", (json_int_t)256 << 20,
				      "pids", "limit", (json_int_t)128));
	int rc = json_dump_file(c, path, JSON_INDENT(1));
	json_decref(c);
	if (rc < 0) {
		snprintf(why, len, "cannot write %s", path);
		return -1;
	}
	return 0;
}

static void row(const struct column *c, size_t warmup, double base)
{
	struct metrics_summary s;
	struct vlab_err err = {0};
	if (c->why_not[0]) {
		printf("  %-12s %s\n", c->name, c->why_not);
		return;
	}
	if (metrics_summarize(c->ms, c->n, warmup, &s, &err) < 0) {
		printf("  %-12s too few successful runs (%d failed)\n", c->name, c->failures);
		return;
	}
	printf("  %-12s %8.2f %8.2f %8.2f", c->name, s.min, s.median, s.max);
	if (base > 0)
		printf("   %6.2fx", s.median / base);
	if (c->failures)
		printf("   (%d runs failed)", c->failures);
	printf("\n");
}

static double median_of(const struct column *c, size_t warmup)
{
	struct metrics_summary s;
	struct vlab_err err = {0};
	if (c->why_not[0] || metrics_summarize(c->ms, c->n, warmup, &s, &err) < 0)
		return 0;
	return s.median;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"runs", required_argument, NULL, 'r'}, {"warmup", required_argument, NULL, 'w'},
		{"versus", required_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	size_t runs = 100, warmup = 3;
	const char *versus = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r')
			runs = strtoul(optarg, NULL, 10);
		else if (c == 'w')
			warmup = strtoul(optarg, NULL, 10);
		else if (c == 'v')
			versus = optarg;
		else {
			fprintf(stderr,
				"usage: bench_container [--runs N] [--warmup N] [--versus VLAB]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (runs < warmup + 2 || runs > MAX_RUNS) {
		fprintf(stderr, "bench_container: --runs must be %zu..%d\n", warmup + 2, MAX_RUNS);
		return 2;
	}
	struct vlab_err err = {0};
	if (vlab_image_path(VLAB_IMAGE_ROOTFS, rootfs, sizeof(rootfs), &err) < 0)
		return 5;
	snprintf(agent, sizeof(agent), "%s/bin/vlab-agent", rootfs);
	if (access(agent, X_OK) != 0) {
		printf("SKIP: the container image is not built (make images): %s\n", agent);
		return 77;
	}
	struct vlab_avail a;
	vlab_engine_find("container")->probe(&a);
	if (a.level == VLAB_AVAIL_NO) {
		printf("SKIP: the container engine cannot run here: %s\n", a.reason);
		return 77;
	}

	struct column col[NCOLS] = {
		[COL_HOST] = {.name = "host agent"}, [COL_VLAB] = {.name = "vlab"},
		[COL_VLAB_EXEC] = {.name = "vlab, exec"}, [COL_VERSUS] = {.name = "vs. --versus"},
		[COL_CRUN] = {.name = "crun"},	     [COL_RUNC] = {.name = "runc"},
		[COL_BWRAP] = {.name = "bwrap"},
	};
	if (!versus)
		snprintf(col[COL_VERSUS].why_not, 256, "not asked for");
	else if (access(versus, X_OK) != 0)
		snprintf(col[COL_VERSUS].why_not, 256, "%s: %s", versus, strerror(errno));
	crun = which("crun");
	runc = which("runc");
	bwrap = which("bwrap");
	if (!crun)
		snprintf(col[COL_CRUN].why_not, 256, "not installed (apt-get install crun)");
	if (!runc)
		snprintf(col[COL_RUNC].why_not, 256, "not installed (apt-get install runc)");
	if (!bwrap)
		snprintf(col[COL_BWRAP].why_not, 256, "not installed (apt-get install bubblewrap)");
	if (geteuid() != 0) {
		snprintf(col[COL_CRUN].why_not, 256, "needs root (this bundle is not rootless)");
		snprintf(col[COL_RUNC].why_not, 256, "needs root (this bundle is not rootless)");
	}
	if ((crun || runc) && geteuid() == 0) {
		char why[256];
		if (make_bundle(why, sizeof(why)) < 0) {
			snprintf(col[COL_CRUN].why_not, 256, "%s", why);
			snprintf(col[COL_RUNC].why_not, 256, "%s", why);
		}
	}
	if (!crun && !runc)
		bundle[0] = '\0';
	struct stat st;
	int hybrid = stat("/sys/fs/cgroup/unified/cgroup.controllers", &st) == 0;

	for (int k = 0; k < NCOLS; k++) {
		col[k].ms = calloc(runs, sizeof(double));
		if (!col[k].ms)
			return 5;
	}
	for (int k = 0; k < NPHASES; k++)
		if (!(phase_ms[k] = calloc(runs, sizeof(double))))
			return 5;

	printf("container start to READY, %zu runs (%zu warm-up), interleaved; ms\n", runs, warmup);
	char id[64];
	for (size_t r = 0; r < runs; r++) {
		for (int k = 0; k < NCOLS; k++) {
			if (col[k].why_not[0])
				continue;
			double ms = -1;
			snprintf(id, sizeof(id), "vlab-bench-%d-%zu", (int)getpid(), r);
			switch (k) {
			case COL_HOST: {
				char *av[] = {agent, NULL};
				ms = spawn_ready(av, PLAIN);
				break;
			}
			case COL_VLAB: {
				size_t before = col[k].n;
				ms = vlab_once((int)before, NULL);
				break;
			}
			case COL_VLAB_EXEC: {
				char *was = getenv("VLAB_ZYGOTE") ? strdup(getenv("VLAB_ZYGOTE")) : NULL;
				setenv("VLAB_ZYGOTE", "0", 1);
				ms = vlab_once(-1, NULL);
				if (was)
					setenv("VLAB_ZYGOTE", was, 1);
				else
					unsetenv("VLAB_ZYGOTE");
				free(was);
				break;
			}
			case COL_VERSUS:
				ms = vlab_once(-1, versus);
				break;
			case COL_CRUN: {
				char *av[] = {(char *)crun, "run", "-b", bundle, id, NULL};
				ms = spawn_ready(av, hybrid ? NO_UNIFIED : PLAIN);
				break;
			}
			case COL_RUNC: {
				char *av[] = {(char *)runc, "run", "-b", bundle, id, NULL};
				ms = spawn_ready(av, PLAIN);
				break;
			}
			case COL_BWRAP: {
				char *av[] = {(char *)bwrap, "--unshare-all", "--die-with-parent",
					      "--ro-bind", rootfs, "/", "--proc", "/proc", "--dev",
					      "/dev", "--tmpfs", "/tmp", "/bin/vlab-agent", NULL};
				ms = spawn_ready(av, PLAIN);
				break;
			}
			}
			if (ms < 0) {
				col[k].failures++;
				if (col[k].failures > 5 && col[k].n == 0)
					snprintf(col[k].why_not, 256, "fails here (first 6 runs failed)");
				continue;
			}
			col[k].ms[col[k].n++] = ms;
		}
	}

	double vlab = median_of(&col[COL_VLAB], warmup);
	printf("  %-12s %8s %8s %8s   %s\n", "", "min", "median", "max", "vs vlab");
	for (int k = 0; k < NCOLS; k++)
		if (k != COL_VERSUS || versus)
			row(&col[k], warmup, k == COL_VLAB ? 0 : vlab);

	if (col[COL_VLAB].n > warmup + 1) {
		printf("\nvlab startup phases (median ms since create):");
		for (int k = 0; k < NPHASES; k++) {
			struct metrics_summary s;
			if (metrics_summarize(phase_ms[k], col[COL_VLAB].n, warmup, &s, &err) == 0)
				printf(" %s %.2f", phase_names[k], s.median);
		}
		printf("\n");
	}
	double cr = median_of(&col[COL_CRUN], warmup);
	if (vlab > 0) {
		printf("\ntarget: vlab median <= 3 ms: %.2f ms, %s", vlab, vlab <= 3.0 ? "met" : "NOT met");
		if (cr > 0)
			printf("; >= 3x faster than crun: %.1fx, %s", cr / vlab,
			       cr / vlab >= 3.0 ? "met" : "NOT met");
		printf("\n");
	}
	if (bundle[0]) {
		char cmd[VLAB_PATH_MAX];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bundle);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_container: could not remove %s\n", bundle);
	}
	return 0;
}
