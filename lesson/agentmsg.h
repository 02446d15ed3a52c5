/* lesson/agentmsg.h: agent requests and answers as Lua values, through the
 * agent protocol's codec (workloads/proto.h).
 *
 * A request is built from a verb and a Lua table of arguments (strings,
 * numbers, booleans as yes/no), escaped by the codec.  An answer's pairs
 * become a Lua table: a value is a Lua number when its key carries a unit
 * suffix (_ns _ms _bytes _ops _per_s _mbps _count) or is one of the
 * protocol's bare numbers (exit_code, signal, port, pid, fp_checksum), a
 * boolean when it is yes/no (except in text such as stdout), and a string
 * otherwise. */
#ifndef VLAB_LESSON_AGENTMSG_H
#define VLAB_LESSON_AGENTMSG_H

#include <lua.h>
#include <stddef.h>

struct vlab_proto_msg;

/* Builds "verb k=v ..." from the table at index args (may be 0: none)
 * into a malloc'd string.  Raises a Lua error naming argument argn when a
 * key or value is unusable or the line would be too long. */
char *lesson_agent_request(lua_State *L, const char *verb, int args, int argn);

/* Pushes the pairs of an `ok` answer as a table. */
void lesson_agent_push_reply(lua_State *L, const struct vlab_proto_msg *m);

#endif
