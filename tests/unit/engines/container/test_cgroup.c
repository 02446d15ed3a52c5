/* tests/unit/engines/container/test_cgroup.c: the cgroup layer on fixture
 * folders: picking v1 or v2 from a mountinfo file, the files each version
 * writes for the limits, and the usage each one reads back.  (The real v1
 * hierarchy is exercised by the integration tests on this machine.) */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engines/container/ct.h"

static char root[] = "/tmp/vlab-ut-cgroup-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	/* parents first */
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[4096];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A mountinfo file naming fixture folders as cgroup mounts. */
static const char *mountinfo(const char *lines)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/mountinfo", root);
	char expanded[8192] = "";
	for (const char *s = lines; *s; s++) {
		if (*s == '@') {
			strcat(expanded, root);
			continue;
		}
		size_t l = strlen(expanded);
		expanded[l] = *s;
		expanded[l + 1] = '\0';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(expanded, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return ct_rm_tree(root, NULL);
}

#define V1_LINES                                                                                   \
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"                                          \
	"32 31 0:29 / @/cpu rw,relatime - cgroup cgroup rw,cpu\n"                                  \
	"33 31 0:30 / @/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"                          \
	"34 31 0:31 / @/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"                            \
	"35 31 0:32 / @/memory rw,relatime - cgroup cgroup rw,memory\n"                            \
	"39 31 0:36 / @/pids rw,relatime - cgroup cgroup rw,pids\n"                                \
	"40 31 0:37 / @/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"

static void test_find_picks_v1_on_hybrid(void **state)
{
	(void)state;
	/* This machine: v1 controllers, a unified hierarchy with hugetlb only. */
	put("unified/cgroup.controllers", "hugetlb\n");
	const char *mi = mountinfo(V1_LINES "41 31 0:38 / @/unified rw - cgroup2 cgroup2 rw\n");
	struct ct_cgroup cg;
	struct vlab_err err = {0};
	assert_int_equal(ct_cgroup_find(&cg, mi, "box.1.2", &err), 0);
	assert_ptr_equal(cg.ops, &ct_cgroup_v1_ops);
	char want[600];
	snprintf(want, sizeof(want), "%s/memory", root);
	assert_string_equal(cg.mnt[CT_CG_MEMORY], want);
	snprintf(want, sizeof(want), "%s/cpuacct", root);
	assert_string_equal(cg.mnt[CT_CG_CPUACCT], want);
	assert_string_equal(cg.tag, "box.1.2");
}

static void test_find_picks_v2(void **state)
{
	(void)state;
	put("v2/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	const char *mi = mountinfo("30 25 0:26 / @/v2 rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
	struct ct_cgroup cg;
	struct vlab_err err = {0};
	assert_int_equal(ct_cgroup_find(&cg, mi, "box.1.2", &err), 0);
	assert_ptr_equal(cg.ops, &ct_cgroup_v2_ops);
	assert_string_equal(cg.mnt[CT_CG_PIDS], cg.mnt[CT_CG_MEMORY]);
}

static void test_find_comounted_and_missing(void **state)
{
	(void)state;
	/* Debian's classic v1 layout co-mounts cpu and cpuacct. */
	const char *mi = mountinfo("1 0 0:1 / @/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
				   "2 0 0:2 / @/memory rw - cgroup cgroup rw,memory\n"
				   "3 0 0:3 / @/pids rw - cgroup cgroup rw,pids\n");
	struct ct_cgroup cg;
	struct vlab_err err = {0};
	assert_int_equal(ct_cgroup_find(&cg, mi, "t.1.2", &err), 0);
	assert_string_equal(cg.mnt[CT_CG_CPU], cg.mnt[CT_CG_CPUACCT]);

	/* No pids controller anywhere: the error names it. */
	mi = mountinfo("2 0 0:2 / @/memory rw - cgroup cgroup rw,memory\n"
		       "1 0 0:1 / @/cpu rw - cgroup cgroup rw,cpu\n");
	assert_int_equal(ct_cgroup_find(&cg, mi, "t.1.2", &err), -1);
	assert_non_null(strstr(err.msg, "pids"));
	assert_null(strstr(err.msg, "memory"));
}

static void test_v2_limits_and_usage(void **state)
{
	(void)state;
	put("v2/cgroup.controllers", "cpu memory pids\n");
	put("v2/cgroup.subtree_control", "cpu memory pids\n");
	put("v2/vlab/cgroup.subtree_control", "");
	/* The leaf as the kernel would populate it. */
	static const char *const files[] = {"memory.max", "memory.swap.max", "pids.max", "cpu.max",
					    "cgroup.procs", NULL};
	for (int i = 0; files[i]; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "v2/vlab/box.7.9/%s", files[i]);
		put(rel, "max\n");
	}
	const char *mi = mountinfo("30 25 0:26 / @/v2 rw - cgroup2 cgroup2 rw\n");
	struct ct_cgroup cg;
	struct vlab_err err = {0};
	assert_int_equal(ct_cgroup_find(&cg, mi, "box.7.9", &err), 0);
	struct ct_limits lim = {.memory = 64 << 20, .pids = 32, .cpu = 50};
	if (cg.ops->create(&cg, &lim, &err) < 0)
		fail_msg("create: %s", err.msg);
	assert_string_equal(get("v2/vlab/box.7.9/memory.max"), "67108864");
	assert_string_equal(get("v2/vlab/box.7.9/memory.swap.max"), "0");
	assert_string_equal(get("v2/vlab/box.7.9/pids.max"), "32");
	assert_string_equal(get("v2/vlab/box.7.9/cpu.max"), "50000 100000");
	/* controllers enabled on the way down (the last write stays here) */
	assert_string_equal(get("v2/vlab/cgroup.subtree_control"), "+cpu");
	assert_int_equal(cg.ops->attach(&cg, 4242, &err), 0);
	assert_string_equal(get("v2/vlab/box.7.9/cgroup.procs"), "4242");

	put("v2/vlab/box.7.9/memory.current", "1048576\n");
	put("v2/vlab/box.7.9/memory.peak", "67100000\n");
	put("v2/vlab/box.7.9/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n");
	put("v2/vlab/box.7.9/pids.current", "5\n");
	put("v2/vlab/box.7.9/pids.events", "max 3\n");
	put("v2/vlab/box.7.9/cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec "
					"500000\nnr_periods 30\nnr_throttled 25\nthrottled_usec 900\n");
	struct ct_usage u;
	assert_int_equal(cg.ops->usage(&cg, &u, &err), 0);
	assert_int_equal(u.mem_current, 1048576);
	assert_int_equal(u.mem_peak, 67100000);
	assert_int_equal(u.oom_kills, 2);
	assert_int_equal(u.oom_events, 12);
	assert_int_equal(u.pids_current, 5);
	assert_int_equal(u.pids_denied, 3);
	assert_int_equal(u.cpu_ns, 1500000000ull);
	assert_int_equal(u.nr_throttled, 25);
	assert_int_equal(u.throttled_ns, 900000);

	/* The OOM watch is an inotify on memory.events. */
	int fd = cg.ops->watch_oom(&cg, &err);
	assert_true(fd >= 0);
	put("v2/vlab/box.7.9/memory.events", "max 13\noom 3\noom_kill 3\n");
	char ignore[64];
	assert_true(read(fd, ignore, sizeof(ignore)) > 0);
	cg.ops->ack_oom(&cg);
	/* Nothing runs in a fixture: kill finds no process. */
	put("v2/vlab/box.7.9/cgroup.procs", "");
	assert_int_equal(cg.ops->kill(&cg, &err), 0);
	close(fd);
	cg.oom_fd = -1;
}

static void test_v1_limits_and_usage(void **state)
{
	(void)state;
	static const char *const files[] = {
		"memory/vlab/b.1.2/memory.limit_in_bytes", "memory/vlab/b.1.2/memory.memsw.limit_in_bytes",
		"memory/vlab/b.1.2/cgroup.procs",	   "pids/vlab/b.1.2/pids.max",
		"pids/vlab/b.1.2/cgroup.procs",		   "cpu/vlab/b.1.2/cpu.cfs_period_us",
		"cpu/vlab/b.1.2/cpu.cfs_quota_us",	   "cpu/vlab/b.1.2/cgroup.procs",
		"cpuacct/vlab/b.1.2/cgroup.procs",	   NULL,
	};
	for (int i = 0; files[i]; i++)
		put(files[i], "");
	const char *mi = mountinfo(V1_LINES);
	struct ct_cgroup cg;
	struct vlab_err err = {0};
	assert_int_equal(ct_cgroup_find(&cg, mi, "b.1.2", &err), 0);
	struct ct_limits lim = {.memory = 64 << 20, .pids = 16, .cpu = 150};
	if (cg.ops->create(&cg, &lim, &err) < 0)
		fail_msg("create: %s", err.msg);
	assert_string_equal(get("memory/vlab/b.1.2/memory.limit_in_bytes"), "67108864");
	assert_string_equal(get("memory/vlab/b.1.2/memory.memsw.limit_in_bytes"), "67108864");
	assert_string_equal(get("pids/vlab/b.1.2/pids.max"), "16");
	assert_string_equal(get("cpu/vlab/b.1.2/cpu.cfs_period_us"), "100000");
	assert_string_equal(get("cpu/vlab/b.1.2/cpu.cfs_quota_us"), "150000");
	assert_int_equal(cg.ops->attach(&cg, 99, &err), 0);
	assert_string_equal(get("pids/vlab/b.1.2/cgroup.procs"), "99");
	assert_string_equal(get("cpuacct/vlab/b.1.2/cgroup.procs"), "99");

	put("memory/vlab/b.1.2/memory.usage_in_bytes", "4096\n");
	put("memory/vlab/b.1.2/memory.max_usage_in_bytes", "8192\n");
	put("memory/vlab/b.1.2/memory.failcnt", "7\n");
	put("memory/vlab/b.1.2/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	put("pids/vlab/b.1.2/pids.current", "3\n");
	put("pids/vlab/b.1.2/pids.events", "max 9\n");
	put("cpuacct/vlab/b.1.2/cpuacct.usage", "123456789\n");
	put("cpu/vlab/b.1.2/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n");
	struct ct_usage u;
	assert_int_equal(cg.ops->usage(&cg, &u, &err), 0);
	assert_int_equal(u.mem_current, 4096);
	assert_int_equal(u.mem_peak, 8192);
	assert_int_equal(u.oom_events, 7);
	assert_int_equal(u.oom_kills, 1);
	assert_int_equal(u.pids_current, 3);
	assert_int_equal(u.pids_denied, 9);
	assert_int_equal(u.cpu_ns, 123456789);
	assert_int_equal(u.nr_throttled, 4);
	assert_int_equal(u.throttled_ns, 5000);
}

static void test_write_errors_name_the_file(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/nowhere", root);
	assert_int_equal(ct_cg_write(dir, "pids.max", "3", &err), -1);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "nowhere/pids.max"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_picks_v1_on_hybrid),
		cmocka_unit_test(test_find_picks_v2),
		cmocka_unit_test(test_find_comounted_and_missing),
		cmocka_unit_test(test_v2_limits_and_usage),
		cmocka_unit_test(test_v1_limits_and_usage),
		cmocka_unit_test(test_write_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
