/* lesson/api_misc.c: the `vlab` table itself and its plain functions:
 * print, chart, record, measurements, compare, skip, available, engines,
 * sleep. */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"
#include "metrics/stats.h"

struct lesson_api *lesson_api_of(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.api");
	struct lesson_api *api = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return api;
}

void lesson_api_emit(lua_State *L, json_t *msg, const int *fds, size_t nfds)
{
	struct lesson_api *api = lesson_api_of(L);
	if (api->item >= 0 && !json_object_get(msg, "item"))
		json_object_set_new(msg, "item", json_integer(api->item));
	if (api->host.emit)
		api->host.emit(api->host.arg, msg, fds, nfds);
}

void lesson_api_begin(lua_State *L, int item, int replaying)
{
	struct lesson_api *api = lesson_api_of(L);
	api->item = item;
	api->replaying = replaying;
	api->skipped = 0;
	api->skip_reason[0] = '\0';
}

void lesson_api_set_measurements(lua_State *L, json_t *obj)
{
	lua_newtable(L);
	lua_newtable(L);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		json_t *val = json_object_get(v, "value");
		json_t *unit = json_object_get(v, "unit");
		if (!json_is_number(val))
			continue;
		lua_pushnumber(L, json_number_value(val));
		lua_setfield(L, -3, key);
		lua_pushstring(L, json_is_string(unit) ? json_string_value(unit) : "");
		lua_setfield(L, -2, key);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.units");
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
}

/* ---- output ---- */

static void emit_text(lua_State *L, const char *t, const char *text, size_t len)
{
	json_t *m = json_object();
	json_object_set_new(m, "t", json_string(t));
	json_object_set_new(m, "text", lesson_json_text(text, len));
	lesson_api_emit(L, m, NULL, 0);
	json_decref(m);
}

/* vlab.print(...): like print, to the lesson's output. */
static int l_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	emit_text(L, "print", s, len);
	return 0;
}

static double opt_num_field(lua_State *L, int t, const char *key, double def, int argn)
{
	int ty = lua_getfield(L, t, key);
	double v = def;
	if (ty != LUA_TNIL) {
		if (ty != LUA_TNUMBER)
			luaL_argerror(L, argn, lua_pushfstring(L, "field '%s' must be a number", key));
		v = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

static const char *opt_str_field(lua_State *L, int t, const char *key, const char *def, int argn)
{
	int ty = lua_getfield(L, t, key);
	const char *v = def;
	if (ty != LUA_TNIL) {
		if (ty != LUA_TSTRING)
			luaL_argerror(L, argn, lua_pushfstring(L, "field '%s' must be a string", key));
		v = lua_tostring(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

/* The chart at table index t as JSON.  Raises on a malformed one: call it
 * first with build 0 (checks only, allocates nothing a Lua error could
 * leak), then with build 1. */
static json_t *chart_json(lua_State *L, int t, int argn, int build)
{
	json_t *c = build ? json_object() : NULL, *bars = build ? json_array() : NULL;
	const char *title = opt_str_field(L, t, "title", "", argn);
	const char *unit = opt_str_field(L, t, "unit", "", argn);
	lua_getfield(L, t, "lower_is_better");
	int lower = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (build) {
		json_object_set_new(c, "title", lesson_json_text(title, strlen(title)));
		json_object_set_new(c, "unit", lesson_json_text(unit, strlen(unit)));
		json_object_set_new(c, "lower_is_better", json_boolean(lower));
		json_object_set_new(c, "bars", bars);
	}
	if (lua_getfield(L, t, "bars") != LUA_TTABLE)
		luaL_argerror(L, argn, "field 'bars' must be a list of {label=, value=}");
	int n = (int)luaL_len(L, -1);
	for (int i = 1; i <= n; i++) {
		if (lua_geti(L, -1, i) != LUA_TTABLE)
			luaL_argerror(L, argn, lua_pushfstring(L, "bars[%d] must be a table", i));
		int b = lua_gettop(L);
		const char *label = opt_str_field(L, b, "label", NULL, argn);
		if (!label)
			luaL_argerror(L, argn, lua_pushfstring(L, "bars[%d] needs a label", i));
		double v = opt_num_field(L, b, "value", NAN, argn);
		double mn = opt_num_field(L, b, "min", v, argn);
		double mx = opt_num_field(L, b, "max", v, argn);
		double runs = opt_num_field(L, b, "runs", 1, argn);
		const char *note = opt_str_field(L, b, "note", "", argn);
		if (build) {
			json_t *o = json_object();
			json_object_set_new(o, "label", lesson_json_text(label, strlen(label)));
			json_object_set_new(o, "value", isfinite(v) ? json_real(v) : json_null());
			json_object_set_new(o, "min", isfinite(mn) ? json_real(mn) : json_null());
			json_object_set_new(o, "max", isfinite(mx) ? json_real(mx) : json_null());
			json_object_set_new(o, "runs", json_integer(runs >= 0 && runs < 1e9
									    ? (json_int_t)runs
									    : 0));
			json_object_set_new(o, "note", lesson_json_text(note, strlen(note)));
			json_array_append_new(bars, o);
		}
		lua_settop(L, b - 1);
	}
	lua_pop(L, 1);
	return c;
}

/* Checks, then emits the chart at index t. */
static void emit_chart(lua_State *L, int t, int argn)
{
	chart_json(L, t, argn, 0);
	json_t *c = chart_json(L, t, argn, 1);
	json_t *m = json_pack("{s:s, s:o}", "t", "chart", "chart", c);
	lesson_api_emit(L, m, NULL, 0);
	json_decref(m);
}

/* vlab.chart{title=, unit=, lower_is_better=, bars={{label=, value=, min=,
 * max=, runs=, note=}, ...}} */
static int l_chart(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	emit_chart(L, 1, 1);
	return 0;
}

/* ---- measurements ---- */

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 63)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("._-", *s)))
			return 0;
	return 1;
}

/* vlab.record(name, value [, unit]): keeps a measurement in the workbook;
 * numeric questions can compute their expected value from it. */
static int l_record(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	luaL_argcheck(L, valid_name(name), 1, "a name of letters, digits, '.', '_', '-'");
	double v = luaL_checknumber(L, 2);
	luaL_argcheck(L, isfinite(v), 2, "a finite number");
	const char *unit = luaL_optstring(L, 3, "");
	struct lesson_api *api = lesson_api_of(L);
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
	int have = lua_getfield(L, -1, name) != LUA_TNIL;
	lua_pop(L, 1);
	if (api->replaying && have) {
		/* Replaying an earlier step: the student's measurement stays. */
		lua_pop(L, 1);
		lua_pushnumber(L, v);
		return 1;
	}
	lua_pushnumber(L, v);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.units");
	lua_pushstring(L, unit);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
	json_t *m = json_object();
	json_object_set_new(m, "t", json_string("record"));
	json_object_set_new(m, "name", json_string(name));
	json_object_set_new(m, "value", json_real(v));
	json_object_set_new(m, "unit", lesson_json_text(unit, strlen(unit)));
	lesson_api_emit(L, m, NULL, 0);
	json_decref(m);
	lua_pushnumber(L, v);
	return 1;
}

/* vlab.measurements(): a copy of name -> value. */
static int l_measurements(lua_State *L)
{
	lua_newtable(L);
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_settable(L, -5);
	}
	lua_pop(L, 1);
	return 1;
}

/* vlab.skip(reason): ends the step as skipped (this host cannot run it). */
static int l_skip(lua_State *L)
{
	const char *why = luaL_checkstring(L, 1);
	struct lesson_api *api = lesson_api_of(L);
	api->skipped = 1;
	snprintf(api->skip_reason, sizeof(api->skip_reason), "%s", why);
	lua_pushfstring(L, "skipped: %s", why);
	return lua_error(L);
}

/* ---- what this host offers ---- */

static void avail_of(const char *engine, struct vlab_avail *av)
{
	static struct vlab_hostcaps caps;
	static int probed;
	memset(av, 0, sizeof(*av));
	const struct vlab_engine *e = vlab_engine_find(engine);
	if (!e) {
		av->level = VLAB_AVAIL_NO;
		snprintf(av->backend, sizeof(av->backend), "none");
		snprintf(av->reason, sizeof(av->reason),
			 "the %s engine is not part of this vlab build yet", engine);
		if (!probed) {
			vlab_hostcaps_probe(&caps, VLAB_CAPS_MEASURE_KVM);
			probed = 1;
		}
		struct vlab_avail doc = {0};
		if (!strcmp(engine, "vm"))
			vlab_avail_vm(&caps, &doc);
		else if (!strcmp(engine, "container"))
			vlab_avail_container(&caps, &doc);
		else if (!strcmp(engine, "unikernel"))
			vlab_avail_unikernel(&caps, &doc);
		else
			return;
		if (doc.level == VLAB_AVAIL_NO) {
			size_t l = strlen(av->reason);
			snprintf(av->reason + l, sizeof(av->reason) - l, "; and %s", doc.reason);
		}
		return;
	}
	e->probe(av);
}

static const char *const engine_names[] = {"vm", "container", "unikernel", "host", NULL};

static int known_engine(const char *name)
{
	for (int i = 0; engine_names[i]; i++)
		if (!strcmp(engine_names[i], name))
			return 1;
	return 0;
}

/* vlab.available(engine) -> ok, reason, level, backend */
static int l_available(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	luaL_argcheck(L, known_engine(name), 1, "vm, container, unikernel or host");
	struct vlab_avail av;
	avail_of(name, &av);
	lua_pushboolean(L, av.level != VLAB_AVAIL_NO);
	lua_pushstring(L, av.reason);
	lua_pushstring(L, vlab_avail_level_name(av.level));
	lua_pushstring(L, av.backend);
	return 4;
}

/* vlab.engines() -> { {name=, ok=, level=, backend=, reason=}, ... } */
static int l_engines(lua_State *L)
{
	lua_newtable(L);
	for (int i = 0; engine_names[i]; i++) {
		struct vlab_avail av;
		avail_of(engine_names[i], &av);
		lua_createtable(L, 0, 5);
		lua_pushstring(L, engine_names[i]);
		lua_setfield(L, -2, "name");
		lua_pushboolean(L, av.level != VLAB_AVAIL_NO);
		lua_setfield(L, -2, "ok");
		lua_pushstring(L, vlab_avail_level_name(av.level));
		lua_setfield(L, -2, "level");
		lua_pushstring(L, av.backend);
		lua_setfield(L, -2, "backend");
		lua_pushstring(L, av.reason);
		lua_setfield(L, -2, "reason");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* vlab.sleep(seconds): waits, within the action's time limit. */
static int l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	luaL_argcheck(L, isfinite(s) && s >= 0 && s <= 600, 1, "seconds between 0 and 600");
	uint64_t until = vlab_now_ns() + (uint64_t)(s * 1e9);
	uint64_t dl = lesson_sandbox_deadline(lesson_sandbox_of(L));
	if (dl && until > dl)
		until = dl;
	for (uint64_t now; (now = vlab_now_ns()) < until;) {
		struct timespec ts = {.tv_sec = (time_t)((until - now) / 1000000000ull),
				      .tv_nsec = (long)((until - now) % 1000000000ull)};
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- vlab.compare ---- */

/* vlab.compare{instances = {...}, metric = "startup" | "image_size" |
 * workload = "cpu", args = {...}, key = "...", runs = N, scale = k,
 * title = "...", unit = "...", lower_is_better = bool}
 * Measures each instance, draws one chart, returns
 * {[name] = {value=median, min=, max=, runs=, samples={...}} or {error=}}. */
static int l_compare(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *metric = opt_str_field(L, 1, "metric", NULL, 1);
	const char *workload = opt_str_field(L, 1, "workload", NULL, 1);
	const char *key = opt_str_field(L, 1, "key", NULL, 1);
	luaL_argcheck(L, !metric != !workload, 1, "give metric or workload (and key)");
	luaL_argcheck(L, !workload || key, 1, "a workload needs key = the result to compare");
	if (metric)
		luaL_argcheck(L, !strcmp(metric, "startup") || !strcmp(metric, "image_size"), 1,
			      "metric is startup or image_size");
	double runs_d = opt_num_field(L, 1, "runs", metric ? 1 : 3, 1);
	luaL_argcheck(L, runs_d >= 1 && runs_d <= 1000, 1, "runs between 1 and 1000");
	int runs = (int)runs_d;
	double scale = opt_num_field(L, 1, "scale", 1, 1);
	luaL_argcheck(L, isfinite(scale) && scale != 0, 1, "scale must be a non-zero number");
	if (lua_getfield(L, 1, "instances") != LUA_TTABLE)
		luaL_argerror(L, 1, "field 'instances' must be a list of instances");
	int insts = lua_gettop(L);
	int n = (int)luaL_len(L, insts);

	const char *title = opt_str_field(L, 1, "title", metric ? metric : workload, 1);
	const char *unit = opt_str_field(L, 1, "unit", !metric ? "" : !strcmp(metric, "startup") ? "ms" : "MiB", 1);
	lua_getfield(L, 1, "lower_is_better");
	int lower = lua_isnil(L, -1) ? metric != NULL : lua_toboolean(L, -1);
	lua_pop(L, 1);

	lua_newtable(L); /* result */
	int result = lua_gettop(L);
	lua_createtable(L, 0, 4); /* chart */
	int chart = lua_gettop(L);
	lua_pushstring(L, title);
	lua_setfield(L, chart, "title");
	lua_pushstring(L, unit);
	lua_setfield(L, chart, "unit");
	lua_pushboolean(L, lower);
	lua_setfield(L, chart, "lower_is_better");
	lua_newtable(L);
	int bars = lua_gettop(L);

	double *samples = lua_newuserdatauv(L, sizeof(double) * (size_t)runs, 0);
	for (int i = 1; i <= n; i++) {
		lua_geti(L, insts, i);
		int obj = lua_gettop(L);
		struct vlab_instance *in = lesson_api_instance(L, obj);
		if (!in)
			luaL_argerror(L, 1, lua_pushfstring(L, "instances[%d] is not an instance", i));
		const char *label = vlab_instance_name(in);
		int got = 0;
		char why[300] = "";
		for (int r = 0; r < runs && !why[0]; r++) {
			double v = NAN;
			if (metric && !strcmp(metric, "startup")) {
				uint64_t ns = vlab_instance_startup_ns(in);
				if (ns)
					v = (double)ns / 1e6;
				else
					snprintf(why, sizeof(why), "not started");
			} else if (metric) {
				const char *ib = vlab_instance_attr(in, "image_bytes");
				if (ib)
					v = strtod(ib, NULL) / (1024.0 * 1024.0);
				else
					snprintf(why, sizeof(why), "image size unknown");
			} else {
				lua_getfield(L, obj, "run");
				lua_pushvalue(L, obj);
				lua_pushstring(L, workload);
				lua_getfield(L, 1, "args");
				lua_call(L, 3, 2);
				if (lua_istable(L, -2)) {
					lua_getfield(L, -2, key);
					if (lua_type(L, -1) == LUA_TNUMBER)
						v = lua_tonumber(L, -1);
					else
						snprintf(why, sizeof(why), "no number '%s' in the result",
							 key);
					lua_pop(L, 1);
				} else {
					snprintf(why, sizeof(why), "%s",
						 lua_isstring(L, -1) ? lua_tostring(L, -1) : "failed");
				}
				lua_pop(L, 2);
			}
			if (isfinite(v))
				samples[got++] = v / scale;
		}
		lua_createtable(L, 0, 5); /* this instance's entry */
		lua_createtable(L, 0, 6); /* its bar */
		lua_pushstring(L, label);
		lua_setfield(L, -2, "label");
		if (got) {
			/* Summarised as every figure of vlab is (metrics/stats.h);
			 * one sample (a startup, an image size) is shown as it is. */
			struct metrics_summary sum = {.n = 1, .min = samples[0],
						      .median = samples[0], .max = samples[0]};
			if (got >= METRICS_MIN_SAMPLES)
				metrics_summarize(samples, (size_t)got, 0, &sum, NULL);
			for (int k = 0; k < 2; k++) {
				lua_pushnumber(L, sum.median);
				lua_setfield(L, -2 - k, "value");
				lua_pushnumber(L, sum.min);
				lua_setfield(L, -2 - k, "min");
				lua_pushnumber(L, sum.max);
				lua_setfield(L, -2 - k, "max");
				lua_pushinteger(L, got);
				lua_setfield(L, -2 - k, "runs");
			}
			lua_createtable(L, got, 0);
			for (int k = 0; k < got; k++) {
				lua_pushnumber(L, samples[k]);
				lua_rawseti(L, -2, k + 1);
			}
			lua_setfield(L, -3, "samples");
			const char *em = vlab_instance_attr(in, "emulated");
			if (em && !strcmp(em, "yes")) {
				lua_pushliteral(L, "emulated");
				lua_setfield(L, -2, "note");
			}
		} else {
			lua_pushstring(L, why);
			lua_setfield(L, -3, "error");
			lua_pushfstring(L, "failed: %s", why);
			lua_setfield(L, -2, "note");
			lua_pushinteger(L, 0);
			lua_setfield(L, -2, "runs");
		}
		lua_rawseti(L, bars, i);
		lua_setfield(L, result, label);
		lua_settop(L, obj - 1);
	}
	lua_pushvalue(L, bars);
	lua_setfield(L, chart, "bars");
	emit_chart(L, chart, 1);
	lua_pushvalue(L, result);
	return 1;
}

void lesson_api_open_misc(lua_State *L, int vlab)
{
	static const luaL_Reg fns[] = {
		{"print", l_print},     {"chart", l_chart},
		{"record", l_record},   {"measurements", l_measurements},
		{"skip", l_skip},       {"available", l_available},
		{"engines", l_engines}, {"sleep", l_sleep},
		{"compare", l_compare}, {NULL, NULL},
	};
	lua_pushvalue(L, vlab);
	luaL_setfuncs(L, fns, 0);
	lua_pushstring(L, VLAB_VERSION);
	lua_setfield(L, -2, "version");
	lua_pop(L, 1);
}

void lesson_api_open(lua_State *L, struct lesson_api *api)
{
	api->item = -1;
	lua_pushlightuserdata(L, api);
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.api");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.units");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.state");
	lua_newtable(L);
	int vlab = lua_gettop(L);
	lesson_api_open_lab(L, vlab);
	lesson_api_open_instances(L, vlab);
	lesson_api_open_misc(L, vlab);
	lesson_api_open_bench(L, vlab);
	lua_getfield(L, vlab, "print");
	lua_setglobal(L, "print");
	lua_setglobal(L, "vlab");
	lesson_sandbox_protect(L, "vlab");
}
