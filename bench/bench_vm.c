/* bench/bench_vm.c: what vlab's VM engine costs, side by side in one run
 * with what it stands on:
 *
 *   kvm floor      a fresh process that creates a VM, runs it to its first
 *                  exit and tears it down (bench/kvm_floor.c);
 *   vmm+testguest  vlab's own VMM (backend=kvm) booting our test guest
 *                  through the whole Linux boot path (bzImage, boot_params,
 *                  ACPI, devices) to its READY line;
 *   linux on vmm   the Debian guest on vlab's VMM to the agent's READY,
 *                  where KVM is hardware-assisted (else: why not);
 *   linux on tcg   the same guest under QEMU software emulation.
 *
 * Runs are interleaved so that machine noise hits every column alike;
 * read the ratios to the floor.  Then the test guest's startup phases and
 * the memory of each instance's process tree at READY (RSS and PSS).
 *
 *   bench_vm [--runs N] [--linux-runs N] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "metrics/footprint.h"
#include "metrics/stats.h"

extern char **environ;

#define GUEST "build/tests/vm-guest/testguest.bzImage"
#define FLOOR "build/bench/kvm_floor"
#define NPH 5

static const char *const phases[NPH] = {"spawn", "kvm", "load", "first-insn", "READY"};

struct col {
	const char *name;
	const char *why_not;
	double *ms;
	size_t n;
	double rss_kib, pss_kib; /* of the last run */
};

static double *alloc_samples(size_t n)
{
	double *p = calloc(n ? n : 1, sizeof(double));
	if (!p) {
		fprintf(stderr, "bench_vm: out of memory\n");
		exit(5);
	}
	return p;
}

/* One fresh kvm_floor process: ms to its first exit. */
static double floor_once(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	char *argv[] = {FLOOR, "3", NULL};
	pid_t pid;
	uint64_t t0 = vlab_now_ns();
	int rc = posix_spawn(&pid, FLOOR, &fa, NULL, argv, environ);
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
	return n == 1 && WIFEXITED(st) && !WEXITSTATUS(st) ? (double)(t1 - t0) / 1e6 : -1;
}

/* One vm instance to READY: startup ms (negative on failure), and the
 * phases and memory at READY when asked. */
static double vm_once(const char *const *kv, struct col *c, double *phase_ms, int timeout_ms)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	double ms = -1;
	if (vlab_spec_init(&spec, "vm", "bench-vm", &err) < 0)
		return -1;
	for (; *kv; kv++)
		if (vlab_spec_set_kv(&spec, *kv, &err) < 0)
			goto out;
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, timeout_ms, &err) < 0) {
		fprintf(stderr, "bench_vm: %s: %s\n", c->name, err.msg);
		goto out;
	}
	ms = (double)vlab_instance_startup_ns(inst) / 1e6;
	struct metrics_smaps sm;
	if (metrics_tree_smaps(vlab_instance_pid(inst), &sm, NULL, &err) == 0) {
		c->rss_kib = (double)sm.rss / 1024;
		c->pss_kib = (double)sm.pss / 1024;
	}
	if (phase_ms) {
		vlab_instance_pump(inst, NULL);
		const struct vlab_phase *ph;
		size_t n = vlab_instance_phases(inst, &ph);
		for (int k = 0; k < NPH - 1; k++)
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ph[i].name, phases[k]))
					phase_ms[k] = (double)ph[i].ns / 1e6;
		phase_ms[NPH - 1] = ms;
	}
	vlab_instance_stop(inst, 3000, NULL);
out:
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
	return ms;
}

static void row(const struct col *c, double base)
{
	struct metrics_summary s;
	struct vlab_err err = {0};
	if (c->why_not) {
		printf("  %-16s skipped: %s\n", c->name, c->why_not);
		return;
	}
	if (metrics_summarize(c->ms, c->n, c->n > 3 ? 1 : 0, &s, &err) < 0) {
		printf("  %-16s too few runs (%zu)\n", c->name, c->n);
		return;
	}
	printf("  %-16s %10.2f %10.2f %10.2f  %4zu", c->name, s.min, s.median, s.max, s.n);
	if (base > 0)
		printf("   x%.1f", s.median / base);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"runs", required_argument, NULL, 'r'},
					     {"linux-runs", required_argument, NULL, 'l'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	size_t runs = 30, lruns = 3;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'r')
			runs = strtoul(optarg, NULL, 10);
		else if (o == 'l')
			lruns = strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: bench_vm [--runs N] [--linux-runs N]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (runs < 3 || runs > 10000 || lruns > 100) {
		fprintf(stderr, "bench_vm: --runs 3..10000, --linux-runs 0..100\n");
		return 2;
	}
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, VLAB_CAPS_MEASURE_KVM);
	if (!caps.kvm_present || caps.kvm_open_errno) {
		printf("SKIP: bench_vm: no usable /dev/kvm here\n");
		return 77;
	}
	if (access(GUEST, R_OK) || access(FLOOR, X_OK)) {
		printf("SKIP: bench_vm: %s or %s is not built (make tests bench)\n", GUEST, FLOOR);
		return 77;
	}
	int images = caps.image[VLAB_IMAGE_KERNEL].built && caps.image[VLAB_IMAGE_INITRAMFS].built;
	char hw_why[300];
	snprintf(hw_why, sizeof(hw_why),
		 "KVM here (%s) emulates guest kernel code, %.0fx slower than user code",
		 caps.kvm_module, caps.ratio);
	struct col floor = {.name = "kvm floor"}, tg = {.name = "vmm+testguest"},
		   lk = {.name = "linux on vmm"}, lt = {.name = "linux on tcg"};
	if (!images)
		lk.why_not = lt.why_not = "the guest images are not built (make images)";
	if (!lk.why_not && !(caps.kvm_measured && caps.kvm_hw))
		lk.why_not = hw_why;
	if (!lt.why_not && !caps.qemu_path[0])
		lt.why_not = "qemu-system-x86_64 is missing";
	floor.ms = alloc_samples(runs);
	tg.ms = alloc_samples(runs);
	lk.ms = alloc_samples(lruns);
	lt.ms = alloc_samples(lruns);
	double(*ph)[NPH] = calloc(runs, sizeof(*ph));

	static const char *const tg_kv[] = {"backend=kvm", "kernel=" GUEST, "initrd=none",
					    "memory=32M",  "rng=off",	    NULL};
	static const char *const lk_kv[] = {"backend=kvm", "memory=256M", NULL};
	static const char *const lt_kv[] = {"backend=tcg", "memory=256M", NULL};
	printf("vm engine startup, launch to READY (ms), %zu runs (%zu for Linux guests), "
	       "interleaved; first run of each column discarded as warm-up\n",
	       runs, lruns);
	for (size_t i = 0; i < runs; i++) {
		double v = floor_once();
		if (v >= 0)
			floor.ms[floor.n++] = v;
		v = vm_once(tg_kv, &tg, ph[tg.n], 10000);
		if (v >= 0)
			tg.ms[tg.n++] = v;
		if (i < lruns && !lk.why_not && (v = vm_once(lk_kv, &lk, NULL, 120000)) >= 0)
			lk.ms[lk.n++] = v;
		if (i < lruns && !lt.why_not && (v = vm_once(lt_kv, &lt, NULL, 300000)) >= 0)
			lt.ms[lt.n++] = v;
	}
	struct metrics_summary fs;
	struct vlab_err err = {0};
	double base = metrics_summarize(floor.ms, floor.n, 1, &fs, &err) == 0 ? fs.median : 0;
	printf("  %-16s %10s %10s %10s  %4s   median/floor\n", "", "min", "median", "max", "n");
	row(&floor, base);
	row(&tg, base);
	row(&lk, base);
	row(&lt, base);

	printf("\nvmm+testguest startup phases, ms since create (median):\n ");
	for (int k = 0; k < NPH; k++) {
		double *v = alloc_samples(tg.n);
		for (size_t i = 0; i < tg.n; i++)
			v[i] = ph[i][k];
		struct metrics_summary s;
		if (tg.n && metrics_summarize(v, tg.n, tg.n > 3 ? 1 : 0, &s, &err) == 0)
			printf(" %s %.2f", phases[k], s.median);
		free(v);
	}
	printf("\n\nmemory of the instance's process tree at READY (last run):\n");
	if (tg.n)
		printf("  vmm+testguest   RSS %8.0f KiB  PSS %8.0f KiB  (32 MiB of guest RAM)\n",
		       tg.rss_kib, tg.pss_kib);
	if (lk.n)
		printf("  linux on vmm    RSS %8.0f KiB  PSS %8.0f KiB  (256 MiB of guest RAM)\n",
		       lk.rss_kib, lk.pss_kib);
	if (lt.n)
		printf("  linux on tcg    RSS %8.0f KiB  PSS %8.0f KiB  (256 MiB, QEMU included)\n",
		       lt.rss_kib, lt.pss_kib);
	int ok = floor.n >= 2 && tg.n >= 2;
	free(floor.ms);
	free(tg.ms);
	free(lk.ms);
	free(lt.ms);
	free(ph);
	return ok ? 0 : 1;
}
