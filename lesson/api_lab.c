/* lesson/api_lab.c: vlab.lab, vlab.step and vlab.question: a lab's
 * declarations, checked as they are made (errors name the line of the
 * declaration), described as JSON for the front end, and the scoring of an
 * answer against its question. */
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

#define ITEM_MT "lesson.item"
#define LAB_MT "lesson.lab"
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

/* ---- description ---- */

static void json_set_str(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, lesson_json_text(s, strlen(s)));
}

static json_t *strings_json(lua_State *L, int t, const char *key)
{
	json_t *a = json_array();
	if (lua_getfield(L, t, key) == LUA_TTABLE) {
		int n = (int)luaL_len(L, -1);
		for (int i = 1; i <= n; i++) {
			lua_geti(L, -1, i);
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);
			json_array_append_new(a, lesson_json_text(s ? s : "", s ? len : 0));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return a;
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
	json_t *d = json_object();
	json_set_str(d, "id", field_str(L, lab, "id", ""));
	json_set_str(d, "title", field_str(L, lab, "title", ""));
	json_set_str(d, "version", field_str(L, lab, "version", "1"));
	json_set_str(d, "intro", field_str(L, lab, "intro", ""));
	json_set_str(d, "where", field_str(L, lab, "where", ""));
	json_object_set_new(d, "engines", strings_json(L, lab, "engines"));
	double lab_timeout = field_num(L, lab, "timeout", 120);
	json_t *items = json_array();
	lua_getfield(L, lab, "items");
	int n = (int)luaL_len(L, -1);
	for (int i = 1; i <= n; i++) {
		lua_geti(L, -1, i);
		int it = lua_gettop(L);
		json_t *o = json_object();
		const char *kind = field_str(L, it, "kind", "step");
		int is_step = !strcmp(kind, "step");
		json_set_str(o, "kind", kind);
		json_set_str(o, "id", field_str(L, it, "id", ""));
		json_set_str(o, "title", field_str(L, it, "title", ""));
		json_set_str(o, "text", field_str(L, it, is_step ? "text" : "prompt", ""));
		json_set_str(o, "where", field_str(L, it, "where", ""));
		json_object_set_new(o, "points", json_real(field_num(L, it, "points", 0)));
		json_object_set_new(o, "hints", strings_json(L, it, "hints"));
		double to = field_num(L, it, "timeout", lab_timeout);
		json_object_set_new(o, "timeout_ms", json_integer((json_int_t)(to * 1000)));
		if (is_step) {
			json_object_set_new(o, "run", json_boolean(field_is(L, it, "run", LUA_TFUNCTION)));
			json_object_set_new(o, "check",
					    json_boolean(field_is(L, it, "check", LUA_TFUNCTION)));
		} else {
			json_set_str(o, "qkind", field_str(L, it, "qkind", "text"));
			json_object_set_new(o, "choices", strings_json(L, it, "choices"));
			json_set_str(o, "unit", field_str(L, it, "unit", ""));
		}
		json_array_append_new(items, o);
		lua_settop(L, it - 1);
	}
	lua_settop(L, lab);
	json_object_set_new(d, "items", items);
	return d;
}

void lesson_lab_push_item(lua_State *L, int lab, int i)
{
	lua_getfield(L, lab, "items");
	lua_geti(L, -1, i + 1);
	lua_remove(L, -2);
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

int lesson_question_score(lua_State *L, const char *answer, int *correct, double *expected,
			  int *has_expected, char *message, size_t len, struct vlab_err *err)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	int q = lua_gettop(L);
	const char *qkind = field_str(L, q, "qkind", "text");
	const char *explain = field_str(L, q, "explain", "");
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
			trim_lower(lua_tostring(L, -1), c, sizeof(c));
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
				lua_pop(L, 1);
				if (was_nil) {
					set_msg(message, len, NULL,
						"the expected value comes from your own measurements: "
						"run the steps that measure it first");
					return 0;
				}
				return vlab_err_set(err, 0, "%s: expected() returned a %s, not a number",
						    field_str(L, q, "where", "?"),
						    luaL_typename(L, -1));
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
			trim_lower(lua_tostring(L, -1), a, sizeof(a));
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
