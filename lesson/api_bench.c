/* lesson/api_bench.c: vlab.bench{...}: the metrics layer's side-by-side
 * measurement (metrics/run.h, the engine of `vlab bench`) from a lab.
 * Fresh instances of each engine are started warm-up + runs times and the
 * selected workloads measured on the last one; every figure comes back
 * with its runs, min, median and max, and one chart per figure is drawn.
 * Engines this host cannot run come back unavailable, with the doctor's
 * reason. */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/clock.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"
#include "metrics/run.h"

#define MAX_TARGETS 8

struct bench_ctx {
	lua_State *L;
	uint64_t deadline_ns;
	volatile sig_atomic_t cancel;
	char last[96];
};

/* Progress, shown to the student; past the action's deadline, asks the
 * run to stop (it keeps what it measured). */
static void progress(void *arg, const char *engine, const char *step, unsigned done,
		     unsigned total)
{
	struct bench_ctx *c = arg;
	if (c->deadline_ns && vlab_now_ns() > c->deadline_ns)
		c->cancel = 1;
	char text[160];
	snprintf(text, sizeof(text), "measuring %s: %s (%u/%u)", engine, step, done, total);
	json_t *m = json_pack("{s:s, s:s}", "t", "progress", "text", text);
	lesson_api_emit(c->L, m, NULL, 0);
	json_decref(m);
}

/* engines = {"vm", ...} -> names (pointers into Lua strings on the stack). */
static size_t get_engines(lua_State *L, const char **names)
{
	if (lua_getfield(L, 1, "engines") != LUA_TTABLE)
		luaL_argerror(L, 1, "field 'engines' must be a list of engine names");
	size_t n = (size_t)luaL_len(L, -1);
	if (n == 0 || n > MAX_TARGETS)
		luaL_argerror(L, 1, "between 1 and 8 engines");
	for (size_t i = 0; i < n; i++) {
		if (lua_geti(L, -1, (lua_Integer)i + 1) != LUA_TSTRING)
			luaL_argerror(L, 1, "engines must be names (strings)");
		names[i] = lua_tostring(L, -1);
		lua_pop(L, 1); /* still referenced by the table */
	}
	return n;
}

static unsigned get_kinds(lua_State *L)
{
	unsigned mask = 0;
	int ty = lua_getfield(L, 1, "metrics");
	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (ty != LUA_TTABLE)
		luaL_argerror(L, 1, "field 'metrics' must be a list (startup, image, footprint, "
				    "cpu, mem, disk, net)");
	size_t n = (size_t)luaL_len(L, -1);
	for (size_t i = 0; i < n; i++) {
		lua_geti(L, -1, (lua_Integer)i + 1);
		const char *w = lua_tostring(L, -1);
		unsigned m = 0;
		struct vlab_err err = {0};
		if (!w || metrics_kinds_parse(w, &m, &err) < 0)
			luaL_argerror(L, 1, lua_pushfstring(L, "metrics: %s", w ? err.msg : "not a string"));
		mask |= m;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return mask;
}

static double num_field(lua_State *L, int t, const char *key, double def, double min,
			double max)
{
	int ty = lua_getfield(L, t, key);
	double v = def;
	if (ty != LUA_TNIL) {
		if (ty != LUA_TNUMBER)
			luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be a number", key));
		v = lua_tonumber(L, -1);
		if (!(v >= min && v <= max))
			luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be within %f..%f",
							    key, min, max));
	}
	lua_pop(L, 1);
	return v;
}

/* Pushes one row as {value=median, min, max, mean, runs, unit, label,
 * samples = {...}}. */
static void push_row(lua_State *L, const struct metrics_row *r)
{
	lua_createtable(L, 0, 9);
	lua_pushnumber(L, r->s.median);
	lua_setfield(L, -2, "value");
	lua_pushnumber(L, r->s.min);
	lua_setfield(L, -2, "min");
	lua_pushnumber(L, r->s.max);
	lua_setfield(L, -2, "max");
	lua_pushnumber(L, r->s.mean);
	lua_setfield(L, -2, "mean");
	lua_pushinteger(L, (lua_Integer)r->s.n);
	lua_setfield(L, -2, "runs");
	lua_pushstring(L, r->unit);
	lua_setfield(L, -2, "unit");
	lua_pushstring(L, r->label);
	lua_setfield(L, -2, "label");
	lua_pushstring(L, r->note);
	lua_setfield(L, -2, "note");
	lua_createtable(L, (int)r->nsamples, 0);
	for (size_t i = 0; i < r->nsamples; i++) {
		lua_pushnumber(L, r->samples[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "samples");
}

/* One chart per figure the first column has, bars across the columns. */
static void emit_charts(lua_State *L, const struct metrics_result *res)
{
	for (size_t c0 = 0; c0 < res->ncols; c0++)
		for (size_t k = 0; k < res->cols[c0].nrows; k++) {
			const struct metrics_row *proto = &res->cols[c0].rows[k];
			/* Each key once: in the first column that has it. */
			int seen = 0;
			for (size_t p = 0; p < c0 && !seen; p++)
				seen = metrics_column_find(&res->cols[p], proto->key) != NULL;
			/* Per-phase startup rows and exit rates stay in the table. */
			if (seen || !strncmp(proto->key, "exits.", 6) ||
			    !strncmp(proto->key, "startup.", 8))
				continue;
			json_t *bars = json_array();
			for (size_t c = 0; c < res->ncols; c++) {
				const struct metrics_column *col = &res->cols[c];
				const struct metrics_row *r = metrics_column_find(col, proto->key);
				char note[300] = "";
				if (!col->available)
					snprintf(note, sizeof(note), "unavailable: %s", col->reason);
				else if (!r && col->error[0])
					snprintf(note, sizeof(note), "failed: %s", col->error);
				else if (col->emulated)
					snprintf(note, sizeof(note), "emulated");
				json_t *b = json_pack("{s:s, s:o, s:o, s:o, s:i, s:o}", "label", col->engine,
						      "value", r ? json_real(r->s.median) : json_null(),
						      "min", r ? json_real(r->s.min) : json_null(), "max",
						      r ? json_real(r->s.max) : json_null(), "runs",
						      r ? (int)r->s.n : 0, "note",
						      lesson_json_text(note, strlen(note)));
				json_array_append_new(bars, b);
			}
			json_t *chart = json_pack("{s:s, s:s, s:b, s:o}", "title", proto->label, "unit",
						  proto->unit, "lower_is_better",
						  proto->better == METRICS_LOWER_BETTER, "bars", bars);
			json_t *m = json_pack("{s:s, s:o}", "t", "chart", "chart", chart);
			lesson_api_emit(L, m, NULL, 0);
			json_decref(m);
		}
}

/* vlab.bench{engines = {...}, metrics = {...}, runs = 5, warmup = 1,
 * options = {engine = {key = value}}, sizes = {cpu_sieve = ..., ...},
 * charts = true} -> {engine = {available=, emulated=, backend=, reason=,
 * error=, rows = {key = {value=, min=, max=, runs=, unit=, samples=}}}} */
static int l_bench(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	const char *names[MAX_TARGETS];
	size_t n = get_engines(L, names);
	unsigned kinds = get_kinds(L);
	unsigned runs = (unsigned)num_field(L, 1, "runs", 3, METRICS_MIN_SAMPLES, 100);
	unsigned warmup = (unsigned)num_field(L, 1, "warmup", 0, 0, 10);
	lua_getfield(L, 1, "charts");
	int charts = lua_isnil(L, -1) || lua_toboolean(L, -1);
	lua_pop(L, 1);

	struct metrics_sizes sizes = {0};
	if (lua_getfield(L, 1, "sizes") == LUA_TTABLE) {
		int t = lua_gettop(L);
		sizes.cpu_sieve = (uint64_t)num_field(L, t, "cpu_sieve", 0, 0, 1e12);
		sizes.cpu_matrix = (uint32_t)num_field(L, t, "cpu_matrix", 0, 0, 4096);
		sizes.mem_bytes = (uint64_t)num_field(L, t, "mem_bytes", 0, 0, 1e12);
		sizes.mem_reps = (uint32_t)num_field(L, t, "mem_reps", 0, 0, 1000);
		sizes.disk_bytes = (uint64_t)num_field(L, t, "disk_bytes", 0, 0, 1e12);
		sizes.disk_block = (uint64_t)num_field(L, t, "disk_block", 0, 0, 1e9);
		sizes.net_count = (uint32_t)num_field(L, t, "net_count", 0, 0, 1e7);
		sizes.net_payload = (uint32_t)num_field(L, t, "net_payload", 0, 0, 65507);
	}
	lua_pop(L, 1);

	/* Per-engine options: checked (may raise) before specs hold memory. */
	lua_getfield(L, 1, "options");
	int opts = lua_gettop(L);
	if (!lua_isnil(L, opts) && !lua_istable(L, opts))
		luaL_argerror(L, 1, "field 'options' must be a table of engine = {options}");
	struct vlab_spec specs[MAX_TARGETS];
	struct metrics_target targets[MAX_TARGETS];
	size_t nspecs = 0;
	struct vlab_err err = {0};
	for (size_t i = 0; i < n; i++) {
		targets[i].engine = names[i];
		targets[i].spec = NULL;
		if (lua_istable(L, opts) && lua_getfield(L, opts, names[i]) == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				if (lua_type(L, -2) != LUA_TSTRING ||
				    (!lua_isstring(L, -1) && !lua_isboolean(L, -1)))
					luaL_argerror(L, 1, "options are name = string/number/boolean");
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	for (size_t i = 0; i < n; i++) {
		if (!lua_istable(L, opts) || lua_getfield(L, opts, names[i]) != LUA_TTABLE) {
			if (lua_istable(L, opts))
				lua_pop(L, 1);
			continue;
		}
		if (vlab_spec_init(&specs[nspecs], names[i], "bench", &err) < 0) {
			lua_pop(L, 1);
			continue;
		}
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			const char *v = lua_isboolean(L, -1) ? (lua_toboolean(L, -1) ? "on" : "off")
							      : lua_tostring(L, -1);
			if (vlab_spec_set(&specs[nspecs], lua_tostring(L, -2), v, &err) < 0)
				break;
			lua_pop(L, 1);
		}
		lua_settop(L, opts);
		targets[i].spec = &specs[nspecs++];
		if (err.msg[0])
			break;
	}
	if (err.msg[0]) {
		for (size_t i = 0; i < nspecs; i++)
			vlab_spec_free(&specs[i]);
		return luaL_error(L, "bad options to vlab.bench: %s", err.msg);
	}

	struct bench_ctx ctx = {.L = L,
				.deadline_ns = lesson_sandbox_deadline(lesson_sandbox_of(L))};
	struct metrics_config cfg = {
		.targets = targets,
		.ntargets = n,
		.kinds = kinds,
		.runs = runs,
		.warmup = warmup ? warmup : METRICS_NO_WARMUP,
		.sizes = sizes,
		.progress = progress,
		.progress_arg = &ctx,
		.cancel = &ctx.cancel,
	};
	/* The lab's CPU-time backstop must not pass to the instances. */
	struct rlimit saved, open;
	int have = getrlimit(RLIMIT_CPU, &saved) == 0;
	if (have) {
		open = saved;
		open.rlim_cur = saved.rlim_max;
		setrlimit(RLIMIT_CPU, &open);
	}
	struct metrics_result *res = NULL;
	int r = metrics_run(&cfg, &res, &err);
	if (have)
		setrlimit(RLIMIT_CPU, &saved);
	for (size_t i = 0; i < nspecs; i++)
		vlab_spec_free(&specs[i]);
	if (r < 0) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	if (charts)
		emit_charts(L, res);
	/* The table (built from res, then res freed: a Lua error below would
	 * leak it, so nothing below raises but memory errors). */
	lua_createtable(L, 0, (int)res->ncols);
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		lua_createtable(L, 0, 7);
		lua_pushboolean(L, col->available);
		lua_setfield(L, -2, "available");
		lua_pushboolean(L, col->emulated);
		lua_setfield(L, -2, "emulated");
		lua_pushstring(L, col->backend);
		lua_setfield(L, -2, "backend");
		lua_pushstring(L, col->reason);
		lua_setfield(L, -2, "reason");
		lua_pushstring(L, col->error);
		lua_setfield(L, -2, "error");
		lua_createtable(L, 0, (int)col->nrows);
		for (size_t k = 0; k < col->nrows; k++) {
			push_row(L, &col->rows[k]);
			lua_setfield(L, -2, col->rows[k].key);
		}
		lua_setfield(L, -2, "rows");
		lua_setfield(L, -2, col->engine);
	}
	lua_pushboolean(L, ctx.cancel);
	lua_setfield(L, -2, "cancelled");
	metrics_result_free(res);
	return 1;
}

void lesson_api_open_bench(lua_State *L, int vlab)
{
	lua_pushcfunction(L, l_bench);
	lua_setfield(L, vlab, "bench");
}
