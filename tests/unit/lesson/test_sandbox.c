/* tests/unit/lesson/test_sandbox.c: the Lua sandbox lab code runs in:
 * what is absent, what is read-only, and that loops, coroutines, pcall
 * and memory bombs are stopped with the lab file and line named. */
#include "tests/vtest.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#include "core/clock.h"
#include "lesson/api.h"
#include "lesson/sandbox.h"

struct box {
	struct lesson_sandbox *sb;
	lua_State *L;
	struct lesson_api api;
};

static void open_box(struct box *b)
{
	struct vlab_err err = {0};
	memset(b, 0, sizeof(*b));
	assert_int_equal(lesson_sandbox_new(0, &b->sb, &err), 0);
	b->L = lesson_sandbox_state(b->sb);
	lesson_api_open(b->L, &b->api);
}

static void close_box(struct box *b)
{
	lesson_api_close_instances(b->L);
	lesson_sandbox_free(b->sb);
}

/* Runs src as chunk "lab.lua" with a deadline of ms; returns 0 or -1 with
 * err; leaves nothing on the stack. */
static int run(struct box *b, const char *src, int ms, struct vlab_err *err)
{
	if (lesson_sandbox_loadstring(b->sb, src, strlen(src), "lab.lua", err) < 0)
		return -1;
	lesson_sandbox_arm(b->sb, 0, vlab_now_ns() + (uint64_t)ms * 1000000ull);
	int r = lesson_sandbox_pcall(b->sb, 0, 0, err);
	lesson_sandbox_disarm(b->sb);
	return r;
}

/* Runs src, which must succeed and return a string; compares it. */
static void expect(struct box *b, const char *src, const char *want)
{
	struct vlab_err err = {0};
	assert_int_equal(lesson_sandbox_loadstring(b->sb, src, strlen(src), "lab.lua", &err), 0);
	lesson_sandbox_arm(b->sb, 0, vlab_now_ns() + 2000000000ull);
	int r = lesson_sandbox_pcall(b->sb, 0, 1, &err);
	lesson_sandbox_disarm(b->sb);
	if (r < 0)
		fail_msg("%s: %s", src, err.msg);
	const char *got = lua_tostring(b->L, -1);
	if (!got || strcmp(got, want))
		fail_msg("%s: got '%s', want '%s'", src, got ? got : "(nil)", want);
	lua_pop(b->L, 1);
}

static void test_absent(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	expect(&b, "return tostring(io)", "nil");
	expect(&b, "return tostring(debug)", "nil");
	expect(&b, "return tostring(package)", "nil");
	expect(&b, "return tostring(require)", "nil");
	expect(&b, "return tostring(dofile) .. tostring(loadfile)", "nilnil");
	expect(&b, "return tostring(collectgarbage)", "nil");
	expect(&b, "return tostring(string.dump)", "nil");
	expect(&b, "return tostring(os.execute) .. tostring(os.exit) .. tostring(os.getenv) .. "
		   "tostring(os.remove)",
	       "nilnilnilnil");
	expect(&b, "return type(os.clock) .. type(os.time)", "functionfunction");
	expect(&b, "return tostring(getmetatable(''))", "false");
	expect(&b, "return ('x'):rep(3)", "xxx");
	expect(&b, "local n = 0 for k in pairs(string) do n = n + 1 end return tostring(n > 10)",
	       "true");
	close_box(&b);
}

/* A binary chunk made by an unsandboxed Lua is refused by load(). */
struct dumpbuf {
	char data[4096];
	size_t len;
};

static int writer(lua_State *L, const void *p, size_t sz, void *ud)
{
	(void)L;
	struct dumpbuf *d = ud;
	if (d->len + sz > sizeof(d->data))
		return 1;
	memcpy(d->data + d->len, p, sz);
	d->len += sz;
	return 0;
}

static void test_binary_chunks(void **state)
{
	(void)state;
	lua_State *plain = luaL_newstate();
	assert_int_equal(luaL_loadstring(plain, "return 42"), LUA_OK);
	static struct dumpbuf d;
	assert_int_equal(lua_dump(plain, writer, &d, 0), 0);
	size_t len = d.len;
	const char *chunk = d.data;
	assert_true(len > 4 && chunk[0] == '\033');

	struct box b;
	open_box(&b);
	lua_pushlstring(b.L, chunk, len);
	lua_setglobal(b.L, "chunk");
	/* load() with any mode refuses it... */
	expect(&b, "local f, e = load(chunk) return tostring(f) .. ' ' .. e",
	       "nil attempt to load a binary chunk (mode is 't')");
	expect(&b, "local f, e = load(chunk, 'x', 'b') return tostring(f) .. ' ' .. e",
	       "nil attempt to load a binary chunk (mode is 't')");
	expect(&b, "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return chunk end end) "
		   "return tostring(f)",
	       "nil");
	/* ...and so does loading it as a lab. */
	struct vlab_err err = {0};
	assert_int_equal(lesson_sandbox_loadstring(b.sb, chunk, len, "lab.lua", &err), -1);
	assert_non_null(strstr(err.msg, "lab.lua:1:"));
	assert_non_null(strstr(err.msg, "binary"));
	/* Text still loads. */
	expect(&b, "return load('return 1 + 1')() == 2 and 'ok' or 'no'", "ok");
	close_box(&b);
	lua_close(plain);
}

static void expect_stopped(struct box *b, const char *src, const char *line)
{
	struct vlab_err err = {0};
	uint64_t t0 = vlab_now_ns();
	assert_int_equal(run(b, src, 300, &err), -1);
	uint64_t took = vlab_now_ns() - t0;
	if (!strstr(err.msg, line) || !strstr(err.msg, "time limit"))
		fail_msg("%s: message '%s' lacks '%s' or 'time limit'", src, err.msg, line);
	assert_int_equal(err.code, ETIMEDOUT);
	assert_true(took < 3000000000ull);
}

static void test_loops_stopped(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	expect_stopped(&b, "local x = 0\nwhile true do x = x + 1 end", "lab.lua:2:");
	expect_stopped(&b, "local function spin() while true do end end\n"
			   "while true do pcall(spin) end",
		       "lab.lua:");
	expect_stopped(&b, "local function spin() while true do end end\n"
			   "while true do xpcall(spin, spin) end",
		       "lab.lua:");
	expect_stopped(&b, "local co = coroutine.wrap(function()\n while true do end\nend)\nco()",
		       "lab.lua:2:");
	expect_stopped(&b, "while true do\n local co = coroutine.create(function() while true do end end)\n"
			   " coroutine.resume(co)\nend",
		       "lab.lua:");
	expect_stopped(&b, "local t = setmetatable({}, {__index = function(t, k) while true do end end})\n"
			   "return t.x",
		       "lab.lua:1:");
	/* The state still works afterwards. */
	expect(&b, "return 'alive'", "alive");
	close_box(&b);
}

static void test_instruction_limit(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	const char *src = "local x = 0\nfor i = 1, 1e12 do x = x + i end";
	struct vlab_err err = {0};
	assert_int_equal(lesson_sandbox_loadstring(b.sb, src, strlen(src), "lab.lua", &err), 0);
	lesson_sandbox_arm(b.sb, 100000, 0); /* no deadline: instructions only */
	assert_int_equal(lesson_sandbox_pcall(b.sb, 0, 0, &err), -1);
	lesson_sandbox_disarm(b.sb);
	assert_non_null(strstr(err.msg, "lab.lua:2:"));
	assert_non_null(strstr(err.msg, "instructions"));
	close_box(&b);
}

static void test_memory_bomb(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	struct vlab_err err = {0};
	assert_int_equal(run(&b, "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end",
			     10000, &err),
			 -1);
	assert_int_equal(err.code, ENOMEM);
	assert_non_null(strstr(err.msg, "lab.lua:2:"));
	assert_non_null(strstr(err.msg, "64.0 MiB"));
	assert_true(lesson_sandbox_mem_used(b.sb) <= lesson_sandbox_mem_limit(b.sb));
	/* One huge string is refused at once. */
	assert_int_equal(run(&b, "local s = ('x'):rep(1 << 30)", 10000, &err), -1);
	assert_int_equal(err.code, ENOMEM);
	/* And the state recovers: memory is back once the garbage goes. */
	lua_gc(b.L, LUA_GCCOLLECT);
	assert_true(lesson_sandbox_mem_used(b.sb) < 4u << 20);
	expect(&b, "return ('y'):rep(1000):sub(1, 2)", "yy");
	close_box(&b);
}

static void test_read_only(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	struct vlab_err err = {0};
	assert_int_equal(run(&b, "string.rep = nil", 1000, &err), -1);
	assert_non_null(strstr(err.msg, "lab.lua:1:"));
	assert_non_null(strstr(err.msg, "read-only"));
	assert_int_equal(run(&b, "rawset(string, 'rep', print)", 1000, &err), -1);
	assert_int_equal(run(&b, "table.insert = print", 1000, &err), -1);
	assert_int_equal(run(&b, "math.pi = 3", 1000, &err), -1);
	assert_int_equal(run(&b, "setmetatable(string, {})", 1000, &err), -1);
	assert_int_equal(run(&b, "vlab.print = nil", 1000, &err), -1);
	assert_int_equal(run(&b, "getmetatable('').__index = {}", 1000, &err), -1);
	assert_int_equal(run(&b, "setmetatable({}, {__gc = function() while true do end end})", 1000,
			     &err),
			 -1);
	assert_non_null(strstr(err.msg, "__gc"));
	assert_int_equal(run(&b, "setmetatable({}, {__gc = true})", 1000, &err), -1);
	expect(&b, "return ('abc'):upper() .. math.floor(2.5)", "ABC2");
	close_box(&b);
}

/* Whatever one lab run does to its state stays in it: a new state is clean. */
static void test_no_leak_between_runs(void **state)
{
	(void)state;
	struct box a, b;
	open_box(&a);
	struct vlab_err err = {0};
	assert_int_equal(run(&a, "evil = true\nsetmetatable(_G, {__index = function() return 'x' end})\n"
				 "print = nil\ntostring = function() return 'pwned' end",
			     1000, &err),
			 0);
	expect(&a, "return tostring(1)", "pwned");
	close_box(&a);
	open_box(&b);
	expect(&b, "return tostring(evil) .. tostring(getmetatable(_G)) .. tostring(undefined_global)",
	       "nilnilnil");
	expect(&b, "return type(print)", "function");
	close_box(&b);
}

static void test_errors_name_line(void **state)
{
	(void)state;
	struct box b;
	open_box(&b);
	struct vlab_err err = {0};
	assert_int_equal(run(&b, "\n\nerror('boom')", 1000, &err), -1);
	assert_string_equal(err.msg, "lab.lua:3: boom");
	assert_int_equal(run(&b, "\nerror('no position', 0)", 1000, &err), -1);
	assert_string_equal(err.msg, "lab.lua:2: no position");
	assert_int_equal(run(&b, "\n\n\nerror({})", 1000, &err), -1);
	assert_string_equal(err.msg, "lab.lua:4: (error object is a table value)");
	assert_int_equal(run(&b, "local x = nil\nreturn x.y", 1000, &err), -1);
	assert_non_null(strstr(err.msg, "lab.lua:2:"));
	assert_int_equal(run(&b, "\nreturn ('x'):rep(-1, 5, 6) .. nil", 1000, &err), -1);
	assert_non_null(strstr(err.msg, "lab.lua:2:"));
	/* Syntax errors and NUL bytes, at load. */
	assert_int_equal(lesson_sandbox_loadstring(b.sb, "x = = 1", 7, "lab.lua", &err), -1);
	assert_non_null(strstr(err.msg, "lab.lua:1:"));
	const char nul[] = "x = 1\ny = 2\nz\0 = 3\n";
	assert_int_equal(lesson_sandbox_loadstring(b.sb, nul, sizeof(nul) - 1, "lab.lua", &err), -1);
	assert_string_equal(err.msg, "lab.lua:3: a NUL byte in the lab file (is it a text file?)");
	close_box(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_binary_chunks),
		cmocka_unit_test(test_loops_stopped),
		cmocka_unit_test(test_instruction_limit),
		cmocka_unit_test(test_memory_bomb),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_no_leak_between_runs),
		cmocka_unit_test(test_errors_name_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
