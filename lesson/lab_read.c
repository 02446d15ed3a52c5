/* lesson/lab_read.c: a lab's declarations read back from C: described as
 * JSON for the front end, its items handed to the runner, an answer scored
 * against its question.  The tables were made by lesson/api_lab.c, but lab
 * code can still reach and change them, so they are read defensively (see
 * below). */
#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"

#define ITEM_MT LESSON_ITEM_MT
#define LAB_MT LESSON_LAB_MT
#define MAX_TIMEOUT_S 3600.0

static const char *field_str(lua_State *L, int t, const char *key, const char *def)
{
	lua_getfield(L, t, key);
	const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : def;
	lua_pop(L, 1); /* still referenced by t, until lab code runs again */
	return s;
}

/* ---- description ---- */

static void json_set_str(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, lesson_json_text(s, strlen(s)));
}

static double field_num(lua_State *L, int t, const char *key, double def)
{
	lua_getfield(L, t, key);
	double v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : def;
	lua_pop(L, 1);
	return v;
}

static int field_is(lua_State *L, int t, const char *key, int type)
{
	int ty = lua_getfield(L, t, key);
	lua_pop(L, 1);
	return ty == type;
}

/* ---- reading what lab code may have changed ----
 *
 * The tables read below were made by vlab.lab{} and friends, but lab code
 * keeps references to them and may change them afterwards: swap the items
 * list for one whose metamethods raise or loop, put a table where a string
 * was, drop a string while C code still points at it.  So: the items are
 * checked and copied once, when the lab is described, to a list only C
 * code sees (registry[ITEMS_KEY][lab], the one push_item reads); every
 * read that could run a metamethod happens inside a protected call, under
 * the sandbox's limits; strings kept across lab code are copied.  A lab
 * that does this gets a "file:line" error, never a crash of the runner. */

#define ITEMS_KEY "lesson.lab.items"

/* Calls the function below its nargs arguments on the stack in protected
 * mode, under the sandbox's limits when the caller armed none; pops them.
 * 0, or -1 with err holding the Lua error. */
static int protected_call(lua_State *L, int nargs, struct vlab_err *err)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	int armed_here = sb && !lesson_sandbox_deadline(sb);
	if (armed_here)
		lesson_sandbox_arm(sb, LESSON_INSN_LIMIT / 20, vlab_now_ns() + 10000000000ull);
	int r;
	if (sb) {
		r = lesson_sandbox_pcall(sb, nargs, 0, err);
	} else if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
		const char *m = lua_tostring(L, -1);
		r = vlab_err_set(err, 0, "%s", m ? m : "error");
		lua_pop(L, 1);
	} else {
		r = 0;
	}
	if (armed_here)
		lesson_sandbox_disarm(sb);
	return r;
}

struct describe_args {
	json_t *d;
	const char *where_end;
};

/* Attaches an empty array to parent[key] (or appends it) and fills it
 * with the strings of t[key]: attached first, so a Lua error while
 * filling leaks nothing. */
static void strings_json(lua_State *L, int t, const char *key, json_t *parent)
{
	json_t *a = json_array();
	json_object_set_new(parent, key, a);
	if (lua_getfield(L, t, key) == LUA_TTABLE) {
		int n = (int)luaL_len(L, -1);
		for (int i = 1; i <= n; i++) {
			lua_geti(L, -1, i);
			size_t len;
			const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
			json_array_append_new(a, lesson_json_text(s ? s : "", s ? len : 0));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
}

/* Protected: fills args->d from the lab at index 1 and its snapshot of
 * items at index 3. */
static int describe_body(lua_State *L)
{
	struct describe_args *a = lua_touserdata(L, 2);
	json_t *d = a->d;
	int lab = 1, snap = 3;
	json_set_str(d, "id", field_str(L, lab, "id", ""));
	json_set_str(d, "title", field_str(L, lab, "title", ""));
	json_set_str(d, "version", field_str(L, lab, "version", "1"));
	json_set_str(d, "intro", field_str(L, lab, "intro", ""));
	json_set_str(d, "where", field_str(L, lab, "where", ""));
	strings_json(L, lab, "engines", d);
	double lab_timeout = field_num(L, lab, "timeout", 120);
	json_t *items = json_array();
	json_object_set_new(d, "items", items);
	int n = (int)lua_rawlen(L, snap);
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, snap, i);
		int it = lua_gettop(L);
		json_t *o = json_object();
		json_array_append_new(items, o);
		const char *kind = field_str(L, it, "kind", "step");
		int is_step = !strcmp(kind, "step");
		json_set_str(o, "kind", kind);
		json_set_str(o, "id", field_str(L, it, "id", ""));
		json_set_str(o, "title", field_str(L, it, "title", ""));
		json_set_str(o, "text", field_str(L, it, is_step ? "text" : "prompt", ""));
		json_set_str(o, "where", field_str(L, it, "where", ""));
		json_object_set_new(o, "points", json_real(field_num(L, it, "points", 0)));
		strings_json(L, it, "hints", o);
		double to = field_num(L, it, "timeout", lab_timeout);
		json_object_set_new(o, "timeout_ms",
				    json_integer(isfinite(to) && to >= 0 && to <= MAX_TIMEOUT_S
							 ? (json_int_t)(to * 1000)
							 : (json_int_t)(lab_timeout * 1000)));
		if (is_step) {
			json_object_set_new(o, "run", json_boolean(field_is(L, it, "run", LUA_TFUNCTION)));
			json_object_set_new(o, "check",
					    json_boolean(field_is(L, it, "check", LUA_TFUNCTION)));
		} else {
			json_set_str(o, "qkind", field_str(L, it, "qkind", "text"));
			strings_json(L, it, "choices", o);
			json_set_str(o, "unit", field_str(L, it, "unit", ""));
		}
		lua_settop(L, it - 1);
	}
	return 0;
}

/* Pushes registry[ITEMS_KEY] (weak keys: one snapshot per lab table). */
static void push_snapshots(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, ITEMS_KEY) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, ITEMS_KEY);
}

json_t *lesson_lab_describe(lua_State *L, const char *where_end, struct vlab_err *err)
{
	int lab = lua_gettop(L);
	int ok = lua_istable(L, lab) && lua_getmetatable(L, lab);
	if (ok) {
		luaL_getmetatable(L, LAB_MT);
		ok = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	if (!ok) {
		vlab_err_set(err, 0,
			     "%s: the lab file must end with `return vlab.lab { ... }` (it "
			     "returned a %s)",
			     where_end, luaL_typename(L, lab));
		return NULL;
	}
	/* The items, checked without running any lab code (raw reads, and
	 * item tables have a protected metatable and no metamethods). */
	lua_pushliteral(L, "items");
	if (lua_rawget(L, lab) != LUA_TTABLE) {
		vlab_err_set(err, 0, "%s: the lab's items list was replaced by a %s after vlab.lab{}",
			     where_end, luaL_typename(L, -1));
		lua_settop(L, lab);
		return NULL;
	}
	int list = lua_gettop(L);
	int n = (int)lua_rawlen(L, list);
	if (n == 0) {
		vlab_err_set(err, 0, "%s: the lab's items list was emptied after vlab.lab{}",
			     where_end);
		lua_settop(L, lab);
		return NULL;
	}
	lua_createtable(L, n, 0);
	int snap = lua_gettop(L);
	luaL_getmetatable(L, ITEM_MT);
	int mt = lua_gettop(L);
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		if (!lua_istable(L, -1) || !lua_getmetatable(L, -1) || !lua_rawequal(L, -1, mt)) {
			vlab_err_set(err, 0,
				     "%s: the lab's items[%d] is no longer a vlab.step{} or "
				     "vlab.question{}: lab code changed it after vlab.lab{}",
				     where_end, i);
			lua_settop(L, lab);
			return NULL;
		}
		lua_pop(L, 1);
		lua_rawseti(L, snap, i);
	}
	lua_settop(L, snap);
	struct describe_args a = {.d = json_object(), .where_end = where_end};
	lua_pushcfunction(L, describe_body);
	lua_pushvalue(L, lab);
	lua_pushlightuserdata(L, &a);
	lua_pushvalue(L, snap);
	int r = protected_call(L, 3, err);
	if (r < 0) {
		vlab_err_prefix(err, "%s: the lab's description cannot be read", where_end);
		json_decref(a.d);
		lua_settop(L, lab);
		return NULL;
	}
	/* registry[ITEMS_KEY][lab] = snapshot */
	push_snapshots(L);
	lua_pushvalue(L, lab);
	lua_pushvalue(L, snap);
	lua_rawset(L, -3);
	lua_settop(L, lab);
	return a.d;
}

void lesson_lab_push_item(lua_State *L, int lab, int i)
{
	lab = lua_absindex(L, lab);
	push_snapshots(L);
	lua_pushvalue(L, lab);
	if (lua_rawget(L, -2) != LUA_TTABLE) {
		/* never described: the lab's own list, read raw */
		lua_pop(L, 1);
		if (lua_istable(L, lab)) {
			lua_pushliteral(L, "items");
			lua_rawget(L, lab);
		} else {
			lua_pushnil(L);
		}
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			lua_newtable(L);
		}
	}
	lua_rawgeti(L, -1, i + 1);
	lua_replace(L, -3);
	lua_pop(L, 1);
}

/* ---- scoring an answer ---- */

static void trim_lower(const char *in, char *out, size_t len)
{
	while (isspace((unsigned char)*in))
		in++;
	size_t n = 0;
	for (; *in && n + 1 < len; in++)
		out[n++] = (char)tolower((unsigned char)*in);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		n--;
	out[n] = '\0';
	/* Runs of spaces count as one. */
	size_t w = 0;
	for (size_t r = 0; r < n; r++)
		if (!(isspace((unsigned char)out[r]) && w > 0 && out[w - 1] == ' '))
			out[w++] = isspace((unsigned char)out[r]) ? ' ' : out[r];
	out[w] = '\0';
}

static void set_msg(char *message, size_t len, const char *explain, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_msg(char *message, size_t len, const char *explain, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, len, fmt, ap);
	va_end(ap);
	if (explain && explain[0] && n >= 0 && (size_t)n < len)
		snprintf(message + n, len - (size_t)n, " %s", explain);
}

/* The scoring itself, on the question at index q; runs in protected mode
 * (lesson_question_score). */
static int score(lua_State *L, const char *answer, int *correct, double *expected, int *has_expected,
		 char *message, size_t len, struct vlab_err *err)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	int q = lua_gettop(L);
	const char *qkind = field_str(L, q, "qkind", "text");
	/* a copy: expected() below is lab code, which may drop the string */
	char explain[512];
	snprintf(explain, sizeof(explain), "%s", field_str(L, q, "explain", ""));
	char norm[1024];
	trim_lower(answer, norm, sizeof(norm));
	*correct = 0;
	*has_expected = 0;
	if (!strcmp(qkind, "choice")) {
		lua_getfield(L, q, "choices");
		int n = (int)luaL_len(L, -1), pick = 0;
		char *end;
		long v = strtol(norm, &end, 10);
		if (norm[0] && !*end && v >= 1 && v <= n)
			pick = (int)v;
		for (int i = 1; !pick && i <= n; i++) {
			char c[1024];
			lua_geti(L, -1, i);
			const char *cs = lua_tostring(L, -1);
			trim_lower(cs ? cs : "", c, sizeof(c));
			if (!strcmp(c, norm))
				pick = i;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (!pick) {
			set_msg(message, len, NULL, "'%s' is not one of the choices (answer 1 to %d)",
				answer, n);
			return 0;
		}
		lua_getfield(L, q, "right");
		*correct = lua_geti(L, -1, pick) != LUA_TNIL;
		lua_pop(L, 2);
		set_msg(message, len, explain, "%s", *correct ? "Right." : "Not quite.");
		return 0;
	}
	if (!strcmp(qkind, "numeric")) {
		char *end;
		errno = 0;
		double v = strtod(norm, &end);
		const char *unit = field_str(L, q, "unit", "");
		while (*end == ' ')
			end++;
		char lunit[64];
		trim_lower(unit, lunit, sizeof(lunit));
		if (end == norm || errno || !isfinite(v) || (*end && strcmp(end, lunit))) {
			set_msg(message, len, NULL, "'%s' is not a number%s%s", answer,
				unit[0] ? " of " : "", unit);
			return 0;
		}
		double exp;
		if (lua_getfield(L, q, "expected") == LUA_TFUNCTION) {
			lua_getfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
			lua_getfield(L, LUA_REGISTRYINDEX, "lesson.state");
			if (lesson_sandbox_pcall(sb, 2, 1, err) < 0)
				return -1;
			if (lua_type(L, -1) != LUA_TNUMBER) {
				int was_nil = lua_isnil(L, -1);
				const char *tname = luaL_typename(L, -1);
				lua_pop(L, 1);
				if (was_nil) {
					set_msg(message, len, NULL,
						"the expected value comes from your own measurements: "
						"run the steps that measure it first");
					return 0;
				}
				return vlab_err_set(err, 0, "%s: expected() returned a %s, not a number",
						    field_str(L, q, "where", "?"), tname);
			}
			exp = lua_tonumber(L, -1);
			lua_pop(L, 1);
		} else {
			lua_pop(L, 1);
			exp = field_num(L, q, "answer", 0);
		}
		double tol = field_num(L, q, "abs_tol", 0) + field_num(L, q, "rel_tol", 0) * fabs(exp);
		*expected = exp;
		*has_expected = 1;
		*correct = fabs(v - exp) <= tol + 1e-12 * fabs(exp);
		set_msg(message, len, explain, "%s", *correct ? "Right." : "Not quite.");
		return 0;
	}
	/* text */
	if (lua_getfield(L, q, "accept") == LUA_TTABLE) {
		int n = (int)luaL_len(L, -1);
		for (int i = 1; i <= n && !*correct; i++) {
			char a[1024];
			lua_geti(L, -1, i);
			const char *as = lua_tostring(L, -1);
			trim_lower(as ? as : "", a, sizeof(a));
			*correct = !strcmp(a, norm);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	if (!*correct && lua_getfield(L, q, "pattern") == LUA_TSTRING) {
		int pat = lua_gettop(L);
		lua_getglobal(L, "string");
		lua_getfield(L, -1, "find");
		lua_pushstring(L, norm);
		lua_pushvalue(L, pat);
		if (lesson_sandbox_pcall(sb, 2, 1, err) < 0) {
			lua_settop(L, q);
			return -1;
		}
		*correct = !lua_isnil(L, -1);
	}
	lua_settop(L, q);
	set_msg(message, len, explain, "%s", *correct ? "Right." : "Not quite.");
	return 0;
}

struct score_args {
	const char *answer;
	int *correct, *has_expected;
	double *expected;
	char *message;
	size_t len;
	struct vlab_err *err;
	int rc;
};

static int score_body(lua_State *L)
{
	struct score_args *a = lua_touserdata(L, 2);
	lua_settop(L, 1);
	a->rc = score(L, a->answer, a->correct, a->expected, a->has_expected, a->message, a->len,
		      a->err);
	return 0;
}

int lesson_question_score(lua_State *L, const char *answer, int *correct, double *expected,
			  int *has_expected, char *message, size_t len, struct vlab_err *err)
{
	int q = lua_gettop(L);
	struct score_args a = {answer, correct, has_expected, expected, message, len, err, -1};
	*correct = 0;
	*has_expected = 0;
	if (len)
		message[0] = '\0';
	lua_pushcfunction(L, score_body);
	lua_pushvalue(L, q);
	lua_pushlightuserdata(L, &a);
	int r = protected_call(L, 2, err);
	lua_settop(L, q);
	if (r < 0)
		return vlab_err_prefix(err, "the question cannot be scored");
	return a.rc;
}
