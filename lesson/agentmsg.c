/* lesson/agentmsg.c: agent requests and responses as Lua values (the
 * escaping rules of docs/agent-protocol.md). */
#include "lesson/agentmsg.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%' && c != '=';
}

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
	static const char hex[] = "0123456789ABCDEF";
	char num[64];
	size_t need = strlen(verb) + 1, len;
	/* First pass: check everything (may raise), size the line. */
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
			need += 2 + lua_rawlen(L, -2) + 3 * len;
			lua_pop(L, 1);
		}
	}
	char *out = malloc(need);
	if (!out)
		luaL_error(L, "out of memory");
	size_t n = (size_t)snprintf(out, need, "%s", verb);
	if (args) {
		lua_pushnil(L);
		while (lua_next(L, args)) {
			size_t klen;
			const char *k = lua_tolstring(L, -2, &klen);
			const char *v = arg_text(L, num, sizeof(num), &len);
			out[n++] = ' ';
			memcpy(out + n, k, klen);
			n += klen;
			out[n++] = '=';
			for (size_t i = 0; i < len; i++) {
				unsigned char c = (unsigned char)v[i];
				if (plain(c)) {
					out[n++] = (char)c;
				} else {
					out[n++] = '%';
					out[n++] = hex[c >> 4];
					out[n++] = hex[c & 15];
				}
			}
			lua_pop(L, 1);
		}
	}
	out[n] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
	static const char *const names[] = {"exit_code", "signal", "cpus", "mem", "pid", "t",
					    NULL};
	for (int i = 0; suffixes[i]; i++)
		if (ends_with(k, len, suffixes[i]))
			return 1;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !memcmp(k, names[i], len))
			return 1;
	return 0;
}

static int flag_key(const char *k, size_t len)
{
	return ends_with(k, len, "_truncated") || (len == 9 && !memcmp(k, "timed_out", 9)) ||
	       (len == 2 && !memcmp(k, "ok", 2));
}

/* Pushes one value, unescaped and typed by its key. */
static int push_value(lua_State *L, const char *k, size_t klen, const char *v, size_t vlen)
{
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, vlen + 1);
	size_t n = 0;
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] == '%') {
			int h = i + 2 < vlen ? hexval(v[i + 1]) : -1;
			int l = i + 2 < vlen ? hexval(v[i + 2]) : -1;
			if (h < 0 || l < 0) {
				luaL_pushresultsize(&b, 0);
				lua_pop(L, 1);
				return -1;
			}
			out[n++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[n++] = v[i];
		}
	}
	luaL_pushresultsize(&b, n);
	if (numeric_key(k, klen)) {
		const char *s = lua_tostring(L, -1);
		char *end;
		double d = strtod(s, &end);
		if (end != s && !*end && isfinite(d)) {
			lua_pop(L, 1);
			long long ll = strtoll(s, &end, 10);
			if (!*end)
				lua_pushinteger(L, (lua_Integer)ll);
			else
				lua_pushnumber(L, d);
		}
	} else if (flag_key(k, klen)) {
		const char *s = lua_tostring(L, -1);
		if (!strcmp(s, "yes") || !strcmp(s, "no")) {
			int yes = s[0] == 'y';
			lua_pop(L, 1);
			lua_pushboolean(L, yes);
		}
	}
	return 0;
}

int lesson_agent_push_response(lua_State *L, const char *resp, char *msg, size_t len)
{
	if (!strncmp(resp, "err", 3) && (resp[3] == ' ' || !resp[3])) {
		const char *code = resp[3] ? resp + 4 : "";
		size_t clen = strcspn(code, " ");
		const char *text = code[clen] ? code + clen + 1 : "";
		snprintf(msg, len, "%.*s: %s", (int)clen, code, text[0] ? text : "(no message)");
		return 0;
	}
	if (strncmp(resp, "ok", 2) || (resp[2] != ' ' && resp[2])) {
		snprintf(msg, len, "malformed agent response '%.60s'", resp);
		return -1;
	}
	lua_newtable(L);
	const char *p = resp + 2;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t wlen = strcspn(p, " ");
		const char *eq = memchr(p, '=', wlen);
		if (!eq || eq == p) {
			lua_pop(L, 1);
			snprintf(msg, len, "malformed agent response word '%.*s'", (int)wlen, p);
			return -1;
		}
		size_t klen = (size_t)(eq - p);
		lua_pushlstring(L, p, klen);
		if (push_value(L, p, klen, eq + 1, wlen - klen - 1) < 0) {
			lua_pop(L, 2);
			snprintf(msg, len, "malformed escape in agent response word '%.*s'",
				 (int)wlen, p);
			return -1;
		}
		lua_rawset(L, -3);
		p += wlen;
	}
	return 1;
}
