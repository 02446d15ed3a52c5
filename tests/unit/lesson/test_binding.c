/* tests/unit/lesson/test_binding.c: the vlab.* instance binding against a
 * fake engine (registered as "container" in this test program, which is
 * also its own `__instance` child): options pass through the spec to the
 * engine, requests and answers through the agent codec, descriptors go to
 * the front end, expected failures are nil + message, misuse raises an
 * error naming the argument, and __close / __gc stop the instance. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "engines/engine.h"
#include "lesson/api.h"
#include "lesson/sandbox.h"
#include "workloads/proto.h"

/* ---- the fake engine ---- */

static const struct vlab_opt_desc fake_opts[] = {
	{.name = "memory", .type = VLAB_OPT_SIZE, .def = "64M", .help = "memory"},
	{.name = "pids", .type = VLAB_OPT_UINT, .min = 1, .max = 4096, .help = "pids"},
	{.name = "hostname", .type = VLAB_OPT_STRING, .def = "fake", .help = "host name"},
	{.name = "fail", .type = VLAB_OPT_BOOL, .def = "off", .help = "fail at start"},
	{.name = "seccomp_deny", .type = VLAB_OPT_STRING, .help = "syscalls"},
	{0},
};

static void fake_probe(struct vlab_avail *a)
{
	a->level = VLAB_AVAIL_YES;
	snprintf(a->backend, sizeof(a->backend), "fake");
	snprintf(a->reason, sizeof(a->reason), "a fake engine for tests");
}

static void absent_probe(struct vlab_avail *a)
{
	a->level = VLAB_AVAIL_NO;
	snprintf(a->backend, sizeof(a->backend), "none");
	snprintf(a->reason, sizeof(a->reason), "no fake KVM here");
}

static int fake_validate(const struct vlab_spec *spec, struct vlab_err *err)
{
	uint64_t mem;
	if (vlab_spec_size(spec, fake_opts, "memory", &mem, err) < 0)
		return -1;
	if (mem > (1ull << 30))
		return vlab_err_set(err, EINVAL, "memory: at most 1G for the fake engine");
	return 0;
}

static int fake_serve(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err)
{
	int fail;
	const char *host;
	if (vlab_spec_bool(spec, fake_opts, "fail", &fail, err) < 0 ||
	    vlab_spec_str(spec, fake_opts, "hostname", &host, err) < 0)
		return -1;
	vlab_child_attr(child, "backend", "fake");
	vlab_child_attr(child, "image_bytes", "4096");
	vlab_child_phase(child, "fake-setup");
	if (fail)
		return vlab_err_set(err, 0, "told to fail");
	int io = vlab_counters_id(child->counters, "exit.io");
	vlab_write_all(child->console_fd, "fake console says hello\n", 24, 1000, NULL);
	vlab_write_all(child->control_fd, "READY vlab-agent/1 t=1 platform=fake\n", 37, 1000, NULL);
	struct vlab_lines lb;
	vlab_lines_init(&lb, 65536);
	static char out[70000];
	for (;;) {
		char *line;
		int r = vlab_lines_wait(&lb, child->control_fd, -1, &line, NULL);
		if (r <= 0)
			break;
		vlab_counter_add(child->counters, io, 1);
		struct vlab_proto_msg m;
		struct vlab_proto_out o;
		vlab_proto_out_init(&o, out, sizeof(out));
		if (vlab_proto_parse(line, &m) < 0) {
			snprintf(out, sizeof(out), "0 err badreq %s", m.why);
		} else {
			char id[24];
			snprintf(id, sizeof(id), "%llu", (unsigned long long)m.id);
			vlab_proto_put_word(&o, id);
			if (!strcmp(m.verb, "exec")) {
				const char *cmd = vlab_proto_str(&m, "cmd", "");
				char so[300];
				snprintf(so, sizeof(so), "ran: %s\n", cmd);
				vlab_proto_put_word(&o, "ok");
				vlab_proto_put_i64(&o, "exit_code", strstr(cmd, "false") ? 1 : 0);
				vlab_proto_put_u64(&o, "signal", 0);
				vlab_proto_put_bool(&o, "timed_out", 0);
				vlab_proto_put_str(&o, "stdout", so);
				vlab_proto_put_str(&o, "stderr", "yes");
			} else if (!strcmp(m.verb, "cpu")) {
				vlab_proto_put_word(&o, "ok");
				vlab_proto_put_u64(&o, "int_ops_per_s", 1000);
				vlab_proto_put_f64(&o, "fp_ops_per_s", 2.5, 1);
				vlab_proto_put_str(&o, "int_kernel", "sieve");
			} else if (!strcmp(m.verb, "sysinfo")) {
				vlab_proto_put_word(&o, "ok");
				vlab_proto_put_str(&o, "hostname", host);
				vlab_proto_put_str(&o, "platform", "fake");
			} else {
				vlab_proto_put_word(&o, "err");
				vlab_proto_put_word(&o, "unknown");
				vlab_proto_put_text(&o, "no such verb");
			}
		}
		size_t len = strlen(out);
		out[len++] = '\n';
		vlab_write_all(child->control_fd, out, len, 1000, NULL);
	}
	vlab_lines_free(&lb);
	return 0;
}

static const struct vlab_engine fake_container = {
	.name = "container",
	.summary = "a fake container engine for tests",
	.opts = fake_opts,
	.probe = fake_probe,
	.validate = fake_validate,
	.serve = fake_serve,
};

static const struct vlab_engine fake_unikernel = {
	.name = "unikernel",
	.summary = "a fake engine this host cannot run",
	.opts = fake_opts,
	.probe = absent_probe,
	.serve = fake_serve,
};

/* ---- a lab state with a front end that records what it is sent ---- */

static json_t *sent;
static int sent_fds_ok;

static void capture_emit(void *arg, json_t *msg, const int *fds, size_t nfds)
{
	(void)arg;
	json_array_append(sent, msg);
	for (size_t i = 0; i < nfds; i++)
		if (fcntl(fds[i], F_GETFD) >= 0)
			sent_fds_ok++;
}

static json_t *capture_ask(void *arg, json_t *msg)
{
	(void)arg;
	(void)msg;
	return json_pack("{s:s, s:s}", "op", "reply", "data", "the console tail");
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
	sent_fds_ok = 0;
	assert_int_equal(lesson_sandbox_new(0, &b->sb, &err), 0);
	b->L = lesson_sandbox_state(b->sb);
	b->api.host.emit = capture_emit;
	b->api.host.ask = capture_ask;
	lesson_api_open(b->L, &b->api);
}

static void close_box(struct box *b)
{
	lesson_api_close_instances(b->L);
	lesson_sandbox_free(b->sb);
}

/* Runs src (chunk "lab.lua"); returns its first result as a string. */
static const char *eval(struct box *b, const char *src, struct vlab_err *err)
{
	static char out[1024];
	if (lesson_sandbox_loadstring(b->sb, src, strlen(src), "lab.lua", err) < 0)
		return NULL;
	lesson_sandbox_arm(b->sb, 0, vlab_now_ns() + 20000000000ull);
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
	const char *got = eval(b, src, &err);
	if (!got)
		fail_msg("%s: error %s", src, err.msg);
	if (strcmp(got, want))
		fail_msg("%s: got '%s', want '%s'", src, got, want);
}

static void expect_error(struct box *b, const char *src, const char *needle)
{
	struct vlab_err err = {0};
	const char *got = eval(b, src, &err);
	if (got)
		fail_msg("%s: no error (returned %s)", src, got);
	if (!strstr(err.msg, needle) || !strstr(err.msg, "lab.lua:"))
		fail_msg("%s: error '%s' lacks '%s' or the position", src, err.msg, needle);
}

/* Messages of type t sent so far. */
static size_t count_sent(const char *t, const char *key, const char *value)
{
	size_t n = 0, i;
	json_t *m;
	json_array_foreach(sent, i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "t")), t))
			continue;
		if (key && (!json_is_string(json_object_get(m, key)) ||
			    strcmp(json_string_value(json_object_get(m, key)), value)))
			continue;
		n++;
	}
	return n;
}

static void test_lifecycle(void **state)
{
	(void)state;
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct box b;
	open_box(&b);
	expect(&b, "ct = vlab.container { memory = '64M', hostname = 'box', pids = 32, name = 'ct' }\n"
		   "return tostring(ct)",
	       "container 'ct' (created)");
	expect(&b, "return tostring(ct:start())", "true");
	expect(&b, "return ct:state()", "running");
	/* exec: typed answer fields. */
	expect(&b, "local r = ct:exec('hostname') return r.stdout .. math.type(r.exit_code) .. "
		   "tostring(r.timed_out) .. r.stderr",
	       "ran: hostname\ninteger" "falseyes");
	expect(&b, "return ct:exec('false').exit_code", "1");
	/* run(): a workload's numbers are numbers. */
	expect(&b, "local r = ct:run('cpu', {size = 1000}) return r.int_ops_per_s + r.fp_ops_per_s "
		   ".. r.int_kernel",
	       "1002.5sieve");
	expect(&b, "return ct:request('sysinfo').hostname", "box");
	/* An agent error is an expected failure: nil, message. */
	expect(&b, "local r, e = ct:run('nosuchverb') return tostring(r) .. ' ' .. e",
	       "nil ct: agent: unknown: no such verb");
	/* stats: what the host sees, counters included. */
	expect(&b, "local s = ct:stats() return s.state .. s.backend .. s.image_bytes .. "
		   "tostring(s.counters['exit.io'] >= 5) .. tostring(s.startup_ms > 0) .. "
		   "s.phases[1].name",
	       "runningfake4096truetruespawn");
	/* console: the front end's tail, and typing into it. */
	expect(&b, "return ct:console()", "the console tail");
	expect(&b, "return tostring(ct:console('ls\\n'))", "true");
	/* The front end heard of it, with its console, pidfd and counters. */
	assert_true(count_sent("instance", "state", "running") >= 1);
	assert_int_equal(sent_fds_ok, 3);
	expect(&b, "return tostring(ct:stop())", "true");
	expect(&b, "return ct:state()", "exited");
	/* A stopped instance: an expected failure, nil + message. */
	expect(&b, "local r, e = ct:exec('x') return tostring(r) .. ' ' .. e:sub(1, 25)",
	       "nil ct is exited, not running");
	close_box(&b);
	assert_int_equal(count_sent("instance", NULL, NULL) >= 4, 1);
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
}

static void test_close_and_gc(void **state)
{
	(void)state;
	int kids = vtest_count_children();
	struct box b;
	open_box(&b);
	/* <close>: stopped at the end of the block. */
	expect(&b, "do local c <close> = vlab.container {} assert(c:start()) "
		   "assert(c:state() == 'running') end return 'closed'",
	       "closed");
	assert_int_equal(vtest_count_children(), kids);
	/* Dropped and collected: __gc stops it. */
	expect(&b, "local c = vlab.container {} assert(c:start()) c = nil return 'dropped'",
	       "dropped");
	lua_gc(b.L, LUA_GCCOLLECT);
	lua_gc(b.L, LUA_GCCOLLECT);
	assert_int_equal(vtest_count_children(), kids);
	/* Closing by hand, then using it, is misuse. */
	expect_error(&b, "local c = vlab.container {} c:close() c:start()", "closed");
	/* Still running when the lab run ends: stopped by close_instances. */
	expect(&b, "keep = vlab.container {} return tostring(keep:start())", "true");
	assert_int_equal(vtest_count_children(), kids + 1);
	close_box(&b);
	assert_int_equal(vtest_count_children(), kids);
}

static void test_expected_failures(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	/* The engine says why it cannot start. */
	expect(&b, "local c = vlab.container { fail = true } local ok, e = c:start() "
		   "return tostring(ok) .. ' ' .. e",
	       "nil container-1 stopped: told to fail");
	/* An engine this host cannot run: nil and the reason. */
	expect(&b, "local u, e = vlab.unikernel {} return tostring(u) .. ' ' .. e",
	       "nil the unikernel engine cannot run here: no fake KVM here");
	expect(&b, "local ok, why, level = vlab.available('unikernel') "
		   "return tostring(ok) .. ' ' .. level .. ' ' .. why",
	       "false no no fake KVM here");
	expect(&b, "return tostring((vlab.available('container')))", "true");
	close_box(&b);
}

static void test_misuse(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	expect_error(&b, "vlab.container('big')", "bad argument #1");
	expect_error(&b, "vlab.container { bogus = 1 }", "bogus");
	expect_error(&b, "vlab.container { memory = 'lots' }", "memory");
	expect_error(&b, "vlab.container { memory = '2G' }", "at most 1G");
	expect_error(&b, "vlab.container { memory = print }", "bad option 'memory'");
	expect_error(&b, "vlab.container { [1] = 'x' }", "option names must be strings");
	expect_error(&b, "vlab.container { name = 'Bad Name' }", "bad option 'name'");
	expect_error(&b, "local c = vlab.container {} c:start() c:run('cpu', {size = print})",
		     "bad argument #2 to 'run' ('size' is a function");
	expect_error(&b, "local c = vlab.container {} c:start() c:run('bad verb!')",
		     "bad argument #1 to 'run'");
	expect_error(&b, "local c = vlab.container {} c:exec()", "bad argument #1 to 'exec'");
	expect_error(&b, "vlab.container {}.start(42)", "bad argument #1");
	expect_error(&b, "vlab.available('floppy')", "bad argument #1");
	expect_error(&b, "vlab.record('bad name!', 1)", "bad argument #1");
	expect_error(&b, "vlab.record('x', 0/0)", "bad argument #2");
	expect_error(&b, "vlab.chart { bars = { {value = 1} } }", "label");
	/* A list becomes a comma-separated option value (passed to the engine). */
	expect(&b, "local c = vlab.container { seccomp_deny = {'mkdir', 'chmod'} } return 'ok'",
	       "ok");
	close_box(&b);
}

static void test_compare_record_chart(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	expect(&b, "local a = vlab.container { name = 'a' } a:start()\n"
		   "local c = vlab.container { name = 'c' } c:start()\n"
		   "local r = vlab.compare { instances = {a, c}, workload = 'cpu', key = "
		   "'int_ops_per_s', runs = 3, title = 'CPU' }\n"
		   "return ('%g %d %d'):format(r.a.value, r.c.runs, #r.a.samples)",
	       "1000 3 3");
	assert_int_equal(count_sent("chart", NULL, NULL), 1);
	expect(&b, "local x = vlab.container { name = 'x' } x:start()\n"
		   "local r = vlab.compare { instances = {x}, metric = 'startup' }\n"
		   "return tostring(r.x.value > 0)",
	       "true");
	expect(&b, "vlab.record('startup.ct', 12.5, 'ms') return vlab.measurements()['startup.ct']",
	       "12.5");
	assert_int_equal(count_sent("record", "name", "startup.ct"), 1);
	expect(&b, "vlab.chart { title = 't', unit = 'ms', bars = { {label = 'a', value = 1, min = "
		   "0.5, max = 2, runs = 3} } } return 'ok'",
	       "ok");
	assert_int_equal(count_sent("chart", NULL, NULL), 3);
	expect(&b, "vlab.print('hello', 42, nil) print('too') return 'ok'", "ok");
	assert_int_equal(count_sent("print", "text", "hello\t42\tnil"), 1);
	assert_int_equal(count_sent("print", "text", "too"), 1);
	close_box(&b);
}

/* vlab.bench: the metrics layer boots fresh instances of the engine (the
 * fake container here) and summarises every figure. */
static void test_bench(void **state)
{
	(void)state;
	char images[PATH_MAX];
	if (!realpath("build/images/rootfs", images))
		VTEST_SKIP("the images are not built (make images): the metrics layer asks the "
			   "doctor, who wants the container rootfs");
	*strrchr(images, '/') = '\0';
	setenv("VLAB_IMAGES", images, 1);
	struct box b;
	open_box(&b);
	expect(&b, "local r = assert(vlab.bench { engines = {'container'}, metrics = {'startup'}, "
		   "runs = 2 })\n"
		   "local s = r.container.rows.startup or error(r.container.error .. '|' .. "
		   "r.container.reason)\n"
		   "return ('%d %s %s'):format(s.runs, tostring(s.value > 0), "
		   "tostring(r.container.available))",
	       "2 true true");
	assert_true(count_sent("chart", NULL, NULL) >= 1);
	assert_true(count_sent("progress", NULL, NULL) >= 2);
	expect_error(&b, "vlab.bench { engines = {'container'}, runs = 1 }", "runs");
	expect_error(&b, "vlab.bench { engines = 'vm' }", "engines");
	expect_error(&b, "vlab.bench { engines = {'container'}, metrics = {'speed'} }", "speed");
	close_box(&b);
}

int main(int argc, char **argv)
{
	vlab_engine_register(&fake_container);
	vlab_engine_register(&fake_unikernel);
	if (argc > 1 && !strcmp(argv[1], "__instance"))
		return vlab_child_main(argc - 1, argv + 1);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	setenv("VLAB_SELF", self, 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_close_and_gc),
		cmocka_unit_test(test_expected_failures),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_compare_record_chart),
		cmocka_unit_test(test_bench),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(sent);
	return r;
}
