/* lesson/api_measure.c: what labs measure with the host's own tools rather
 * than the agent's: inst:footprint() (the memory an instance costs the
 * host, as vlab bench reads it), vlab.doctor() (the doctor's KVM
 * measurement: what "emulated" means here) and vlab.bench{} (metrics_run,
 * the figures of `vlab bench`, all seven metrics on every engine, as a
 * table and charts).
 *
 * No engine logic and no metric logic here: the readers are metrics/'s
 * (footprint.h, cgroup.h, run.h) and the KVM measurement is the doctor's
 * (engines/hostcaps.h); this file turns their structs into Lua tables. */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/clock.h"
#include "core/units.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"
#include "metrics/cgroup.h"
#include "metrics/footprint.h"
#include "metrics/run.h"

#define MAX_TARGETS 8
#define RESULT_MT "lesson.bench_result"

static void set_num(lua_State *L, const char *key, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, key);
}

static int fail(lua_State *L, const char *msg)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* ---- inst:footprint() ---- */

/* inst:footprint() -> {bytes, source, pss_bytes, rss_bytes, pss_anon_bytes,
 * pss_file_bytes, processes, [cgroup_bytes, cgroup_peak_bytes,
 * cgroup_limit_bytes, cgroup_version]} or nil, message.  bytes is the
 * figure vlab bench calls the footprint: the cgroup's usage for an instance
 * in a memory cgroup (the container), else the PSS of its process tree. */
static int l_footprint(lua_State *L)
{
	struct vlab_instance *in = lesson_api_instance(L, 1);
	if (!in)
		return luaL_argerror(L, 1, "an instance that is not closed expected");
	vlab_instance_pump(in, NULL);
	pid_t pid = vlab_instance_pid(in);
	if (pid <= 0)
		return fail(L, "the instance is not started: it costs nothing yet");
	struct metrics_smaps sm;
	size_t nprocs = 0;
	struct vlab_err err = {0};
	if (metrics_tree_smaps(pid, &sm, &nprocs, &err) < 0) {
		char msg[VLAB_ERR_MSG + 64];
		snprintf(msg, sizeof(msg), "%s: footprint: %s", vlab_instance_name(in), err.msg);
		return fail(L, msg);
	}
	lua_createtable(L, 0, 12);
	set_int(L, "pss_bytes", (long long)sm.pss);
	set_int(L, "rss_bytes", (long long)sm.rss);
	set_int(L, "pss_anon_bytes", (long long)sm.pss_anon);
	set_int(L, "pss_file_bytes", (long long)sm.pss_file);
	set_int(L, "processes", (long long)nprocs);
	const char *cgdir = vlab_instance_attr(in, "cgroup.memory");
	struct metrics_cgmem cg;
	if (cgdir && metrics_cgroup_memory(cgdir, &cg, &err) == 0) {
		set_int(L, "cgroup_bytes", (long long)cg.usage);
		set_int(L, "cgroup_peak_bytes", (long long)cg.peak);
		if (cg.limit != METRICS_CG_UNLIMITED)
			set_int(L, "cgroup_limit_bytes", (long long)cg.limit);
		set_int(L, "cgroup_version", cg.version);
		set_int(L, "bytes", (long long)cg.usage);
		set_str(L, "source", cg.version == 2 ? "cgroup v2 memory.current"
						     : "cgroup v1 memory.usage_in_bytes");
	} else {
		set_int(L, "bytes", (long long)sm.pss);
		set_str(L, "source", "PSS of the process tree");
	}
	return 1;
}

/* ---- vlab.doctor() ---- */

/* vlab.doctor() -> {kernel, root, kvm = {present, opens, error, module,
 * api, measured, hardware_assisted, cpl0_ns, cpl3_ns, ratio,
 * measure_error}, qemu, qemu_version}: the doctor's findings that explain
 * what "emulated" means on this host (the KVM loop timed at CPL 0 and 3). */
static int l_doctor(lua_State *L)
{
	struct vlab_hostcaps *caps = calloc(1, sizeof(*caps));
	if (!caps)
		return luaL_error(L, "vlab.doctor: out of memory");
	vlab_hostcaps_probe_kvm(caps, VLAB_CAPS_MEASURE_KVM);
	lua_createtable(L, 0, 5);
	struct vlab_hostcaps full;
	memset(&full, 0, sizeof(full));
	/* The cheap parts of the full probe (no second KVM measurement). */
	vlab_hostcaps_probe(&full, 0);
	set_str(L, "kernel", full.kernel);
	set_bool(L, "root", full.is_root);
	if (full.qemu_path[0]) {
		set_str(L, "qemu", full.qemu_path);
		set_str(L, "qemu_version", full.qemu_version);
	}
	lua_createtable(L, 0, 11);
	set_bool(L, "present", caps->kvm_present);
	set_bool(L, "opens", caps->kvm_present && !caps->kvm_open_errno);
	if (caps->kvm_open_errno)
		set_str(L, "error", strerror(caps->kvm_open_errno));
	set_str(L, "module", caps->kvm_module);
	set_int(L, "api", caps->kvm_api);
	set_bool(L, "measured", caps->kvm_measured);
	if (caps->kvm_measured) {
		set_bool(L, "hardware_assisted", caps->kvm_hw);
		set_num(L, "cpl0_ns", caps->cpl0_ns);
		set_num(L, "cpl3_ns", caps->cpl3_ns);
		set_num(L, "ratio", caps->ratio);
	} else if (caps->kvm_measure_error[0]) {
		set_str(L, "measure_error", caps->kvm_measure_error);
	}
	lua_setfield(L, -2, "kvm");
	free(caps);
	return 1;
}

/* ---- vlab.bench{} ---- */

struct bench_ctx {
	lua_State *L;
	uint64_t deadline; /* the action's, 0 none */
	uint64_t last_ns, longest_ns;
	char last[64];
	volatile sig_atomic_t cancel;
	int quiet;
};

static void emit_print(lua_State *L, const char *text)
{
	json_t *m = json_object();
	json_object_set_new(m, "t", json_string("print"));
	json_object_set_new(m, "text", lesson_json_text(text, strlen(text)));
	lesson_api_emit(L, m, NULL, 0);
	json_decref(m);
}

/* Says what is being measured, and stops the run early (keeping what was
 * measured) when the next step would not fit in the action's time. */
static void on_progress(void *arg, const char *engine, const char *step, unsigned done,
			unsigned total)
{
	struct bench_ctx *c = arg;
	uint64_t now = vlab_now_ns();
	if (c->last_ns && now - c->last_ns > c->longest_ns)
		c->longest_ns = now - c->last_ns;
	c->last_ns = now;
	if (c->deadline && now + c->longest_ns + c->longest_ns / 2 + 1000000000ull > c->deadline &&
	    !c->cancel) {
		c->cancel = 1;
		emit_print(c->L, "vlab.bench: stopping here: the step's time limit is near (the "
				 "figures measured so far are kept)");
	}
	char what[64];
	snprintf(what, sizeof(what), "%s %s", engine, step);
	if (!c->quiet && strcmp(what, c->last)) {
		char line[128];
		snprintf(line, sizeof(line), "measuring %s: %s (step %u of %u)", engine, step, done,
			 total);
		emit_print(c->L, line);
		snprintf(c->last, sizeof(c->last), "%s", what);
	}
}

static int opt_bool(lua_State *L, int t, const char *key, int def)
{
	int ty = lua_getfield(L, t, key);
	int v = ty == LUA_TNIL ? def : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static unsigned opt_uint(lua_State *L, int t, const char *key, unsigned def, unsigned min,
			 unsigned max)
{
	int ty = lua_getfield(L, t, key);
	unsigned v = def;
	if (ty != LUA_TNIL) {
		int isint;
		lua_Integer n = lua_tointegerx(L, -1, &isint);
		if (!isint || n < (lua_Integer)min || n > (lua_Integer)max)
			luaL_error(L, "bad option '%s' to vlab.bench: an integer %d..%d expected", key,
				   (int)min, (int)max);
		v = (unsigned)n;
	}
	lua_pop(L, 1);
	return v;
}

/* sizes[key] as a byte count or plain number ("4M", 4194304); 0 absent. */
static uint64_t opt_size(lua_State *L, int sizes, const char *key)
{
	if (!sizes)
		return 0;
	int ty = lua_getfield(L, sizes, key);
	uint64_t v = 0;
	if (ty == LUA_TNUMBER) {
		double d = lua_tonumber(L, -1);
		if (!isfinite(d) || d < 1 || d > 1e15)
			luaL_error(L, "bad size '%s' to vlab.bench: %f is not a size", key, d);
		v = (uint64_t)d;
	} else if (ty == LUA_TSTRING) {
		struct vlab_err err = {0};
		if (vlab_parse_size(lua_tostring(L, -1), &v, key, &err) < 0 || !v)
			luaL_error(L, "bad size '%s' to vlab.bench: %s", key,
				   err.msg[0] ? err.msg : "zero");
	} else if (ty != LUA_TNIL) {
		luaL_error(L, "bad size '%s' to vlab.bench: a number or a size such as \"4M\"", key);
	}
	lua_pop(L, 1);
	return v;
}

/* The main figure of each metric: charted by default. */
static const char *const main_keys[] = {"startup",  "image",     "footprint", "cpu.int",
					"cpu.fp",   "mem.triad", "disk.write", "disk.read",
					"net.rtt",  "net.tps",   NULL};

static void push_row(lua_State *L, const struct metrics_result *res,
		     const struct metrics_column *col, const struct metrics_row *row)
{
	lua_createtable(L, 0, 10);
	set_num(L, "value", row->s.median);
	set_num(L, "min", row->s.min);
	set_num(L, "max", row->s.max);
	set_int(L, "runs", (long long)row->nsamples);
	set_str(L, "unit", row->unit);
	set_str(L, "label", row->label);
	set_str(L, "note", row->note);
	set_str(L, "better", row->better == METRICS_LOWER_BETTER    ? "lower"
			     : row->better == METRICS_HIGHER_BETTER ? "higher"
								    : "neutral");
	double r = metrics_ratio(res, col, row);
	if (isfinite(r))
		set_num(L, "ratio", r);
	lua_createtable(L, (int)row->nsamples, 0);
	for (size_t i = 0; i < row->nsamples; i++) {
		lua_pushnumber(L, row->samples[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "samples");
}

/* One chart of figure key across the columns, through vlab.chart (which
 * checks and emits it). */
static void chart_key(lua_State *L, const struct metrics_result *res, const char *key)
{
	const struct metrics_row *first = NULL;
	for (size_t c = 0; c < res->ncols && !first; c++)
		first = metrics_column_find(&res->cols[c], key);
	if (!first)
		return;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_getfield(L, -1, "chart");
	lua_createtable(L, 0, 4);
	set_str(L, "title", first->label);
	set_str(L, "unit", first->unit);
	set_bool(L, "lower_is_better", first->better == METRICS_LOWER_BETTER);
	lua_createtable(L, (int)res->ncols, 0);
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		const struct metrics_row *row = metrics_column_find(col, key);
		lua_createtable(L, 0, 6);
		set_str(L, "label", col->engine);
		if (row) {
			set_num(L, "value", row->s.median);
			set_num(L, "min", row->s.min);
			set_num(L, "max", row->s.max);
			set_int(L, "runs", (long long)row->nsamples);
			set_str(L, "note", col->emulated ? "emulated" : "");
		} else {
			set_str(L, "note", !col->available ? "cannot run here" : "not measured");
		}
		lua_rawseti(L, -2, (lua_Integer)c + 1);
	}
	lua_setfield(L, -2, "bars");
	lua_call(L, 1, 0);
	lua_pop(L, 1);
}

/* Records the median of every main figure as <prefix>.<engine>.<key>. */
static void record_all(lua_State *L, const struct metrics_result *res, const char *prefix)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	for (size_t c = 0; c < res->ncols; c++)
		for (int k = 0; main_keys[k]; k++) {
			const struct metrics_row *row = metrics_column_find(&res->cols[c], main_keys[k]);
			if (!row || !isfinite(row->s.median))
				continue;
			char name[128];
			snprintf(name, sizeof(name), "%s.%s.%s", prefix, res->cols[c].engine, row->key);
			if (strlen(name) > 63)
				continue;
			lua_getfield(L, -1, "record");
			lua_pushstring(L, name);
			lua_pushnumber(L, row->s.median);
			lua_pushstring(L, row->unit);
			lua_call(L, 3, 0);
		}
	lua_pop(L, 1);
}

static int push_result(lua_State *L, const struct metrics_result *res)
{
	lua_createtable(L, 0, 6);
	set_int(L, "runs", res->runs);
	set_int(L, "warmup", res->warmup);
	set_str(L, "machine", res->machine);
	set_str(L, "when", res->when);
	lua_createtable(L, (int)res->ncols, 0); /* order */
	lua_createtable(L, 0, (int)res->ncols); /* engines */
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		lua_pushstring(L, col->engine);
		lua_rawseti(L, -3, (lua_Integer)c + 1);
		lua_createtable(L, 0, 8);
		set_str(L, "title", col->title[0] ? col->title : col->engine);
		set_bool(L, "available", col->available);
		set_bool(L, "emulated", col->emulated);
		set_str(L, "backend", col->backend);
		set_str(L, "reason", col->reason);
		if (col->error[0])
			set_str(L, "error", col->error);
		lua_createtable(L, 0, (int)col->nrows);
		for (size_t r = 0; r < col->nrows; r++) {
			push_row(L, res, col, &col->rows[r]);
			lua_setfield(L, -2, col->rows[r].key);
		}
		lua_setfield(L, -2, "figures");
		lua_setfield(L, -2, col->engine);
	}
	lua_setfield(L, -3, "engines");
	lua_setfield(L, -2, "order");
	return 1;
}

/* Fills t[] from opts.engines (default: all four) and their specs from
 * opts.options[engine]; the specs are freed by the caller. */
static size_t read_targets(lua_State *L, int opts, struct metrics_target *t)
{
	static const char *const all[] = {"vm", "container", "unikernel", "host", NULL};
	size_t n = 0;
	if (lua_getfield(L, opts, "engines") == LUA_TNIL) {
		for (int i = 0; all[i]; i++)
			t[n++].engine = all[i];
	} else {
		if (!lua_istable(L, -1))
			luaL_error(L, "bad option 'engines' to vlab.bench: a list of engine names");
		int len = (int)luaL_len(L, -1);
		for (int i = 1; i <= len; i++) {
			lua_geti(L, -1, i);
			const char *e = lua_tostring(L, -1);
			int known = 0;
			for (int k = 0; e && all[k]; k++)
				if (!strcmp(all[k], e))
					known = 1, e = all[k];
			if (!known)
				luaL_error(L, "bad option 'engines' to vlab.bench: '%s' is not vm, "
					      "container, unikernel or host",
					   e ? e : luaL_typename(L, -1));
			for (size_t k = 0; k < n; k++)
				if (!strcmp(t[k].engine, e))
					luaL_error(L, "bad option 'engines' to vlab.bench: '%s' is "
						      "named twice",
						   e);
			if (n == MAX_TARGETS)
				luaL_error(L, "bad option 'engines' to vlab.bench: too many");
			t[n++].engine = e;
			lua_pop(L, 1);
		}
		if (!n)
			luaL_error(L, "bad option 'engines' to vlab.bench: name at least one engine");
	}
	lua_pop(L, 1);
	return n;
}

/* opts.options[engine] -> spec options; raises on a bad one (after freeing
 * what it made). */
static void read_specs(lua_State *L, int opts, struct metrics_target *t, struct vlab_spec *specs,
		       size_t n)
{
	int has = lua_getfield(L, opts, "options") == LUA_TTABLE;
	int o = lua_gettop(L);
	for (size_t i = 0; i < n && has; i++) {
		if (lua_getfield(L, o, t[i].engine) != LUA_TTABLE) {
			lua_pop(L, 1);
			continue;
		}
		struct vlab_err err = {0};
		char msg[VLAB_ERR_MSG + 64] = "";
		if (vlab_spec_init(&specs[i], t[i].engine, t[i].engine, &err) < 0) {
			snprintf(msg, sizeof(msg), "%s", err.msg);
		} else {
			t[i].spec = &specs[i];
			lua_pushnil(L);
			while (!msg[0] && lua_next(L, -2)) {
				const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
				const char *v = NULL;
				if (lua_type(L, -1) == LUA_TBOOLEAN)
					v = lua_toboolean(L, -1) ? "on" : "off";
				else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
					v = lua_tostring(L, -1);
				if (!k || !v)
					snprintf(msg, sizeof(msg), "options.%s: a key = string, number or "
								   "boolean expected",
						 t[i].engine);
				else if (vlab_spec_set(&specs[i], k, v, &err) < 0)
					snprintf(msg, sizeof(msg), "options.%s.%s: %s", t[i].engine, k,
						 err.msg);
				lua_pop(L, 1);
			}
			/* Checked now, as vlab.<engine>{} checks its options. */
			const struct vlab_engine *e = vlab_engine_find(t[i].engine);
			if (!msg[0] && e &&
			    ((e->opts && vlab_spec_check(&specs[i], e->opts, &err) < 0) ||
			     (e->validate && e->validate(&specs[i], &err) < 0)))
				snprintf(msg, sizeof(msg), "options.%s: %s", t[i].engine, err.msg);
		}
		if (msg[0]) {
			for (size_t k = 0; k < n; k++)
				if (t[k].spec)
					vlab_spec_free(&specs[k]);
			luaL_error(L, "bad option to vlab.bench: %s", msg);
		}
		lua_pop(L, 1);
	}
	lua_settop(L, o - 1);
}

/* vlab.bench{engines = {...}, metrics = {...} | "all", runs = N, warmup = N,
 * sizes = {cpu =, matrix =, mem =, reps =, disk =, block =, net =, payload =},
 * options = {vm = {memory = "128M"}, ...}, charts = true | false | {keys},
 * record = "prefix", quiet = false}
 * (charts and record: the main figure of each metric, main_keys)
 * Measures as `vlab bench` does (metrics_run) and returns
 * {runs, warmup, machine, when, order = {engines...}, engines = {[e] =
 * {title, available, emulated, backend, reason, error, figures = {[key] =
 * {value, min, max, runs, unit, label, note, better, ratio, samples}}}}}. */
static int l_bench(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	struct metrics_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.runs = opt_uint(L, 1, "runs", 3, 2, 100);
	unsigned warmup = opt_uint(L, 1, "warmup", 1, 0, 10);
	cfg.warmup = warmup ? warmup : METRICS_NO_WARMUP;
	int sizes = lua_getfield(L, 1, "sizes") == LUA_TTABLE ? lua_gettop(L) : 0;
	if (!sizes && !lua_isnil(L, -1))
		return luaL_error(L, "bad option 'sizes' to vlab.bench: a table expected");
	cfg.sizes.cpu_sieve = opt_size(L, sizes, "cpu");
	cfg.sizes.cpu_matrix = (uint32_t)opt_size(L, sizes, "matrix");
	cfg.sizes.mem_bytes = opt_size(L, sizes, "mem");
	cfg.sizes.mem_reps = (uint32_t)opt_size(L, sizes, "reps");
	cfg.sizes.disk_bytes = opt_size(L, sizes, "disk");
	cfg.sizes.disk_block = opt_size(L, sizes, "block");
	cfg.sizes.net_count = (uint32_t)opt_size(L, sizes, "net");
	cfg.sizes.net_payload = (uint32_t)opt_size(L, sizes, "payload");
	lua_settop(L, 1);

	int ty = lua_getfield(L, 1, "metrics");
	if (ty == LUA_TSTRING || ty == LUA_TTABLE) {
		char list[256] = "";
		size_t used = 0;
		int len = ty == LUA_TSTRING ? 1 : (int)luaL_len(L, 2);
		for (int i = 1; i <= len; i++) {
			if (ty == LUA_TTABLE)
				lua_geti(L, 2, i);
			else
				lua_pushvalue(L, 2);
			if (lua_type(L, -1) != LUA_TSTRING)
				return luaL_error(L, "bad option 'metrics' to vlab.bench: a list of "
						     "metric names");
			int w = snprintf(list + used, sizeof(list) - used, "%s%s", i > 1 ? "," : "",
					 lua_tostring(L, -1));
			if (w < 0 || (size_t)w >= sizeof(list) - used)
				return luaL_error(L, "bad option 'metrics' to vlab.bench: too long");
			used += (size_t)w;
			lua_pop(L, 1);
		}
		struct vlab_err err = {0};
		if (metrics_kinds_parse(list, &cfg.kinds, &err) < 0)
			return luaL_error(L, "bad option 'metrics' to vlab.bench: %s", err.msg);
	} else if (ty != LUA_TNIL) {
		return luaL_error(L, "bad option 'metrics' to vlab.bench: a list or \"all\"");
	}
	lua_settop(L, 1);
	int quiet = opt_bool(L, 1, "quiet", 0);
	const char *prefix = NULL;
	if (lua_getfield(L, 1, "record") == LUA_TSTRING)
		prefix = lua_tostring(L, -1); /* stays referenced by the options table */
	else if (!lua_isnil(L, -1))
		return luaL_error(L, "bad option 'record' to vlab.bench: a name prefix expected");
	lua_pop(L, 1);

	struct metrics_target targets[MAX_TARGETS];
	memset(targets, 0, sizeof(targets));
	size_t n = read_targets(L, 1, targets);
	/* The specs live in a userdata so that an error raised later frees
	 * nothing by hand. */
	struct vlab_spec *specs = lua_newuserdatauv(L, sizeof(*specs) * MAX_TARGETS, 0);
	memset(specs, 0, sizeof(*specs) * MAX_TARGETS);
	read_specs(L, 1, targets, specs, n);

	struct bench_ctx ctx = {.L = L, .quiet = quiet};
	ctx.deadline = lesson_sandbox_deadline(lesson_sandbox_of(L));
	ctx.last_ns = vlab_now_ns();
	cfg.targets = targets;
	cfg.ntargets = n;
	cfg.progress = on_progress;
	cfg.progress_arg = &ctx;
	cfg.cancel = &ctx.cancel;
	if (ctx.deadline) {
		uint64_t now = vlab_now_ns();
		uint64_t left = ctx.deadline > now ? (ctx.deadline - now) / 1000000 : 1;
		cfg.ready_timeout_ms = left < 300000 ? (int)left : 300000;
	}

	/* The result lives in a box whose __gc frees it: a Lua error raised
	 * while it is turned into charts and tables leaks nothing. */
	struct metrics_result **box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = NULL;
	luaL_setmetatable(L, RESULT_MT);

	/* The lab's CPU-time backstop must not pass to the instances. */
	struct rlimit saved, open;
	int have = getrlimit(RLIMIT_CPU, &saved) == 0;
	if (have) {
		open = saved;
		open.rlim_cur = saved.rlim_max;
		setrlimit(RLIMIT_CPU, &open);
	}
	struct vlab_err err = {0};
	int rc = metrics_run(&cfg, box, &err);
	if (have)
		setrlimit(RLIMIT_CPU, &saved);
	for (size_t i = 0; i < n; i++)
		if (targets[i].spec)
			vlab_spec_free(&specs[i]);
	if (rc < 0)
		return luaL_error(L, "bad argument #1 to vlab.bench: %s", err.msg);
	const struct metrics_result *res = *box;

	int charts = lua_getfield(L, 1, "charts");
	if (charts == LUA_TNIL || (charts == LUA_TBOOLEAN && lua_toboolean(L, -1))) {
		for (int i = 0; main_keys[i]; i++)
			chart_key(L, res, main_keys[i]);
	} else if (charts == LUA_TTABLE) {
		int len = (int)luaL_len(L, -1);
		for (int i = 1; i <= len; i++) {
			lua_geti(L, -1, i);
			if (lua_type(L, -1) == LUA_TSTRING)
				chart_key(L, res, lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	if (prefix)
		record_all(L, res, prefix);
	push_result(L, res);
	metrics_result_free(*box);
	*box = NULL;
	return 1;
}

static int result_gc(lua_State *L)
{
	struct metrics_result **box = luaL_checkudata(L, 1, RESULT_MT);
	metrics_result_free(*box);
	*box = NULL;
	return 0;
}

void lesson_api_open_measure(lua_State *L, int vlab)
{
	luaL_newmetatable(L, RESULT_MT);
	lua_pushcfunction(L, result_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_doctor);
	lua_setfield(L, vlab, "doctor");
	lua_pushvalue(L, vlab); /* charts and records go through vlab.chart / vlab.record */
	lua_pushcclosure(L, l_bench, 1);
	lua_setfield(L, vlab, "bench");
	/* inst:footprint() beside the instance methods of api_instance.c. */
	luaL_getmetatable(L, "vlab.instance");
	lua_getfield(L, -1, "__index");
	lua_pushcfunction(L, l_footprint);
	lua_setfield(L, -2, "footprint");
	lua_pop(L, 2);
}
