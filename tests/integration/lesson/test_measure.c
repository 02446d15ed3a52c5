/* tests/integration/lesson/test_measure.c: the labs' own measuring calls on
 * the real engines: inst:footprint() (PSS of the instance's process tree,
 * the cgroup's usage for a container) and vlab.doctor() (the KVM loop at
 * CPL 0 and 3). */
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

int main(void)
{
	if (!getenv("VLAB_SELF"))
		setenv("VLAB_SELF", "vlab", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor),
		cmocka_unit_test(test_footprint),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(sent);
	return r;
}
