/* lesson/agentmsg.h: agent requests and responses as Lua values.
 *
 * A request is built from a verb and a Lua table of arguments; a response
 * ("ok k=v ..." or "err code text", as vlab_instance_request() returns it)
 * becomes a Lua table.  Values are %-escaped as docs/agent-protocol.md
 * says.  A value becomes a Lua number when its key carries a unit suffix
 * (_ns _ms _bytes _ops _per_s _mbps _count) or is a known count (exit_code,
 * signal, cpus, mem, pid), and a boolean when it is yes/no under a flag key
 * (timed_out, *_truncated, ok); every other value stays a string. */
#ifndef VLAB_LESSON_AGENTMSG_H
#define VLAB_LESSON_AGENTMSG_H

#include <lua.h>
#include <stddef.h>

/* Builds "verb k=v ..." from the table at index args (may be 0: none)
 * into a malloc'd string.  Raises a Lua error naming argument argn when a
 * key or value is unusable. */
char *lesson_agent_request(lua_State *L, const char *verb, int args, int argn);

/* Pushes the table of an "ok" response and returns 1; for "err" pushes
 * nothing, fills msg with "code: text" and returns 0; -1 (msg says why)
 * when the line is malformed. */
int lesson_agent_push_response(lua_State *L, const char *resp, char *msg, size_t len);

#endif
