/* lesson/api_instance.c: instances for lab code: vlab.vm{...},
 * vlab.container{...}, vlab.unikernel{...} and vlab.host{...} make a
 * userdata over a struct vlab_instance (engines/engine.h), with start,
 * stop, exec, run, request, stats, console, and __gc/__close that stop it.
 *
 * No engine logic here: the options table becomes spec key/values that the
 * engine checks; requests go through vlab_instance_request().  Expected
 * failures (engine unavailable, instance died, agent said err) return
 * nil, message; misuse (wrong types, unknown options) raises an error
 * naming the argument.  Every change is emitted to the front end as an
 * "instance" message; the first after start carries the console socket,
 * a pidfd and the counter page. */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "engines/engine.h"
#include "lesson/agentmsg.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"
#include "workloads/client.h"

#define INST_MT "vlab.instance"
#define DEFAULT_READY_MS 60000
#define DEFAULT_REQUEST_MS 30000

struct linst {
	struct vlab_instance *inst; /* NULL once closed */
	int id;
	int fds_sent;
	struct linst *next; /* every live one, to close them at the end */
};


/* Milliseconds left for this action (min with want_ms). */
static int budget_ms(lua_State *L, int want_ms)
{
	uint64_t dl = lesson_sandbox_deadline(lesson_sandbox_of(L));
	if (!dl)
		return want_ms;
	uint64_t now = vlab_now_ns();
	int left = now >= dl ? 1 : (int)((dl - now) / 1000000);
	return left < want_ms ? (left > 0 ? left : 1) : want_ms;
}

static int opt_ms(lua_State *L, int idx, int def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	double s = luaL_checknumber(L, idx);
	luaL_argcheck(L, isfinite(s) && s > 0 && s <= 3600, idx, "seconds between 0 and 3600");
	return (int)(s * 1000);
}

static void emit_instance(lua_State *L, struct linst *li, int gone)
{
	struct vlab_instance *in = li->inst;
	json_t *m = json_object();
	json_object_set_new(m, "t", json_string("instance"));
	json_object_set_new(m, "id", json_integer(li->id));
	json_object_set_new(m, "gone", json_boolean(gone));
	if (!in) {
		lesson_api_emit(L, m, NULL, 0);
		json_decref(m);
		return;
	}
	json_object_set_new(m, "name", json_string(vlab_instance_name(in)));
	json_object_set_new(m, "engine", json_string(vlab_instance_engine(in)->name));
	json_object_set_new(m, "state", json_string(vlab_state_name(vlab_instance_state(in))));
	json_object_set_new(m, "pid", json_integer(vlab_instance_pid(in)));
	json_object_set_new(m, "startup_ns", json_integer((json_int_t)vlab_instance_startup_ns(in)));
	const char *e = vlab_instance_error(in);
	json_object_set_new(m, "error", lesson_json_text(e, strlen(e)));
	json_t *ph = json_array();
	const struct vlab_phase *p;
	size_t n = vlab_instance_phases(in, &p);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ph, json_pack("[sI]", p[i].name, (json_int_t)p[i].ns));
	json_object_set_new(m, "phases", ph);
	json_t *attrs = json_object();
	for (size_t i = 0; i < vlab_instance_attr_count(in); i++) {
		const char *v, *k = vlab_instance_attr_at(in, i, &v);
		json_object_set_new(attrs, k, lesson_json_text(v, strlen(v)));
	}
	json_object_set_new(m, "attrs", attrs);
	int fds[3];
	size_t nfds = 0;
	if (!li->fds_sent && vlab_instance_pid(in) > 0) {
		json_t *names = json_array();
		int c = vlab_instance_console_fd(in), pfd = vlab_instance_pidfd(in),
		    cfd = vlab_instance_counters_fd(in);
		if (c >= 0)
			fds[nfds++] = c, json_array_append_new(names, json_string("console"));
		if (pfd >= 0)
			fds[nfds++] = pfd, json_array_append_new(names, json_string("pidfd"));
		if (cfd >= 0)
			fds[nfds++] = cfd, json_array_append_new(names, json_string("counters"));
		json_object_set_new(m, "fds", names);
		li->fds_sent = 1;
	}
	lesson_api_emit(L, m, fds, nfds);
	json_decref(m);
}

static struct linst *check_inst(lua_State *L, int idx)
{
	struct linst *li = luaL_checkudata(L, idx, INST_MT);
	if (!li->inst)
		luaL_argerror(L, idx, "the instance was closed");
	return li;
}

static void close_inst(lua_State *L, struct linst *li)
{
	if (!li->inst)
		return;
	vlab_instance_stop(li->inst, 1000, NULL);
	vlab_instance_free(li->inst);
	li->inst = NULL;
	struct lesson_api *api = lesson_api_of(L);
	for (struct linst **pp = (struct linst **)&api->live; *pp; pp = &(*pp)->next)
		if (*pp == li) {
			*pp = li->next;
			break;
		}
	emit_instance(L, li, 1);
}

static int l_gc(lua_State *L)
{
	close_inst(L, luaL_checkudata(L, 1, INST_MT));
	return 0;
}

/* Option value at the top of the stack as spec text (lists join with ','). */
static const char *opt_text(lua_State *L, const char *key, const char *ctor)
{
	char num[64];
	switch (lua_type(L, -1)) {
	case LUA_TSTRING:
		return lua_tostring(L, -1);
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1))
			snprintf(num, sizeof(num), "%lld", (long long)lua_tointeger(L, -1));
		else
			snprintf(num, sizeof(num), "%.17g", lua_tonumber(L, -1));
		lua_pushstring(L, num);
		lua_replace(L, -2);
		return lua_tostring(L, -1);
	case LUA_TBOOLEAN:
		lua_pushstring(L, lua_toboolean(L, -1) ? "on" : "off");
		lua_replace(L, -2);
		return lua_tostring(L, -1);
	case LUA_TTABLE: {
		luaL_Buffer b;
		int t = lua_gettop(L);
		int n = (int)luaL_len(L, t);
		luaL_buffinit(L, &b);
		for (int i = 1; i <= n; i++) {
			if (lua_geti(L, t, i) != LUA_TSTRING && !lua_isnumber(L, -1))
				luaL_error(L, "bad option '%s' to %s: a list of strings expected",
					   key, ctor);
			if (i > 1)
				luaL_addchar(&b, ',');
			luaL_addvalue(&b);
		}
		luaL_pushresult(&b);
		lua_replace(L, t);
		return lua_tostring(L, -1);
	}
	default:
		luaL_error(L, "bad option '%s' to %s: a %s is not an option value", key, ctor,
			   luaL_typename(L, -1));
		return NULL;
	}
}

/* vlab.<engine>{opts}: upvalue 1 is the engine name. */
static int l_new(lua_State *L)
{
	const char *engine = lua_tostring(L, lua_upvalueindex(1));
	char ctor[48];
	snprintf(ctor, sizeof(ctor), "vlab.%s", engine);
	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	struct lesson_api *api = lesson_api_of(L);

	/* Can this host run it at all?  Say why not, in the doctor's words. */
	const struct vlab_engine *e = vlab_engine_find(engine);
	if (!e) {
		lua_pushnil(L);
		lua_pushfstring(L, "the %s engine is not part of this vlab build yet", engine);
		return 2;
	}
	struct vlab_avail av = {0};
	e->probe(&av);
	if (av.level == VLAB_AVAIL_NO) {
		lua_pushnil(L);
		lua_pushfstring(L, "the %s engine cannot run here: %s", engine, av.reason);
		return 2;
	}

	struct vlab_spec spec;
	struct vlab_err err = {0};
	char name[VLAB_NAME_MAX + 1];
	int id = ++api->next_instance;
	snprintf(name, sizeof(name), "%s-%d", engine, id);
	if (!lua_isnoneornil(L, 1) && lua_getfield(L, 1, "name") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "bad option 'name' to %s: a string expected", ctor);
		snprintf(name, sizeof(name), "%s", lua_tostring(L, -1));
	}
	lua_settop(L, 1);
	/* Every value is checked (and may raise) before the spec holds memory. */
	if (!lua_isnoneornil(L, 1)) {
		lua_pushnil(L);
		while (lua_next(L, 1)) {
			if (lua_type(L, -2) != LUA_TSTRING)
				return luaL_error(L, "bad argument #1 to %s: option names must be "
						     "strings",
						  ctor);
			opt_text(L, lua_tostring(L, -2), ctor);
			lua_pop(L, 1);
		}
	}
	/* The userdata before any C allocation: a memory error raised while
	 * making it leaks nothing. */
	struct linst *li = lua_newuserdatauv(L, sizeof(*li), 0);
	memset(li, 0, sizeof(*li));
	luaL_setmetatable(L, INST_MT);
	lua_insert(L, 2);
	if (vlab_spec_init(&spec, engine, name, &err) < 0)
		return luaL_error(L, "bad option 'name' to %s: %s", ctor, err.msg);
	if (!lua_isnoneornil(L, 1)) {
		lua_pushnil(L);
		while (lua_next(L, 1)) {
			const char *key = lua_tostring(L, -2);
			if (strcmp(key, "name") &&
			    vlab_spec_set(&spec, key, opt_text(L, key, ctor), &err) < 0) {
				char msg[VLAB_ERR_MSG];
				snprintf(msg, sizeof(msg), "%s", err.msg);
				vlab_spec_free(&spec);
				return luaL_error(L, "bad option '%s' to %s: %s", key, ctor, msg);
			}
			lua_pop(L, 1);
		}
	}
	int r = vlab_instance_create(&spec, &li->inst, &err);
	vlab_spec_free(&spec);
	if (r < 0)
		return luaL_error(L, "bad argument #1 to %s: %s", ctor, err.msg);
	li->id = id;
	li->next = api->live;
	api->live = li;
	emit_instance(L, li, 0);
	lua_settop(L, 2);
	return 1;
}

static int fail(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(lua_State *L, const char *fmt, ...)
{
	char msg[VLAB_ERR_MSG + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* inst:start([timeout_s]): starts and waits for the agent's READY. */
static int l_start(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	int ms = budget_ms(L, opt_ms(L, 2, DEFAULT_READY_MS));
	struct vlab_err err = {0};
	if (vlab_instance_state(li->inst) == VLAB_STATE_CREATED) {
		/* The lab's CPU-time backstop must not pass to the instance. */
		struct rlimit saved, open;
		int have = getrlimit(RLIMIT_CPU, &saved) == 0;
		if (have) {
			open = saved;
			open.rlim_cur = saved.rlim_max;
			setrlimit(RLIMIT_CPU, &open);
		}
		int r = vlab_instance_start(li->inst, &err);
		if (have)
			setrlimit(RLIMIT_CPU, &saved);
		emit_instance(L, li, 0);
		if (r < 0)
			return fail(L, "%s", err.msg);
	}
	int r = vlab_instance_wait_ready(li->inst, ms, &err);
	emit_instance(L, li, 0);
	if (r < 0)
		return fail(L, "%s", err.msg);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_stop(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	int ms = budget_ms(L, opt_ms(L, 2, 2000));
	struct vlab_err err = {0};
	int r = vlab_instance_stop(li->inst, ms, &err);
	emit_instance(L, li, 0);
	if (r < 0)
		return fail(L, "%s", err.msg);
	lua_pushboolean(L, 1);
	return 1;
}

/* Sends verb + args (index, may be 0) and pushes the answer's table, or
 * nil and the agent's (or the instance's) error. */
static int do_request(lua_State *L, struct linst *li, const char *verb, int args, int argn,
		      int timeout_ms)
{
	char *req = lesson_agent_request(L, verb, args, argn);
	struct vlab_agent_reply reply;
	struct vlab_err err = {0};
	int r = vlab_agent_call(li->inst, req, budget_ms(L, timeout_ms), &reply, &err);
	free(req);
	vlab_instance_pump(li->inst, NULL);
	if (r < 0) {
		emit_instance(L, li, 0);
		return fail(L, "%s", err.msg);
	}
	lesson_agent_push_reply(L, &reply.msg);
	vlab_agent_reply_free(&reply);
	return 1;
}

static int valid_verb(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '-' || *v == '_'))
			return 0;
	return 1;
}

/* inst:request(verb, {args}) / inst:run(workload, {args}): one agent
 * request; the response's keys as a table. */
static int l_request(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	const char *verb = luaL_checkstring(L, 2);
	luaL_argcheck(L, valid_verb(verb), 2, "a verb of [a-z0-9_-]");
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	int timeout = opt_ms(L, 4, DEFAULT_REQUEST_MS);
	return do_request(L, li, verb, lua_isnoneornil(L, 3) ? 0 : 3, 3, timeout);
}

/* inst:exec(cmd [, timeout_s]): a shell command in the guest (Linux guests). */
static int l_exec(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	luaL_checkstring(L, 2);
	int timeout = opt_ms(L, 3, 10000);
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, "cmd");
	lua_pushinteger(L, timeout);
	lua_setfield(L, -2, "timeout_ms");
	return do_request(L, li, "exec", lua_gettop(L), 2, timeout + 5000);
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

/* inst:stats(): what the host sees of the instance right now. */
static int l_stats(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	struct vlab_instance *in = li->inst;
	vlab_instance_pump(in, NULL);
	lua_newtable(L);
	set_str(L, "name", vlab_instance_name(in));
	set_str(L, "engine", vlab_instance_engine(in)->name);
	set_str(L, "state", vlab_state_name(vlab_instance_state(in)));
	set_int(L, "pid", vlab_instance_pid(in));
	uint64_t su = vlab_instance_startup_ns(in);
	if (su) {
		lua_pushnumber(L, (double)su / 1e6);
		lua_setfield(L, -2, "startup_ms");
	}
	const char *be = vlab_instance_attr(in, "backend");
	set_str(L, "backend", be ? be : "");
	const char *em = vlab_instance_attr(in, "emulated");
	lua_pushboolean(L, em && !strcmp(em, "yes"));
	lua_setfield(L, -2, "emulated");
	const char *ib = vlab_instance_attr(in, "image_bytes");
	if (ib)
		set_int(L, "image_bytes", strtoll(ib, NULL, 10));
	const char *e = vlab_instance_error(in);
	if (e[0])
		set_str(L, "error", e);
	const struct vlab_phase *p;
	size_t n = vlab_instance_phases(in, &p);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		set_str(L, "name", p[i].name);
		lua_pushnumber(L, (double)p[i].ns / 1e6);
		lua_setfield(L, -2, "ms");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "phases");
	lua_newtable(L);
	const struct vlab_counters *cs = vlab_instance_counters(in);
	if (cs) {
		struct vlab_counter snap[VLAB_COUNTERS_MAX];
		size_t k = vlab_counters_snapshot(cs, snap, VLAB_COUNTERS_MAX);
		for (size_t i = 0; i < k; i++) {
			lua_pushinteger(L, (lua_Integer)snap[i].value);
			lua_setfield(L, -2, snap[i].name);
		}
	}
	lua_setfield(L, -2, "counters");
	lua_newtable(L);
	for (size_t i = 0; i < vlab_instance_attr_count(in); i++) {
		const char *v, *k = vlab_instance_attr_at(in, i, &v);
		set_str(L, k, v);
	}
	lua_setfield(L, -2, "attrs");
	return 1;
}

/* inst:console() -> the console's recent output; inst:console(text)
 * types text into it. */
static int l_console(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	if (!lua_isnoneornil(L, 2)) {
		size_t len;
		const char *s = luaL_checklstring(L, 2, &len);
		int fd = vlab_instance_console_fd(li->inst);
		if (fd < 0)
			return fail(L, "%s has no console (not started)", vlab_instance_name(li->inst));
		struct vlab_err err = {0};
		if (vlab_write_all(fd, s, len, budget_ms(L, 2000), &err) < 0)
			return fail(L, "%s console: %s", vlab_instance_name(li->inst), err.msg);
		lua_pushboolean(L, 1);
		return 1;
	}
	struct lesson_api *api = lesson_api_of(L);
	json_t *q = json_pack("{s:s, s:s, s:i}", "t", "ask", "what", "console", "id", li->id);
	json_t *a = api->host.ask ? api->host.ask(api->host.arg, q) : NULL;
	json_decref(q);
	const char *text = a ? json_string_value(json_object_get(a, "data")) : NULL;
	lua_pushstring(L, text ? text : "");
	json_decref(a);
	return 1;
}

static int l_tostring(lua_State *L)
{
	struct linst *li = luaL_checkudata(L, 1, INST_MT);
	if (!li->inst)
		lua_pushliteral(L, "instance (closed)");
	else
		lua_pushfstring(L, "%s '%s' (%s)", vlab_instance_engine(li->inst)->name,
				vlab_instance_name(li->inst),
				vlab_state_name(vlab_instance_state(li->inst)));
	return 1;
}

static int l_name(lua_State *L)
{
	lua_pushstring(L, vlab_instance_name(check_inst(L, 1)->inst));
	return 1;
}

static int l_state(lua_State *L)
{
	struct linst *li = check_inst(L, 1);
	vlab_instance_pump(li->inst, NULL);
	lua_pushstring(L, vlab_state_name(vlab_instance_state(li->inst)));
	return 1;
}

void lesson_api_open_instances(lua_State *L, int vlab)
{
	static const luaL_Reg methods[] = {
		{"start", l_start},     {"stop", l_stop},   {"exec", l_exec},
		{"request", l_request}, {"run", l_request}, {"stats", l_stats},
		{"console", l_console}, {"name", l_name},   {"state", l_state},
		{"close", l_gc},        {NULL, NULL},
	};
	luaL_newmetatable(L, INST_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_gc);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, l_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
	static const char *const engines[] = {"vm", "container", "unikernel", "host", NULL};
	for (int i = 0; engines[i]; i++) {
		lua_pushstring(L, engines[i]);
		lua_pushcclosure(L, l_new, 1);
		lua_setfield(L, vlab, engines[i]);
	}
}

void lesson_api_close_instances(lua_State *L)
{
	struct lesson_api *api = lesson_api_of(L);
	while (api->live)
		close_inst(L, api->live);
}

struct vlab_instance *lesson_api_instance(lua_State *L, int idx)
{
	struct linst *li = luaL_testudata(L, idx, INST_MT);
	return li ? li->inst : NULL;
}
