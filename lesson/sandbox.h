/* lesson/sandbox.h: a Lua 5.4 state that lab code cannot escape or hang.
 *
 * - Libraries: base (without dofile, loadfile, collectgarbage; `load` only
 *   takes text and runs in the sandbox), string (without dump), table,
 *   math, utf8, coroutine, and os.clock/os.time/os.difftime.  No io, debug,
 *   package, require.  The library tables are read-only and the string
 *   metatable is locked; setmetatable refuses __gc (finalizers run with
 *   hooks off, so a looping one would hang).
 * - Limits: memory through a counting lua_Alloc; an instruction count and a
 *   wall-clock deadline checked by a count hook installed before any code
 *   loads (coroutines inherit it).  Once the limit is hit the hook fires on
 *   every instruction, so `while true do pcall(f) end` cannot swallow the
 *   error.  The hook cannot fire inside a C function (a pathological
 *   string.find): the caller keeps a process-level backstop (the lab
 *   runner's alarm, the session's watchdog), for which the sandbox keeps the
 *   lab position last seen (lesson_sandbox_position).
 * - Errors name the lab file and line: "labs/x.lua:12: message". */
#ifndef VLAB_LESSON_SANDBOX_H
#define VLAB_LESSON_SANDBOX_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define LESSON_MEM_LIMIT (64u << 20)            /* bytes of Lua heap */
#define LESSON_INSN_LIMIT 2000000000ull         /* VM instructions per action */
#define LESSON_LAB_MAX_BYTES (1u << 20)         /* a lab file */

struct lesson_sandbox;

/* A fresh state with the sandbox's libraries and limits.  Limits are off
 * (no deadline) until lesson_sandbox_arm(). */
int lesson_sandbox_new(size_t mem_limit, struct lesson_sandbox **out, struct vlab_err *err);
void lesson_sandbox_free(struct lesson_sandbox *sb);
lua_State *lesson_sandbox_state(struct lesson_sandbox *sb);
/* The sandbox of a state (or one of its coroutines). */
struct lesson_sandbox *lesson_sandbox_of(lua_State *L);

/* Starts limits for one action: at most insns VM instructions, until
 * deadline_ns (CLOCK_MONOTONIC; 0: none). */
void lesson_sandbox_arm(struct lesson_sandbox *sb, uint64_t insns, uint64_t deadline_ns);
void lesson_sandbox_disarm(struct lesson_sandbox *sb);
/* The armed deadline (0 when none). */
uint64_t lesson_sandbox_deadline(const struct lesson_sandbox *sb);

/* Reads a lab file and pushes it as a function.  Refuses files over
 * LESSON_LAB_MAX_BYTES, NUL bytes and binary chunks with "file:line:"
 * errors.  chunkname is how errors name the file.  When sha256_hex is not
 * NULL it receives the SHA-256 of the bytes loaded. */
int lesson_sandbox_loadfile(struct lesson_sandbox *sb, const char *path, const char *chunkname,
			    char sha256_hex[65], struct vlab_err *err);
/* Loads text (tests, `load`): pushes the function. */
int lesson_sandbox_loadstring(struct lesson_sandbox *sb, const char *src, size_t len,
			      const char *chunkname, struct vlab_err *err);

/* lua_pcall with a handler that keeps "file:line: message" and notes
 * timeouts and memory exhaustion with the lab position.  On error err holds
 * the message (and returns -1); the Lua stack is back to its level before
 * the function and arguments. */
int lesson_sandbox_pcall(struct lesson_sandbox *sb, int nargs, int nresults,
			 struct vlab_err *err);

/* "file:line" of the lab code last seen running (updated by the hooks,
 * also on every call into C), "" before any. */
const char *lesson_sandbox_position(const struct lesson_sandbox *sb);
/* Bytes of Lua heap in use, and the limit. */
size_t lesson_sandbox_mem_used(const struct lesson_sandbox *sb);
size_t lesson_sandbox_mem_limit(const struct lesson_sandbox *sb);

/* Replaces global name (a table) with a read-only proxy (pairs works). */
void lesson_sandbox_protect(lua_State *L, const char *name);

/* Pushes "file:line" of the lab code calling the running C function (level
 * 1), or of the innermost Lua function when level 1 is not Lua. */
void lesson_where(lua_State *L, char *buf, size_t len);

#endif
