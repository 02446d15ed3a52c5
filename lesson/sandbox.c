/* lesson/sandbox.c: the Lua state lab code runs in (see sandbox.h for
 * what is allowed and why). */
#include "lesson/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/units.h"

#define HOOK_EVERY 1000
#define HOOK_MASK (LUA_MASKCOUNT | LUA_MASKCALL)

enum trip { TRIP_NONE, TRIP_TIME, TRIP_INSNS };

struct lesson_sandbox {
	lua_State *L;
	size_t used, limit;
	int armed;
	uint64_t insns, insn_limit, deadline_ns;
	enum trip tripped;
	char pos[256];
	char tripmsg[400];
};

/* ---- memory ---- */

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lesson_sandbox *sb = ud;
	size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
	if (nsize == 0) {
		free(ptr);
		sb->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > sb->limit - sb->used)
		return NULL; /* over the limit: Lua raises a memory error */
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	sb->used = sb->used - old + nsize;
	return p;
}

struct lesson_sandbox *lesson_sandbox_of(lua_State *L)
{
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

/* ---- positions and hooks ---- */

static void set_pos(struct lesson_sandbox *sb, const lua_Debug *ar)
{
	if (ar->currentline > 0)
		snprintf(sb->pos, sizeof(sb->pos), "%s:%d", ar->short_src, ar->currentline);
}

void lesson_where(lua_State *L, char *buf, size_t len)
{
	lua_Debug ar;
	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
			snprintf(buf, len, "%s:%d", ar.short_src, ar.currentline);
			return;
		}
	}
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	snprintf(buf, len, "%s", sb && sb->pos[0] ? sb->pos : "?");
}

static void hook(lua_State *L, lua_Debug *ar)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	if (ar->event == LUA_HOOKCALL) {
		/* Remember where lab code calls into C: if that C function
		 * overruns, the watchdog can still say which line it was. */
		lua_Debug caller;
		if (lua_getinfo(L, "S", ar) && ar->what[0] == 'C' && lua_getstack(L, 1, &caller) &&
		    lua_getinfo(L, "Sl", &caller))
			set_pos(sb, &caller);
		return;
	}
	if (lua_getinfo(L, "Sl", ar))
		set_pos(sb, ar);
	if (!sb->armed)
		return;
	sb->insns += sb->tripped ? 1 : HOOK_EVERY;
	if (!sb->tripped) {
		if (sb->insns > sb->insn_limit) {
			sb->tripped = TRIP_INSNS;
			snprintf(sb->tripmsg, sizeof(sb->tripmsg),
				 "%s: stopped after %llu million Lua instructions (the limit of one "
				 "action): is there an endless loop?",
				 sb->pos[0] ? sb->pos : "?",
				 (unsigned long long)(sb->insn_limit / 1000000));
		} else if (sb->deadline_ns && vlab_now_ns() > sb->deadline_ns) {
			sb->tripped = TRIP_TIME;
			snprintf(sb->tripmsg, sizeof(sb->tripmsg),
				 "%s: stopped: the action ran past its time limit (is there an "
				 "endless loop?)",
				 sb->pos[0] ? sb->pos : "?");
		}
		if (!sb->tripped)
			return;
	}
	/* From now on every instruction raises, so no pcall can swallow it. */
	lua_sethook(L, hook, HOOK_MASK, 1);
	lua_pushstring(L, sb->tripmsg);
	lua_error(L);
}

void lesson_sandbox_arm(struct lesson_sandbox *sb, uint64_t insns, uint64_t deadline_ns)
{
	sb->insns = 0;
	sb->insn_limit = insns ? insns : LESSON_INSN_LIMIT;
	sb->deadline_ns = deadline_ns;
	sb->tripped = TRIP_NONE;
	sb->armed = 1;
	lua_sethook(sb->L, hook, HOOK_MASK, HOOK_EVERY);
}

void lesson_sandbox_disarm(struct lesson_sandbox *sb)
{
	sb->armed = 0;
	sb->tripped = TRIP_NONE;
	sb->deadline_ns = 0;
	lua_sethook(sb->L, hook, HOOK_MASK, HOOK_EVERY);
}

uint64_t lesson_sandbox_deadline(const struct lesson_sandbox *sb)
{
	return sb->armed ? sb->deadline_ns : 0;
}

const char *lesson_sandbox_position(const struct lesson_sandbox *sb)
{
	return sb->pos;
}

size_t lesson_sandbox_mem_used(const struct lesson_sandbox *sb)
{
	return sb->used;
}

size_t lesson_sandbox_mem_limit(const struct lesson_sandbox *sb)
{
	return sb->limit;
}

/* ---- restricted base functions ---- */

/* load(chunk [, chunkname [, mode [, env]]]): text only. */
static int sb_load(lua_State *L)
{
	int n = lua_gettop(L);
	if (n < 1)
		return luaL_argerror(L, 1, "string or function expected");
	lua_pushvalue(L, lua_upvalueindex(1)); /* the original load */
	lua_pushvalue(L, 1);
	if (n >= 2)
		lua_pushvalue(L, 2);
	else
		lua_pushnil(L);
	lua_pushliteral(L, "t");
	if (n >= 4) {
		lua_pushvalue(L, 4);
		lua_call(L, 4, LUA_MULTRET);
	} else {
		lua_call(L, 3, LUA_MULTRET);
	}
	return lua_gettop(L) - n;
}

/* xpcall's handler, wrapped: when the sandbox's limit tripped, the error
 * comes from the hook, and Lua calls the handler with hooks still off (a
 * looping handler would never stop): answer without running it. */
static int handler_wrap(lua_State *L)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	if (sb->tripped) {
		lua_pushstring(L, sb->tripmsg);
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int sb_xpcall(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, handler_wrap, 1);
	lua_replace(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static int is_protected(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.protected");
	lua_pushvalue(L, idx);
	lua_rawget(L, -2);
	int yes = lua_toboolean(L, -1);
	lua_pop(L, 2);
	return yes;
}

static int sb_setmetatable(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int t = lua_type(L, 2);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		lua_rawget(L, 2);
		if (!lua_isnil(L, -1))
			return luaL_error(L, "setmetatable: __gc is not allowed in labs (finalizers "
					     "cannot be stopped); use a <close> variable instead");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

static int sb_rawset(lua_State *L)
{
	if (is_protected(L, 1))
		return luaL_error(L, "rawset: standard library tables are read-only");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int readonly_newindex(lua_State *L)
{
	const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
	return luaL_error(L, "standard library tables are read-only (cannot set '%s')", key);
}

static int readonly_pairs(lua_State *L)
{
	lua_getglobal(L, "next");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushnil(L);
	return 3;
}

void lesson_sandbox_protect(lua_State *L, const char *name)
{
	if (lua_getglobal(L, name) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	int real = lua_gettop(L);
	lua_newtable(L); /* proxy */
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, real);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, readonly_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushvalue(L, real);
	lua_pushcclosure(L, readonly_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.protected");
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	lua_setglobal(L, name);
	lua_pop(L, 1);
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction f)
{
	lua_getglobal(L, name);
	lua_pushcclosure(L, f, 1);
	lua_setglobal(L, name);
}

static int open_libs(lua_State *L)
{
	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
	luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
	lua_settop(L, 0);

	/* os: only the clocks. */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, LUA_OSLIBNAME);
	int full = lua_gettop(L);
	lua_createtable(L, 0, 3);
	static const char *const keep[] = {"clock", "time", "difftime"};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		lua_getfield(L, full, keep[i]);
		lua_setfield(L, -2, keep[i]);
	}
	lua_setglobal(L, "os");
	/* Nothing else may reach the full libraries. */
	lua_pushnil(L);
	lua_setfield(L, full - 1, LUA_OSLIBNAME);
	lua_settop(L, 0);

	static const char *const drop[] = {"dofile", "loadfile", "collectgarbage", "require",
					    "module"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	/* Strings share one metatable: lock it. */
	lua_pushliteral(L, "");
	if (lua_getmetatable(L, -1)) {
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);

	wrap_global(L, "load", sb_load);
	wrap_global(L, "xpcall", sb_xpcall);
	wrap_global(L, "setmetatable", sb_setmetatable);
	wrap_global(L, "rawset", sb_rawset);

	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "lesson.protected");
	static const char *const libs[] = {"string", "table", "math", "utf8", "coroutine", "os"};
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		lesson_sandbox_protect(L, libs[i]);
	return 0;
}

int lesson_sandbox_new(size_t mem_limit, struct lesson_sandbox **out, struct vlab_err *err)
{
	struct lesson_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return vlab_err_set(err, ENOMEM, "lab sandbox");
	sb->limit = mem_limit ? mem_limit : LESSON_MEM_LIMIT;
	sb->L = lua_newstate(sb_alloc, sb);
	if (!sb->L) {
		free(sb);
		return vlab_err_set(err, ENOMEM, "create the Lua state");
	}
	/* The hook is in place before any code loads. */
	lua_sethook(sb->L, hook, HOOK_MASK, HOOK_EVERY);
	lua_pushcfunction(sb->L, open_libs);
	if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
		vlab_err_set(err, 0, "open the Lua libraries: %s", lua_tostring(sb->L, -1));
		lua_close(sb->L);
		free(sb);
		return -1;
	}
	*out = sb;
	return 0;
}

void lesson_sandbox_free(struct lesson_sandbox *sb)
{
	if (!sb)
		return;
	/* No __gc is ever set by lab code (refused): closing cannot hang on it. */
	lua_close(sb->L);
	free(sb);
}

lua_State *lesson_sandbox_state(struct lesson_sandbox *sb)
{
	return sb->L;
}

/* ---- loading ---- */

int lesson_sandbox_loadstring(struct lesson_sandbox *sb, const char *src, size_t len,
			      const char *chunkname, struct vlab_err *err)
{
	const char *name = chunkname[0] == '@' || chunkname[0] == '=' ? chunkname + 1 : chunkname;
	if (len > 0 && src[0] == LUA_SIGNATURE[0])
		return vlab_err_set(err, 0, "%s:1: a compiled (binary) Lua chunk; labs must be text",
				    name);
	const char *nul = memchr(src, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *p = src; p < nul; p++)
			line += *p == '\n';
		return vlab_err_set(err, 0, "%s:%d: a NUL byte in the lab file (is it a text file?)",
				    name, line);
	}
	char at[300];
	snprintf(at, sizeof(at), "@%s", name);
	int r = luaL_loadbufferx(sb->L, src, len, at, "t");
	if (r != LUA_OK) {
		vlab_err_set(err, 0, "%s", lua_tostring(sb->L, -1));
		lua_pop(sb->L, 1);
		return -1;
	}
	return 0;
}

int lesson_sandbox_loadfile(struct lesson_sandbox *sb, const char *path, const char *chunkname,
			    char sha256_hex[65], struct vlab_err *err)
{
	const char *name = chunkname ? chunkname : path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "%s", name);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		vlab_err_set(err, errno, "%s", name);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return vlab_err_set(err, 0, "%s: not a regular file", name);
	}
	if ((uint64_t)st.st_size > LESSON_LAB_MAX_BYTES) {
		char a[32], b[32];
		close(fd);
		return vlab_err_set(err, 0, "%s:1: the lab file is %s, over the %s limit for a lab",
				    name, vlab_fmt_bytes((uint64_t)st.st_size, a, sizeof(a)),
				    vlab_fmt_bytes(LESSON_LAB_MAX_BYTES, b, sizeof(b)));
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return vlab_err_set(err, ENOMEM, "%s", name);
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;
			free(buf);
			close(fd);
			return vlab_err_set(err, e, "%s: read%s", name, e ? "" : ": file shrank");
		}
		got += (size_t)n;
	}
	close(fd);
	if (sha256_hex) {
		struct sha256_ctx ctx;
		uint8_t digest[SHA256_DIGEST_SIZE];
		sha256_init(&ctx);
		sha256_update(&ctx, len, (const uint8_t *)buf);
		sha256_digest(&ctx, sizeof(digest), digest);
		for (size_t i = 0; i < sizeof(digest); i++)
			snprintf(sha256_hex + 2 * i, 3, "%02x", digest[i]);
	}
	int r = lesson_sandbox_loadstring(sb, buf, len, name, err);
	free(buf);
	return r;
}

/* ---- calling ---- */

static int starts_with_position(const char *msg)
{
	/* "name:123:" */
	const char *c = strchr(msg, ':'), *nl = strchr(msg, '\n');
	if (!c || c == msg || (nl && nl < c))
		return 0;
	const char *d = c + 1;
	while (*d >= '0' && *d <= '9')
		d++;
	return d > c + 1 && *d == ':';
}

static int msgh(lua_State *L)
{
	struct lesson_sandbox *sb = lesson_sandbox_of(L);
	if (sb->tripped) {
		lua_pushstring(L, sb->tripmsg);
		return 1;
	}
	const char *msg;
	if (lua_type(L, 1) == LUA_TSTRING)
		msg = lua_tostring(L, 1);
	else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
		msg = lua_tostring(L, -1);
	else
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	if (!starts_with_position(msg)) {
		char where[300];
		lesson_where(L, where, sizeof(where));
		msg = lua_pushfstring(L, "%s: %s", where, msg);
	}
	lua_pushstring(L, msg);
	return 1;
}

int lesson_sandbox_pcall(struct lesson_sandbox *sb, int nargs, int nresults,
			 struct vlab_err *err)
{
	lua_State *L = sb->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	int r = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (r == LUA_OK && !sb->tripped)
		return 0;
	char a[32];
	if (sb->tripped) {
		vlab_err_set(err, 0, "%s", sb->tripmsg);
		if (err)
			err->code = ETIMEDOUT;
	} else if (r == LUA_ERRMEM) {
		vlab_err_set(err, 0, "%s: out of memory: labs may use at most %s",
			     sb->pos[0] ? sb->pos : "?", vlab_fmt_bytes(sb->limit, a, sizeof(a)));
		if (err)
			err->code = ENOMEM;
	} else
		vlab_err_set(err, 0, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
									  : "unknown error");
	if (r != LUA_OK)
		lua_pop(L, 1);
	else
		lua_pop(L, nresults == LUA_MULTRET ? lua_gettop(L) - base + 1 : nresults);
	return -1;
}
