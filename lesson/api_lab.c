/* lesson/api_lab.c: vlab.lab, vlab.step and vlab.question: a lab's
 * declarations, checked as they are made (errors name the line of the
 * declaration).  Reading them back from C (the description for the front
 * end, the items, scoring an answer) is lesson/lab_read.c. */
#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"

#define ITEM_MT LESSON_ITEM_MT
#define LAB_MT LESSON_LAB_MT
#define MAX_TIMEOUT_S 3600.0

/* Raises "where: what: message". */
static int decl_error(lua_State *L, const char *where, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int decl_error(lua_State *L, const char *where, const char *what, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lua_pushfstring(L, "%s: %s: %s", where, what, msg);
	return lua_error(L);
}

static int known(const char *key, const char *const *fields)
{
	for (; *fields; fields++)
		if (!strcmp(key, *fields))
			return 1;
	return 0;
}

/* Every key of table t is in fields. */
static void check_fields(lua_State *L, int t, const char *where, const char *what,
			 const char *const *fields)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			decl_error(L, where, what, "field names must be strings (got a %s)",
				   luaL_typename(L, -1));
		if (!known(lua_tostring(L, -1), fields))
			decl_error(L, where, what, "unknown field '%s'", lua_tostring(L, -1));
	}
}

/* Copies t[key] to out[key] after checking its type (LUA_TNIL: any). */
static int copy_field(lua_State *L, int t, int out, const char *key, int type, int required,
		      const char *where, const char *what)
{
	int ty = lua_getfield(L, t, key);
	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		if (required)
			decl_error(L, where, what, "missing field '%s'", key);
		return 0;
	}
	if (type == LUA_TSTRING && ty == LUA_TNUMBER) {
		lua_tostring(L, -1); /* converts in place */
		ty = LUA_TSTRING;
	}
	if (type != LUA_TNIL && ty != type)
		decl_error(L, where, what, "field '%s' must be a %s, not a %s", key,
			   lua_typename(L, type), luaL_typename(L, -1));
	if (type == LUA_TSTRING && required && lua_rawlen(L, -1) == 0)
		decl_error(L, where, what, "field '%s' is empty", key);
	lua_setfield(L, out, key);
	return 1;
}

static double get_number(lua_State *L, int t, const char *key, double def, double min, double max,
			  const char *where, const char *what)
{
	int ty = lua_getfield(L, t, key);
	double v = def;
	if (ty != LUA_TNIL) {
		if (ty != LUA_TNUMBER)
			decl_error(L, where, what, "field '%s' must be a number, not a %s", key,
				   luaL_typename(L, -1));
		v = lua_tonumber(L, -1);
		if (!isfinite(v) || v < min || v > max)
			decl_error(L, where, what, "field '%s' is %g, outside %g..%g", key, v, min, max);
	}
	lua_pop(L, 1);
	return v;
}

/* t[key] as a list of n >= min strings, copied to out[key]; a single
 * string counts as a list of one when single is set. */
static int copy_strings(lua_State *L, int t, int out, const char *key, int min, int single,
			const char *where, const char *what)
{
	int ty = lua_getfield(L, t, key);
	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		if (min > 0)
			decl_error(L, where, what, "missing field '%s'", key);
		return 0;
	}
	lua_newtable(L);
	int n = 0;
	if (ty == LUA_TSTRING && single) {
		lua_pushvalue(L, -2);
		lua_rawseti(L, -2, ++n);
	} else if (ty == LUA_TTABLE) {
		int len = (int)luaL_len(L, -2);
		for (int i = 1; i <= len; i++) {
			int et = lua_geti(L, -2, i);
			if (et != LUA_TSTRING && et != LUA_TNUMBER)
				decl_error(L, where, what, "%s[%d] must be a string, not a %s", key, i,
					   luaL_typename(L, -1));
			lua_tostring(L, -1);
			lua_rawseti(L, -2, ++n);
		}
	} else {
		decl_error(L, where, what, "field '%s' must be a list of strings, not a %s", key,
			   luaL_typename(L, -2));
	}
	if (n < min)
		decl_error(L, where, what, "field '%s' needs at least %d entr%s", key, min,
			   min == 1 ? "y" : "ies");
	lua_setfield(L, out, key);
	lua_pop(L, 1);
	return n;
}

static void check_id(lua_State *L, int out, const char *where, const char *what)
{
	if (lua_getfield(L, out, "id") == LUA_TSTRING) {
		const char *id = lua_tostring(L, -1);
		size_t len = strlen(id);
		if (len == 0 || len > 63)
			decl_error(L, where, what, "id must have 1 to 63 characters");
		for (const char *p = id; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
				decl_error(L, where, what,
					   "id '%s' may only hold letters, digits, '-', '_', '.'",
					   id);
	}
	lua_pop(L, 1);
}

static void finish_item(lua_State *L, int out, const char *kind, const char *where)
{
	lua_pushstring(L, kind);
	lua_setfield(L, out, "kind");
	lua_pushstring(L, where);
	lua_setfield(L, out, "where");
	luaL_setmetatable(L, ITEM_MT);
}

static int l_step(lua_State *L)
{
	static const char *const fields[] = {"id", "title", "text", "run", "check", "points",
					     "hints", "timeout", NULL};
	char where[300];
	lesson_where(L, where, sizeof(where));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_fields(L, 1, where, "vlab.step", fields);
	lua_newtable(L);
	int out = 2;
	copy_field(L, 1, out, "id", LUA_TSTRING, 0, where, "vlab.step");
	check_id(L, out, where, "vlab.step");
	copy_field(L, 1, out, "title", LUA_TSTRING, 1, where, "vlab.step");
	if (!copy_field(L, 1, out, "text", LUA_TSTRING, 0, where, "vlab.step")) {
		lua_pushliteral(L, "");
		lua_setfield(L, out, "text");
	}
	copy_field(L, 1, out, "run", LUA_TFUNCTION, 0, where, "vlab.step");
	int has_check = copy_field(L, 1, out, "check", LUA_TFUNCTION, 0, where, "vlab.step");
	double pts = get_number(L, 1, "points", has_check ? 1 : 0, 0, 1e6, where, "vlab.step");
	lua_pushnumber(L, pts);
	lua_setfield(L, out, "points");
	double to = get_number(L, 1, "timeout", 0, 0, MAX_TIMEOUT_S, where, "vlab.step");
	if (to > 0) {
		lua_pushnumber(L, to);
		lua_setfield(L, out, "timeout");
	}
	copy_strings(L, 1, out, "hints", 0, 1, where, "vlab.step");
	lua_settop(L, out);
	finish_item(L, out, "step", where);
	return 1;
}

/* Parses a tolerance: number (absolute) or "N%" (relative). */
static int parse_tolerance(lua_State *L, int idx, double *abs_tol, double *rel_tol)
{
	*abs_tol = *rel_tol = 0;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		*abs_tol = lua_tonumber(L, idx);
		return isfinite(*abs_tol) && *abs_tol >= 0;
	}
	if (lua_type(L, idx) != LUA_TSTRING)
		return 0;
	const char *s = lua_tostring(L, idx);
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || strcmp(end, "%") || !isfinite(v) || v < 0)
		return 0;
	*rel_tol = v / 100.0;
	return 1;
}

static int l_question(lua_State *L)
{
	static const char *const fields[] = {"id", "title", "prompt", "kind", "choices",
					     "answer", "expected", "tolerance", "unit", "accept",
					     "pattern", "points", "hints", "explain", NULL};
	const char *what = "vlab.question";
	char where[300];
	lesson_where(L, where, sizeof(where));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_fields(L, 1, where, what, fields);
	lua_newtable(L);
	int out = 2;
	copy_field(L, 1, out, "id", LUA_TSTRING, 0, where, what);
	check_id(L, out, where, what);
	copy_field(L, 1, out, "prompt", LUA_TSTRING, 1, where, what);
	copy_field(L, 1, out, "title", LUA_TSTRING, 0, where, what);
	copy_field(L, 1, out, "explain", LUA_TSTRING, 0, where, what);
	copy_field(L, 1, out, "unit", LUA_TSTRING, 0, where, what);
	copy_strings(L, 1, out, "hints", 0, 1, where, what);
	double pts = get_number(L, 1, "points", 1, 0, 1e6, where, what);
	lua_pushnumber(L, pts);
	lua_setfield(L, out, "points");

	const char *kind;
	int has_choices = lua_getfield(L, 1, "choices") != LUA_TNIL;
	int has_accept = lua_getfield(L, 1, "accept") != LUA_TNIL;
	int has_pattern = lua_getfield(L, 1, "pattern") != LUA_TNIL;
	int answer_type = lua_getfield(L, 1, "answer");
	int has_expected = lua_getfield(L, 1, "expected") != LUA_TNIL;
	lua_pop(L, 5);
	if (has_choices)
		kind = "choice";
	else if (has_accept || has_pattern)
		kind = "text";
	else if (answer_type == LUA_TNUMBER || has_expected)
		kind = "numeric";
	else
		return decl_error(L, where, what,
				  "say how to check the answer: choices + answer, answer (a "
				  "number) or expected, or accept / pattern");
	if (lua_getfield(L, 1, "kind") != LUA_TNIL) {
		const char *k = lua_tostring(L, -1);
		if (!k || strcmp(k, kind))
			decl_error(L, where, what, "kind is '%s' but the fields make it a %s question",
				   k ? k : luaL_typename(L, -1), kind);
	}
	lua_pop(L, 1);

	if (!strcmp(kind, "choice")) {
		int n = copy_strings(L, 1, out, "choices", 2, 0, where, what);
		lua_newtable(L); /* the set of right answers */
		int ty = lua_getfield(L, 1, "answer");
		int k = 0;
		if (ty == LUA_TNUMBER) {
			lua_newtable(L);
			lua_insert(L, -2);
			lua_rawseti(L, -2, 1);
		} else if (ty != LUA_TTABLE) {
			decl_error(L, where, what,
				   "a multiple-choice question needs answer = the right choice's "
				   "number (1..%d)",
				   n);
		}
		int len = (int)luaL_len(L, -1);
		for (int i = 1; i <= len; i++) {
			lua_geti(L, -1, i);
			int isint;
			lua_Integer a = lua_tointegerx(L, -1, &isint);
			if (!isint || a < 1 || a > n)
				decl_error(L, where, what, "answer %s is not within choices (1..%d)",
					   luaL_tolstring(L, -1, NULL), n);
			lua_pop(L, 1);
			lua_pushboolean(L, 1);
			lua_rawseti(L, -3, (lua_Integer)a);
			k++;
		}
		if (k == 0)
			decl_error(L, where, what, "answer lists no choice");
		lua_pop(L, 1);
		lua_setfield(L, out, "right");
	} else if (!strcmp(kind, "numeric")) {
		if (answer_type == LUA_TNUMBER && has_expected)
			decl_error(L, where, what, "give either answer or expected, not both");
		if (answer_type != LUA_TNUMBER && answer_type != LUA_TNIL)
			decl_error(L, where, what, "answer must be a number");
		copy_field(L, 1, out, "answer", LUA_TNUMBER, 0, where, what);
		copy_field(L, 1, out, "expected", LUA_TFUNCTION, 0, where, what);
		lua_getfield(L, 1, "tolerance");
		double a = 0, r = 0;
		if (!lua_isnil(L, -1) && !parse_tolerance(L, -1, &a, &r))
			decl_error(L, where, what,
				   "tolerance must be a number >= 0 or a percentage such as \"10%%\"");
		lua_pop(L, 1);
		lua_pushnumber(L, a);
		lua_setfield(L, out, "abs_tol");
		lua_pushnumber(L, r);
		lua_setfield(L, out, "rel_tol");
	} else {
		copy_strings(L, 1, out, "accept", 0, 1, where, what);
		copy_field(L, 1, out, "pattern", LUA_TSTRING, 0, where, what);
		if (answer_type != LUA_TNIL)
			decl_error(L, where, what, "a text question uses accept or pattern, not answer");
	}
	lua_pushstring(L, kind);
	lua_setfield(L, out, "qkind");
	lua_settop(L, out);
	finish_item(L, out, "question", where);
	return 1;
}

static const char *field_str(lua_State *L, int t, const char *key, const char *def)
{
	lua_getfield(L, t, key);
	const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : def;
	lua_pop(L, 1); /* still referenced by t */
	return s;
}

static int l_lab(lua_State *L)
{
	static const char *const fields[] = {"id", "title", "version", "intro", "steps",
					     "timeout", "engines", NULL};
	const char *what = "vlab.lab";
	char where[300];
	lesson_where(L, where, sizeof(where));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_fields(L, 1, where, what, fields);
	lua_newtable(L);
	int out = 2;
	copy_field(L, 1, out, "id", LUA_TSTRING, 1, where, what);
	check_id(L, out, where, what);
	copy_field(L, 1, out, "title", LUA_TSTRING, 1, where, what);
	if (!copy_field(L, 1, out, "version", LUA_TSTRING, 0, where, what)) {
		lua_pushliteral(L, "1");
		lua_setfield(L, out, "version");
	}
	if (!copy_field(L, 1, out, "intro", LUA_TSTRING, 0, where, what)) {
		lua_pushliteral(L, "");
		lua_setfield(L, out, "intro");
	}
	double to = get_number(L, 1, "timeout", 120, 1, MAX_TIMEOUT_S, where, what);
	lua_pushnumber(L, to);
	lua_setfield(L, out, "timeout");
	copy_strings(L, 1, out, "engines", 0, 1, where, what);

	if (lua_getfield(L, 1, "steps") != LUA_TTABLE)
		decl_error(L, where, what, lua_isnil(L, -1) ? "missing field 'steps'"
							    : "field 'steps' must be a list");
	int steps = lua_gettop(L);
	int n = (int)luaL_len(L, steps);
	if (n == 0)
		decl_error(L, where, what, "steps is empty");
	lua_newtable(L); /* items */
	int items = lua_gettop(L);
	lua_newtable(L); /* id -> where */
	int seen = lua_gettop(L);
	int nsteps = 0, nquestions = 0;
	for (int i = 1; i <= n; i++) {
		lua_geti(L, steps, i);
		int item = lua_gettop(L);
		if (!lua_istable(L, item) || !lua_getmetatable(L, item) ||
		    (luaL_getmetatable(L, ITEM_MT), !lua_rawequal(L, -1, -2)))
			decl_error(L, where, what,
				   "steps[%d] is a %s, not a vlab.step{} or vlab.question{}", i,
				   luaL_typename(L, item));
		lua_settop(L, item);
		const char *iwhere = field_str(L, item, "where", where);
		int is_step = !strcmp(field_str(L, item, "kind", ""), "step");
		int pos = is_step ? ++nsteps : ++nquestions;
		if (lua_getfield(L, item, "id") == LUA_TNIL) {
			lua_pop(L, 1);
			lua_pushfstring(L, "%s-%d", is_step ? "step" : "question", pos);
			lua_pushvalue(L, -1);
			lua_setfield(L, item, "id");
		}
		if (lua_getfield(L, seen, lua_tostring(L, -1)) != LUA_TNIL)
			decl_error(L, iwhere, what, "duplicate id '%s' (first used at %s)",
				   lua_tostring(L, -2), lua_tostring(L, -1));
		lua_pop(L, 1);
		lua_pushstring(L, iwhere);
		lua_setfield(L, seen, lua_tostring(L, -2));
		lua_pop(L, 1);
		if (!is_step && lua_getfield(L, item, "title") == LUA_TNIL) {
			/* A question's title: its prompt's first line. */
			const char *p = field_str(L, item, "prompt", "");
			size_t len = strcspn(p, "\n");
			lua_pushlstring(L, p, len > 72 ? 72 : len);
			lua_setfield(L, item, "title");
		}
		lua_settop(L, item);
		lua_rawseti(L, items, i);
	}
	lua_settop(L, items);
	lua_setfield(L, out, "items");
	lua_settop(L, out);
	lua_pushstring(L, where);
	lua_setfield(L, out, "where");
	luaL_setmetatable(L, LAB_MT);
	return 1;
}

void lesson_api_open_lab(lua_State *L, int vlab)
{
	luaL_newmetatable(L, ITEM_MT);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	luaL_newmetatable(L, LAB_MT);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	static const luaL_Reg fns[] = {
		{"lab", l_lab}, {"step", l_step}, {"question", l_question}, {NULL, NULL}};
	lua_pushvalue(L, vlab);
	luaL_setfuncs(L, fns, 0);
	lua_pop(L, 1);
}
