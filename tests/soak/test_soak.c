/* tests/soak/test_soak.c: starts and stops many instances in a row, as a
 * student's afternoon would, then checks that the front end (this process)
 * is as it was: the same open descriptors, no child left (zombie or not),
 * RSS grown by less than 5%, and nothing left on the system: no cgroup,
 * network namespace, TAP or veth device, overlay mount or file of ours.
 *
 * How many: $VLAB_SOAK_CONTAINERS, $VLAB_SOAK_UNIKERNELS, $VLAB_SOAK_VMS
 * (emulated: the tcg backend booting the Debian kernel), 50/50/2 by
 * default (`make check-soak`, part of make check); `make soak` runs
 * 500/500/20.  Prints the figures before and after. */
#include "tests/vtest.h"

#include <fcntl.h>
#include <glob.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/paths.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"

static char prefix[32]; /* "sk<pid>-": every instance name starts with it */

struct snap {
	int fds, children;
	long rss_kb;
	int cgroups, netns, lab_links, overlays, files;
};

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

/* Entries of the folders matching pattern whose name holds our prefix
 * (others run tests on this machine at the same time). */
static int count_ours(const char *pattern)
{
	glob_t g;
	int n = 0;
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		DIR *d = opendir(g.gl_pathv[i]);
		if (!d)
			continue;
		for (struct dirent *e; (e = readdir(d));)
			n += strstr(e->d_name, prefix) != NULL;
		closedir(d);
	}
	globfree(&g);
	return n;
}

static int count_lines(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, a) && (!b || strstr(line, b));
	if (f)
		fclose(f);
	return n;
}

/* Interfaces in the lab network other than lo and its bridge. */
static int links_here(void *arg)
{
	int *n = arg;
	struct if_nameindex *ifs = if_nameindex();
	*n = 0;
	for (struct if_nameindex *i = ifs; i && i->if_index; i++)
		*n += strcmp(i->if_name, "lo") && strcmp(i->if_name, VLAB_LABNET_BRIDGE);
	if (ifs)
		if_freenameindex(ifs);
	return 0;
}

static void take(struct snap *s, struct vlab_labnet *net)
{
	char run[VLAB_PATH_MAX], pat[VLAB_PATH_MAX + 16], ns[64];
	s->fds = vtest_count_fds();
	s->children = vtest_count_children();
	s->rss_kb = rss_kb();
	s->cgroups = count_ours("/sys/fs/cgroup/*/vlab");
	snprintf(ns, sizeof(ns), "/run/netns/vlab-%d", (int)getpid());
	s->netns = access(ns, F_OK) == 0;
	s->lab_links = 0;
	if (net)
		vlab_labnet_call(net, links_here, &s->lab_links, NULL);
	s->overlays = count_lines("/proc/self/mountinfo", "overlay", prefix);
	s->files = count_ours("/tmp") + count_ours("/dev/shm");
	if (vlab_runtime_dir(run, sizeof(run), NULL) == 0) {
		s->files += count_ours(run);
		snprintf(pat, sizeof(pat), "%s/*", run);
		s->files += count_ours(pat);
	}
}

static void print_snap(const char *when, const struct snap *s)
{
	print_message("%-14s fds %3d  children %d  rss %6ld KiB  cgroups %d  netns %d  "
		      "lab links %d  overlays %d  files %d\n",
		      when, s->fds, s->children, s->rss_kb, s->cgroups, s->netns, s->lab_links,
		      s->overlays, s->files);
}

static int env_count(const char *name, int def)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : def;
}

static int has_opt(const char *engine, const char *opt)
{
	for (const struct vlab_opt_desc *o = vlab_engine_find(engine)->opts; o->name; o++)
		if (!strcmp(o->name, opt))
			return 1;
	return 0;
}

/* Why engine cannot run here, or NULL. */
static const char *cannot(const char *engine)
{
	static struct vlab_avail a;
	vlab_engine_find(engine)->probe(&a);
	return a.level == VLAB_AVAIL_NO ? a.reason : NULL;
}

/* Starts, waits for READY and stops n instances of engine one after the
 * other; kv: options.  Returns how many ran. */
static int cycle(const char *engine, int n, const char *const *kv, struct vlab_labnet *net,
		 int ready_ms)
{
	uint64_t t0 = vlab_now_ns();
	for (int i = 0; i < n; i++) {
		struct vlab_spec spec;
		struct vlab_err err = {0};
		char name[40];
		snprintf(name, sizeof(name), "%s%c%d", prefix, engine[0], i);
		assert_int_equal(vlab_spec_init(&spec, engine, name, &err), 0);
		for (int k = 0; kv && kv[k]; k++)
			assert_int_equal(vlab_spec_set_kv(&spec, kv[k], &err), 0);
		if (net && vlab_labnet_spec_attach(net, &spec, &err) < 0)
			fail_msg("%s: lab network: %s", name, err.msg);
		struct vlab_instance *inst = NULL;
		if (vlab_instance_create(&spec, &inst, &err) < 0 ||
		    vlab_instance_start(inst, &err) < 0 ||
		    vlab_instance_wait_ready(inst, ready_ms, &err) < 0)
			fail_msg("%s %d of %d: %s", engine, i + 1, n, err.msg);
		if (vlab_instance_stop(inst, 3000, &err) < 0)
			fail_msg("stop %s: %s", name, err.msg);
		vlab_instance_free(inst);
		if (net)
			vlab_labnet_spec_detach(net, &spec);
		vlab_spec_free(&spec);
	}
	double s = (double)(vlab_now_ns() - t0) / 1e9;
	print_message("%-10s %4d started and stopped in %6.1f s (%.1f per second)\n", engine, n, s,
		      n / (s > 0 ? s : 1));
	return n;
}

static void test_soak(void **state)
{
	(void)state;
	if (geteuid() != 0)
		VTEST_SKIP("the soak needs root (containers' cgroups, the lab network)");
	int nct = env_count("VLAB_SOAK_CONTAINERS", 50), nuk = env_count("VLAB_SOAK_UNIKERNELS", 50),
	    nvm = env_count("VLAB_SOAK_VMS", 2);
	snprintf(prefix, sizeof(prefix), "sk%d-", (int)getpid());
	const char *why_ct = cannot("container"), *why_uk = cannot("unikernel"),
		   *why_vm = cannot("vm");
	if (why_ct && why_uk && why_vm)
		VTEST_SKIP("no engine can run here: %s; %s; %s", why_ct, why_uk, why_vm);

	struct snap before, warm, after;
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	take(&before, NULL);
	if (vlab_labnet_acquire(&net, &err) < 0) {
		print_message("no lab network (%s): instances without it\n", err.msg);
		net = NULL;
	}
	struct vlab_labnet *ct_net = net && has_opt("container", "net.ns") ? net : NULL;
	static const char *const net_on[] = {"net=on", NULL};

	/* Warm up: the first instance of each engine loads what stays loaded. */
	if (!why_ct)
		cycle("container", 2, NULL, ct_net, 30000);
	if (!why_uk)
		cycle("unikernel", 2, net ? net_on : NULL, net, 30000);
	take(&warm, net);

	int ran = 0;
	if (why_ct)
		print_message("containers: skipped (%s)\n", why_ct);
	else
		ran += cycle("container", nct, NULL, ct_net, 30000);
	if (why_uk)
		print_message("unikernels: skipped (%s)\n", why_uk);
	else
		ran += cycle("unikernel", nuk, net ? net_on : NULL, net, 30000);
	static const char *const tcg[] = {"backend=tcg", NULL};
	if (why_vm || nvm == 0)
		print_message("emulated VMs: skipped (%s)\n", why_vm ? why_vm : "none asked");
	else
		ran += cycle("vm", nvm, tcg, NULL, 180000);
	struct snap held;
	take(&held, net); /* the lab network still held, as after the warm-up */
	vlab_labnet_release(net);
	take(&after, NULL);
	after.lab_links = held.lab_links;

	print_snap("before", &before);
	print_snap("after warm-up", &warm);
	print_snap("after the loop", &held);
	print_snap("after", &after);
	double growth = warm.rss_kb > 0 ? 100.0 * (double)(held.rss_kb - warm.rss_kb) /
					      (double)warm.rss_kb
					: 0;
	print_message("%d instances; RSS %+ld KiB (%+.2f%%) since the warm-up\n", ran,
		      held.rss_kb - warm.rss_kb, growth);

	assert_int_equal(held.fds, warm.fds);
	assert_int_equal(after.fds, before.fds);
	assert_int_equal(after.children, 0);
	assert_int_equal(after.cgroups, before.cgroups);
	assert_int_equal(after.netns, 0);
	assert_int_equal(after.lab_links, 0);
	assert_int_equal(after.overlays, before.overlays);
	assert_int_equal(after.files, before.files);
	if (growth >= 5.0)
		fail_msg("RSS grew by %.2f%% (%ld -> %ld KiB)", growth, warm.rss_kb, held.rss_kb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_soak)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
