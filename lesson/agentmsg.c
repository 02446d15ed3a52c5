/* lesson/agentmsg.c: agent requests and responses as Lua values (the
 * escaping rules of docs/agent-protocol.md). */
#include "lesson/agentmsg.h"

#include "workloads/proto.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_key(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
		      *k == '.'))
			return 0;
	return 1;
}

/* The text of the value at the top of the stack, for a request. */
static const char *arg_text(lua_State *L, char *num, size_t numlen, size_t *len)
{
	switch (lua_type(L, -1)) {
	case LUA_TSTRING:
		return lua_tolstring(L, -1, len);
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1))
			snprintf(num, numlen, "%lld", (long long)lua_tointeger(L, -1));
		else
			snprintf(num, numlen, "%.17g", lua_tonumber(L, -1));
		*len = strlen(num);
		return num;
	case LUA_TBOOLEAN:
		*len = lua_toboolean(L, -1) ? 3 : 2;
		return lua_toboolean(L, -1) ? "yes" : "no";
	default:
		return NULL;
	}
}

char *lesson_agent_request(lua_State *L, const char *verb, int args, int argn)
{
	char num[64];
	size_t len;
	/* First pass: check everything (may raise). */
	if (args) {
		lua_pushnil(L);
		while (lua_next(L, args)) {
			if (lua_type(L, -2) != LUA_TSTRING || !valid_key(lua_tostring(L, -2)))
				luaL_argerror(L, argn, "argument names must be strings of [a-z0-9_.-]");
			if (!arg_text(L, num, sizeof(num), &len))
				luaL_argerror(L, argn,
					      lua_pushfstring(L, "'%s' is a %s; use a string, number "
								 "or boolean",
							      lua_tostring(L, -2), luaL_typename(L, -1)));
			lua_pop(L, 1);
		}
	}
	char *buf = malloc(VLAB_PROTO_LINE_MAX + 1);
	if (!buf)
		luaL_error(L, "out of memory");
	struct vlab_proto_out o;
	vlab_proto_out_init(&o, buf, VLAB_PROTO_LINE_MAX + 1);
	vlab_proto_put_word(&o, verb);
	if (args) {
		lua_pushnil(L);
		while (lua_next(L, args)) {
			const char *v = arg_text(L, num, sizeof(num), &len);
			vlab_proto_put_mem(&o, lua_tostring(L, -2), v, len);
			lua_pop(L, 1);
		}
	}
	if (o.overflow) {
		free(buf);
		luaL_argerror(L, argn, "the request is longer than the agent protocol allows");
	}
	return buf;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && !memcmp(s + len - n, suffix, n);
}

static int numeric_key(const char *k, size_t len)
{
	static const char *const suffixes[] = {"_ns", "_ms", "_bytes", "_ops", "_per_s",
					       "_mbps", "_count", NULL};
	static const char *const names[] = {"exit_code", "signal", "port", "pid", "fp_checksum",
					    NULL};
	for (int i = 0; suffixes[i]; i++)
		if (ends_with(k, len, suffixes[i]))
			return 1;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !memcmp(k, names[i], len))
			return 1;
	return 0;
}

/* Values that are text even when they read "yes". */
static int text_key(const char *k)
{
	static const char *const names[] = {"stdout", "stderr", "cmd", "hostname", "kernel",
					    "kernel_version", "target", "cpu_model", NULL};
	for (int i = 0; names[i]; i++)
		if (!strcmp(k, names[i]))
			return 1;
	return 0;
}

/* Pushes one value, typed by its key. */
static void push_value(lua_State *L, const struct vlab_proto_kv *kv)
{
	size_t klen = strlen(kv->key);
	int64_t i;
	double d;
	int b;
	if (numeric_key(kv->key, klen)) {
		if (vlab_proto_parse_i64(kv->value, &i) == 0) {
			lua_pushinteger(L, (lua_Integer)i);
			return;
		}
		if (vlab_proto_parse_f64(kv->value, &d) == 0) {
			lua_pushnumber(L, d);
			return;
		}
	} else if (!text_key(kv->key) && (!strcmp(kv->value, "yes") || !strcmp(kv->value, "no")) &&
		   vlab_proto_parse_bool(kv->value, &b) == 0) {
		lua_pushboolean(L, b);
		return;
	}
	lua_pushlstring(L, kv->value, kv->value_len);
}

void lesson_agent_push_reply(lua_State *L, const struct vlab_proto_msg *m)
{
	lua_createtable(L, 0, (int)m->n);
	for (size_t i = 0; i < m->n; i++) {
		push_value(L, &m->kv[i]);
		lua_setfield(L, -2, m->kv[i].key);
	}
}
