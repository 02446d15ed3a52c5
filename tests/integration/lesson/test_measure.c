/* tests/integration/lesson/test_measure.c: the labs' own measuring calls on
 * the real engines: inst:footprint() (PSS of the instance's process tree,
 * the cgroup's usage for a container), vlab.doctor() (the KVM loop at CPL 0
 * and 3) and vlab.bench{} (metrics_run as `vlab bench`: figures, ratios,
 * charts, records, misuse, and stopping at the action's time limit). */
#include "tests/vtest.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/paths.h"
#include "engines/engine.h"
#include "lesson/api.h"
#include "lesson/sandbox.h"

static json_t *sent;

static void capture_emit(void *arg, json_t *msg, const int *fds, size_t nfds)
{
	(void)arg;
	(void)fds;
	(void)nfds;
	json_array_append(sent, msg);
}

struct box {
	struct lesson_sandbox *sb;
	lua_State *L;
	struct lesson_api api;
};

static void open_box(struct box *b)
{
	struct vlab_err err = {0};
	memset(b, 0, sizeof(*b));
	json_decref(sent);
	sent = json_array();
	assert_int_equal(lesson_sandbox_new(0, &b->sb, &err), 0);
	b->L = lesson_sandbox_state(b->sb);
	b->api.host.emit = capture_emit;
	lesson_api_open(b->L, &b->api);
}

static void close_box(struct box *b)
{
	lesson_api_close_instances(b->L);
	lesson_sandbox_free(b->sb);
}

/* Runs src within limit_s; its first result as a string, NULL on error. */
static const char *eval(struct box *b, const char *src, double limit_s, struct vlab_err *err)
{
	static char out[2048];
	if (lesson_sandbox_loadstring(b->sb, src, strlen(src), "lab.lua", err) < 0)
		return NULL;
	lesson_sandbox_arm(b->sb, 0, vlab_now_ns() + (uint64_t)(limit_s * 1e9));
	int r = lesson_sandbox_pcall(b->sb, 0, 1, err);
	lesson_sandbox_disarm(b->sb);
	if (r < 0)
		return NULL;
	snprintf(out, sizeof(out), "%s", luaL_tolstring(b->L, -1, NULL));
	lua_pop(b->L, 2);
	return out;
}

static void expect(struct box *b, const char *src, const char *want)
{
	struct vlab_err err = {0};
	const char *got = eval(b, src, 60, &err);
	if (!got)
		fail_msg("%s: error %s", src, err.msg);
	if (strcmp(got, want))
		fail_msg("%s: got '%s', want '%s'", src, got, want);
}

static void expect_error(struct box *b, const char *src, const char *needle)
{
	struct vlab_err err = {0};
	const char *got = eval(b, src, 60, &err);
	if (got)
		fail_msg("%s: no error (returned %s)", src, got);
	if (!strstr(err.msg, needle))
		fail_msg("%s: error '%s' lacks '%s'", src, err.msg, needle);
}

static size_t count_sent(const char *t)
{
	size_t n = 0, i;
	json_t *m;
	json_array_foreach(sent, i, m)
		n += !strcmp(json_string_value(json_object_get(m, "t")), t);
	return n;
}

static int agent_built(void)
{
	char agent[VLAB_PATH_MAX];
	struct vlab_err err = {0};
	return vlab_image_path(VLAB_IMAGE_AGENT, agent, sizeof(agent), &err) == 0 &&
	       access(agent, X_OK) == 0;
}

static void test_doctor(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	expect(&b, "local d = vlab.doctor()\n"
		   "return type(d.kernel) .. ' ' .. type(d.kvm.present) .. ' ' .. type(d.kvm.measured)",
	       "string boolean boolean");
	/* Where KVM could be timed, the ratio is the two loops' ratio. */
	expect(&b, "local k = vlab.doctor().kvm\n"
		   "if not k.measured then return 'not measured' end\n"
		   "local r = k.cpl0_ns / k.cpl3_ns\n"
		   "return tostring(k.ratio > 0 and math.abs(r - k.ratio) <= 0.01 * k.ratio "
		   "and type(k.hardware_assisted) == 'boolean')",
	       access("/dev/kvm", R_OK | W_OK) == 0 ? "true" : "not measured");
	close_box(&b);
}

static void test_footprint(void **state)
{
	(void)state;
	if (!agent_built())
		VTEST_SKIP("the probe agent is not built (make images)");
	struct box b;
	open_box(&b);
	expect(&b, "local h = assert(vlab.host { name = 'h' })\n"
		   "local f, why = h:footprint()\n"
		   "assert(not f and why:find('not started'), why)\n"
		   "assert(h:start())\n"
		   "f = assert(h:footprint())\n"
		   "return ('%s %s %s'):format(f.bytes == f.pss_bytes and f.bytes > 0, f.processes >= 1,"
		   " f.source)",
	       "true true PSS of the process tree");
	expect_error(&b, "local h = vlab.host { name = 'g' } h:close() return h:footprint()",
		     "not closed");
	expect_error(&b, "return vlab.host { name = 'k' }.footprint(42)", "instance");
	close_box(&b);

	/* A container is charged to its memory cgroup: that is its figure. */
	const struct vlab_engine *ct = vlab_engine_find("container");
	struct vlab_avail av = {0};
	if (ct)
		ct->probe(&av);
	if (!ct || av.level == VLAB_AVAIL_NO || strcmp(av.backend, "rootless") == 0)
		VTEST_SKIP("no container with cgroup limits here: %s", ct ? av.reason : "not built");
	open_box(&b);
	expect(&b, "local c = assert(vlab.container { name = 'c', memory = '64M' })\n"
		   "assert(c:start())\n"
		   "local f = assert(c:footprint())\n"
		   "return ('%s %s %s'):format(f.bytes == f.cgroup_bytes, f.cgroup_limit_bytes,"
		   " f.source:match('^cgroup') ~= nil)",
	       "true 67108864 true");
	close_box(&b);
}

static void test_bench(void **state)
{
	(void)state;
	if (!agent_built())
		VTEST_SKIP("the probe agent is not built (make images)");
	struct box b;
	open_box(&b);
	expect(&b,
	       "local r = vlab.bench { engines = {'host'}, metrics = {'startup', 'image', "
	       "'footprint', 'cpu'}, runs = 2, warmup = 0, sizes = {cpu = 20000}, record = 't' }\n"
	       "local h = r.engines.host\n"
	       "local s, c = h.figures.startup, h.figures['cpu.int']\n"
	       "local m = vlab.measurements()\n"
	       "return ('%s %d %s %d %s %s %s %s'):format(r.order[1], r.runs, h.available, s.runs,"
	       " s.value > 0 and s.min <= s.value and s.value <= s.max, c.ratio, c.unit,"
	       " m['t.host.startup'] == s.value)",
	       "host 2 true 2 true 1.0 Mops/s true");
	/* One chart per main figure measured: startup, image, footprint, cpu.int, cpu.fp. */
	assert_int_equal(count_sent("chart"), 5);
	assert_true(count_sent("print") >= 2); /* what is being measured */
	json_array_clear(sent);
	expect(&b,
	       "local r = vlab.bench { engines = {'host'}, metrics = 'startup', runs = 2, "
	       "warmup = 0, charts = false, quiet = true }\n"
	       "return tostring(r.engines.host.figures['cpu.int'] == nil)",
	       "true");
	assert_int_equal(count_sent("chart"), 0);
	assert_int_equal(count_sent("print"), 0);

	expect_error(&b, "return vlab.bench { engines = {'host'}, runs = 1 }", "'runs'");
	expect_error(&b, "return vlab.bench { engines = {'mainframe'} }", "'mainframe'");
	expect_error(&b, "return vlab.bench { engines = {'host', 'host'} }", "named twice");
	expect_error(&b, "return vlab.bench { metrics = {'speed'} }", "speed");
	expect_error(&b, "return vlab.bench { sizes = {mem = 'lots'} }", "'mem'");
	expect_error(&b, "return vlab.bench { options = {host = {colour = 'red'}} }", "colour");
	close_box(&b);
}

/* Near the action's time limit it stops, keeping what it measured. */
static void test_bench_deadline(void **state)
{
	(void)state;
	if (!agent_built())
		VTEST_SKIP("the probe agent is not built (make images)");
	struct box b;
	struct vlab_err err = {0};
	open_box(&b);
	uint64_t t0 = vlab_now_ns();
	const char *got = eval(&b,
			       "local r = vlab.bench { engines = {'host'}, metrics = {'startup', "
			       "'cpu'}, runs = 100, warmup = 0, sizes = {cpu = 2000000} }\n"
			       "return tostring(r.engines.host.error ~= nil)",
			       3, &err);
	double took = (double)(vlab_now_ns() - t0) / 1e9;
	if (!got)
		fail_msg("error: %s", err.msg);
	assert_string_equal(got, "true");
	assert_true(took < 3.0);
	close_box(&b);
}

int main(void)
{
	if (!getenv("VLAB_SELF"))
		setenv("VLAB_SELF", "vlab", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor),
		cmocka_unit_test(test_footprint),
		cmocka_unit_test(test_bench),
		cmocka_unit_test(test_bench_deadline),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(sent);
	return r;
}
