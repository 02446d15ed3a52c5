/* tests/unit/metrics/test_cgroup.c: cgroup v1 and v2 memory and CPU
 * readers on fixture folders, and their parsers on malformed text. */
#include "tests/vtest.h"

#include "metrics/cgroup.h"

#define FIXTURES "tests/unit/metrics/fixtures"

static void test_v1_memory(void **state)
{
	(void)state;
	struct metrics_cgmem m;
	struct vlab_err err = {0};
	if (metrics_cgroup_memory(FIXTURES "/cgroup-v1-memory", &m, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(m.version, 1);
	assert_int_equal(m.usage, 35127296);
	/* Hierarchical totals win over the cgroup's own figures. */
	assert_int_equal(m.anon, 12582912);
	assert_int_equal(m.file, 20971520);
	assert_int_equal(m.peak, 41943040);
	assert_int_equal(m.limit, 67108864);
}

static void test_v2_memory(void **state)
{
	(void)state;
	struct metrics_cgmem m;
	struct vlab_err err = {0};
	if (metrics_cgroup_memory(FIXTURES "/cgroup-v2", &m, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(m.version, 2);
	assert_int_equal(m.usage, 29360128);
	assert_int_equal(m.anon, 8388608);
	assert_int_equal(m.file, 18874368);
	assert_int_equal(m.peak, 33554432);
	assert_int_equal(m.limit, 67108864);
	assert_int_equal(metrics_cgroup_memory(FIXTURES "/cgroup-v2-nomax", &m, &err), 0);
	assert_int_equal(m.usage, 4096);
	assert_int_equal(m.peak, 0);
	assert_true(m.limit == METRICS_CG_UNLIMITED);
}

static void test_cpu(void **state)
{
	(void)state;
	struct metrics_cgcpu c;
	struct vlab_err err = {0};
	assert_int_equal(metrics_cgroup_cpu(FIXTURES "/cgroup-v1-cpuacct", &c, &err), 0);
	assert_int_equal(c.version, 1);
	assert_int_equal(c.usage_ns, 1234567890);
	assert_int_equal(c.user_ns, 750000000);
	assert_int_equal(c.system_ns, 250000000);
	assert_int_equal(metrics_cgroup_cpu(FIXTURES "/cgroup-v2", &c, &err), 0);
	assert_int_equal(c.version, 2);
	assert_int_equal(c.usage_ns, 2500000000ull);
	assert_int_equal(c.user_ns, 2000000000ull);
	assert_int_equal(c.system_ns, 500000000ull);
}

static void test_not_a_cgroup(void **state)
{
	(void)state;
	struct metrics_cgmem m;
	struct metrics_cgcpu c;
	struct vlab_err err = {0};
	assert_int_equal(metrics_cgroup_memory(FIXTURES, &m, &err), -1);
	assert_non_null(strstr(err.msg, "not a memory cgroup"));
	assert_int_equal(metrics_cgroup_cpu(FIXTURES "/cgroup-v1-memory", &c, &err), -1);
	assert_non_null(strstr(err.msg, "cgroup-v1-memory"));
}

static void test_parsers(void **state)
{
	(void)state;
	uint64_t v = 7;
	struct vlab_err err = {0};
	assert_int_equal(metrics_cg_parse_u64("42\n", &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(metrics_cg_parse_u64("max\n", &v, &err), 0);
	assert_true(v == METRICS_CG_UNLIMITED);
	assert_int_equal(metrics_cg_parse_u64("-1\n", &v, &err), -1);
	assert_int_equal(metrics_cg_parse_u64("12 13\n", &v, &err), -1);
	assert_int_equal(metrics_cg_parse_u64("", &v, &err), -1);
	assert_int_equal(metrics_cg_parse_u64("99999999999999999999999\n", &v, &err), -1);

	const char *stat = "anon 10\nanon_thp 20\nfile 30\nbad x1\n";
	v = 0;
	assert_int_equal(metrics_cg_parse_keyed(stat, "anon", &v, &err), 0);
	assert_int_equal(v, 10); /* not anon_thp */
	assert_int_equal(metrics_cg_parse_keyed(stat, "file", &v, &err), 0);
	assert_int_equal(v, 30);
	v = 5;
	assert_int_equal(metrics_cg_parse_keyed(stat, "shmem", &v, &err), 1);
	assert_int_equal(v, 5);
	assert_int_equal(metrics_cg_parse_keyed(stat, "bad", &v, &err), -1);
	assert_non_null(strstr(err.msg, "bad"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_memory), cmocka_unit_test(test_v2_memory),
	    cmocka_unit_test(test_cpu),	      cmocka_unit_test(test_not_a_cgroup),
	    cmocka_unit_test(test_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
