/* tests/unit/engines/test_spec.c: specs checked against option tables. */
#include "tests/vtest.h"

#include <errno.h>

#include "engines/counters.h"
#include "engines/spec.h"

static const struct vlab_opt_desc opts[] = {
	{.name = "memory", .type = VLAB_OPT_SIZE, .def = "64M", .min = 1 << 20, .max = 1ull << 34},
	{.name = "pids", .type = VLAB_OPT_UINT, .def = "32", .min = 1, .max = 4096},
	{.name = "nx", .type = VLAB_OPT_BOOL, .def = "on"},
	{.name = "backend", .type = VLAB_OPT_ENUM, .def = "auto", .choices = "kvm|tcg|auto"},
	{.name = "timeout", .type = VLAB_OPT_DURATION, .def = "2s"},
	{.name = "hostname", .type = VLAB_OPT_STRING},
	{0},
};

static void test_names(void **state)
{
	(void)state;
	struct vlab_spec s;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&s, "container", "box-1", &err), 0);
	assert_int_equal(vlab_spec_init(&s, "container", "Box", &err), -1);
	assert_non_null(strstr(err.msg, "Box"));
	assert_int_equal(vlab_spec_init(&s, "container", "", &err), -1);
	assert_int_equal(vlab_spec_init(&s, "container", "-x", &err), -1);
	assert_int_equal(vlab_spec_init(&s, "container", "a-very-long-name-that-goes-past-32", &err), -1);
}

static void test_set_get_check(void **state)
{
	(void)state;
	struct vlab_spec s;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&s, "container", "box", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "memory", "128M", &err), 0);
	assert_int_equal(vlab_spec_set_kv(&s, "pids=16", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "pids", "20", &err), 0); /* replaces */
	assert_int_equal(s.n, 2);
	assert_string_equal(vlab_spec_get(&s, "pids"), "20");
	assert_null(vlab_spec_get(&s, "nx"));
	assert_int_equal(vlab_spec_check(&s, opts, &err), 0);

	uint64_t v;
	int b;
	const char *str;
	assert_int_equal(vlab_spec_size(&s, opts, "memory", &v, &err), 0);
	assert_int_equal(v, 128ull << 20);
	assert_int_equal(vlab_spec_uint(&s, opts, "pids", &v, &err), 0);
	assert_int_equal(v, 20);
	assert_int_equal(vlab_spec_bool(&s, opts, "nx", &b, &err), 0); /* default */
	assert_int_equal(b, 1);
	assert_int_equal(vlab_spec_duration(&s, opts, "timeout", &v, &err), 0);
	assert_int_equal(v, 2000000000ull);
	assert_int_equal(vlab_spec_str(&s, opts, "backend", &str, &err), 0);
	assert_string_equal(str, "auto");
	assert_int_equal(vlab_spec_str(&s, opts, "hostname", &str, &err), -1); /* no default */
	assert_int_equal(err.code, ENOENT);
	assert_int_equal(vlab_spec_uint(&s, opts, "memory", &v, &err), -1); /* wrong type */

	struct vlab_spec copy;
	assert_int_equal(vlab_spec_copy(&copy, &s, &err), 0);
	assert_string_equal(vlab_spec_get(&copy, "memory"), "128M");
	vlab_spec_free(&copy);
	vlab_spec_free(&s);
	assert_int_equal(s.n, 0);
}

static void test_rejects(void **state)
{
	(void)state;
	struct vlab_spec s;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&s, "container", "box", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "Bad Key", "1", &err), -1);
	assert_int_equal(vlab_spec_set(&s, "x", "two\nlines", &err), -1);
	assert_int_equal(vlab_spec_set_kv(&s, "novalue", &err), -1);

	assert_int_equal(vlab_spec_set(&s, "colour", "blue", &err), 0);
	assert_int_equal(vlab_spec_check(&s, opts, &err), -1);
	assert_non_null(strstr(err.msg, "'colour'"));
	assert_non_null(strstr(err.msg, "memory")); /* lists the known options */
	vlab_spec_free(&s);

	assert_int_equal(vlab_spec_init(&s, "container", "box", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "pids", "0", &err), 0);
	assert_int_equal(vlab_spec_check(&s, opts, &err), -1);
	assert_non_null(strstr(err.msg, "pids"));
	vlab_spec_free(&s);

	assert_int_equal(vlab_spec_init(&s, "container", "box", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "memory", "512K", &err), 0); /* below min */
	assert_int_equal(vlab_spec_check(&s, opts, &err), -1);
	assert_int_equal(vlab_spec_set(&s, "memory", "64M", &err), 0);
	assert_int_equal(vlab_spec_set(&s, "backend", "xen", &err), 0);
	assert_int_equal(vlab_spec_check(&s, opts, &err), -1);
	assert_non_null(strstr(err.msg, "kvm|tcg|auto"));
	vlab_spec_free(&s);
}

static void test_too_many(void **state)
{
	(void)state;
	struct vlab_spec s;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&s, "host", "h", &err), 0);
	char key[16];
	for (int i = 0; i < VLAB_SPEC_MAX_KV; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(vlab_spec_set(&s, key, "v", &err), 0);
	}
	assert_int_equal(vlab_spec_set(&s, "one-more", "v", &err), -1);
	assert_int_equal(err.code, E2BIG);
	vlab_spec_free(&s);
}

static void test_counters(void **state)
{
	(void)state;
	struct vlab_counters cs;
	vlab_counters_init(&cs);
	int io = vlab_counters_id(&cs, "exit.io");
	int hlt = vlab_counters_id(&cs, "exit.hlt");
	assert_int_equal(vlab_counters_id(&cs, "exit.io"), io);
	vlab_counter_add(&cs, io, 3);
	vlab_counter_add(&cs, hlt, 1);
	vlab_counter_add(&cs, -1, 1); /* a counter that did not fit: ignored */
	assert_int_equal(vlab_counters_get(&cs, "exit.io"), 3);
	assert_int_equal(vlab_counters_get(&cs, "exit.hlt"), 1);
	assert_int_equal(vlab_counters_get(&cs, "nope"), 0);
	struct vlab_counter snap[4];
	assert_int_equal(vlab_counters_snapshot(&cs, snap, 4), 2);
	assert_string_equal(snap[1].name, "exit.hlt");
	char name[16];
	for (int i = 2; i < VLAB_COUNTERS_MAX; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_true(vlab_counters_id(&cs, name) >= 0);
	}
	assert_int_equal(vlab_counters_id(&cs, "overflow"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),   cmocka_unit_test(test_set_get_check),
		cmocka_unit_test(test_rejects), cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
