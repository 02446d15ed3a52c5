/* tests/unit/lesson/test_lab_hostile.c: a lab that changes its own
 * declarations after vlab.lab{} returned them (swaps the items list for
 * one whose metamethods raise, puts a table where a string was, drops a
 * string the scorer still points at) gets a clear "file:line" error, and
 * never crashes the process reading it (lesson/lab_read.c).  Each case
 * here once aborted the lab runner with a Lua panic, or read freed memory
 * (make check-asan sees that), or leaked (LeakSanitizer). */
#include "tests/vtest.h"

#include <jansson.h>
#include <lua.h>
#include <string.h>

#include "lesson/api.h"
#include "lesson/sandbox.h"

static void emit(void *arg, json_t *msg, const int *fds, size_t nfds)
{
	(void)arg;
	(void)msg;
	(void)fds;
	(void)nfds;
}

static json_t *ask(void *arg, json_t *msg)
{
	(void)arg;
	(void)msg;
	return NULL;
}

struct lab {
	struct lesson_sandbox *sb;
	lua_State *L;
	struct lesson_api api;
	json_t *desc;
	struct vlab_err err;
};

/* Runs src as a lab file and describes what it returned; 0 or -1 (l->err). */
static int load(struct lab *l, const char *src)
{
	memset(l, 0, sizeof(*l));
	l->api.host.emit = emit;
	l->api.host.ask = ask;
	assert_int_equal(lesson_sandbox_new(16u << 20, &l->sb, &l->err), 0);
	l->L = lesson_sandbox_state(l->sb);
	lesson_api_open(l->L, &l->api);
	assert_int_equal(lesson_sandbox_loadstring(l->sb, src, strlen(src), "hostile.lua", &l->err),
			 0);
	lesson_api_begin(l->L, -1, 0);
	if (lesson_sandbox_pcall(l->sb, 0, 1, &l->err) < 0)
		fail_msg("the lab itself failed: %s", l->err.msg);
	l->desc = lesson_lab_describe(l->L, "hostile.lua:9", &l->err);
	return l->desc ? 0 : -1;
}

/* Runs more lab code in the same state (a later step, say). */
static void lab_code(struct lab *l, const char *src)
{
	assert_int_equal(lesson_sandbox_loadstring(l->sb, src, strlen(src), "later.lua", &l->err), 0);
	if (lesson_sandbox_pcall(l->sb, 0, 0, &l->err) < 0)
		fail_msg("%s", l->err.msg);
}

static void unload(struct lab *l)
{
	json_decref(l->desc);
	lesson_api_close_instances(l->L);
	lesson_sandbox_free(l->sb);
}

#define HEAD "local l = vlab.lab { id = 'h', title = 'H', steps = { "
#define STEP "vlab.step { id = 's', title = 'S', text = 'T', run = function() end }"
#define CHOICE "vlab.question { id = 'q', prompt = 'P', choices = { 'a', 'b' }, answer = 2 }"

static void test_items_list_swapped(void **state)
{
	(void)state;
	static const char *const cases[] = {
	    /* a list whose length raises */
	    HEAD STEP " } }\nl.items = setmetatable({}, { __len = function() error('boom') end })\n"
		      "return l",
	    /* a list whose elements raise */
	    HEAD STEP " } }\nl.items = setmetatable({}, { __index = function() error('boom') end })\n"
		      "return l",
	    /* not a list */
	    HEAD STEP " } }\nl.items = 42\nreturn l",
	    /* an element that is not a step or question */
	    HEAD STEP " } }\nl.items[1] = { kind = 'step', title = {} }\nreturn l",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lab l;
		int r = load(&l, cases[i]);
		if (r == 0)
			fail_msg("case %zu: described a tampered lab", i);
		assert_non_null(strstr(l.err.msg, "hostile.lua:9"));
		print_message("case %zu: %s\n", i, l.err.msg);
		unload(&l);
	}
}

/* The hints of a step are a list whose metamethod raises: the description
 * fails with the lab's own message, and nothing leaks. */
static void test_field_metamethod_raises(void **state)
{
	(void)state;
	struct lab l;
	int r = load(&l, HEAD STEP " } }\n"
			  "rawget(l.items, 1).hints = setmetatable({}, { __len = function() "
			  "error('no hints for you') end })\nreturn l");
	assert_int_equal(r, -1);
	assert_non_null(strstr(l.err.msg, "no hints for you"));
	unload(&l);
}

/* Swapping the list after the description changes nothing the runner
 * reads: push_item hands out the items that were described. */
static void test_push_item_reads_the_described_items(void **state)
{
	(void)state;
	struct lab l;
	assert_int_equal(load(&l, HEAD STEP ", " CHOICE " } }\nLAB = l\nreturn l"), 0);
	int lab = lua_gettop(l.L);
	lab_code(&l, "LAB.items = setmetatable({}, { __index = function() error('x') end })");
	lesson_lab_push_item(l.L, lab, 1);
	assert_true(lua_istable(l.L, -1));
	lua_getfield(l.L, -1, "id");
	assert_string_equal(lua_tostring(l.L, -1), "q");
	lua_settop(l.L, lab);
	unload(&l);
}

static int score(struct lab *l, int item, const char *answer, int *correct, char *msg, size_t len)
{
	int lab = lua_gettop(l->L);
	lesson_lab_push_item(l->L, lab, item);
	double expected;
	int has = 0;
	int r = lesson_question_score(l->L, answer, correct, &expected, &has, msg, len, &l->err);
	assert_int_equal(lua_gettop(l->L), lab + 1);
	lua_settop(l->L, lab);
	return r;
}

/* The choices of a question turned hostile after the description. */
static void test_choices_tampered(void **state)
{
	(void)state;
	struct lab l;
	char msg[256];
	int correct = -1;
	assert_int_equal(load(&l, HEAD CHOICE " } }\nLAB = l\nreturn l"), 0);
	/* a choice that is not a string: no crash, not a match */
	lab_code(&l, "rawget(LAB.items, 1).choices[1] = {}");
	assert_int_equal(score(&l, 0, "a", &correct, msg, sizeof(msg)), 0);
	assert_int_equal(correct, 0);
	assert_int_equal(score(&l, 0, "2", &correct, msg, sizeof(msg)), 0);
	assert_int_equal(correct, 1);
	/* a list whose length raises: an error with the lab's message */
	lab_code(&l, "rawget(LAB.items, 1).choices = setmetatable({}, { __len = function() "
		     "error('choices are secret') end })");
	assert_int_equal(score(&l, 0, "a", &correct, msg, sizeof(msg)), -1);
	assert_non_null(strstr(l.err.msg, "choices are secret"));
	unload(&l);
}

/* expected() drops the question's explanation and makes garbage: the
 * feedback is still the explanation (a copy), not freed memory. */
static void test_explain_dropped_by_expected(void **state)
{
	(void)state;
	struct lab l;
	char msg[256];
	int correct = -1;
	assert_int_equal(
	    load(&l, HEAD "vlab.question { id = 'n', kind = 'numeric', prompt = 'P', tolerance = 0,"
			  " explain = string.rep('because ', 20), expected = function()"
			  " rawget(LAB.items, 1).explain = nil"
			  " local t = {} for i = 1, 20000 do t[i] = { i } end return 7 end } } }\n"
			  "LAB = l\nreturn l"),
	    0);
	assert_int_equal(score(&l, 0, "7", &correct, msg, sizeof(msg)), 0);
	assert_int_equal(correct, 1);
	assert_non_null(strstr(msg, "because because"));
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items_list_swapped),
		cmocka_unit_test(test_field_metamethod_raises),
		cmocka_unit_test(test_push_item_reads_the_described_items),
		cmocka_unit_test(test_choices_tampered),
		cmocka_unit_test(test_explain_dropped_by_expected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
