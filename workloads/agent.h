/* workloads/agent.h: the probe agent's portable core: the request loop,
 * the verb table, and the helpers verbs use to read arguments and answer.
 *
 * A platform's entry point (workloads/linux/main.c, the unikernel's boot
 * code) sets up its plat_* shim and calls wl_agent_serve(). */
#ifndef VLAB_WORKLOADS_AGENT_H
#define VLAB_WORKLOADS_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "workloads/proto.h"

/* Serves the control channel: prints READY, answers requests one at a
 * time, services the UDP echo server in between, and returns the exit
 * status (0) after `shutdown`, a stop request or the end of the channel. */
int wl_agent_serve(void);

/* Writes the READY line (no newline) into out; returns its length. */
size_t wl_agent_ready(char *out, size_t cap);

/* Answers one request line (no newline; parsed in place, so modified) with
 * one response line in out (NUL-terminated, no newline).  Never fails: a
 * bad request gets an `err` line.  *stop is set when the agent must end. */
size_t wl_agent_handle(char *line, char *out, size_t cap, int *stop);

/* ---- for verb implementations ---- */

/* The request being answered. */
struct wl_req {
	const struct vlab_proto_msg *msg;
	struct vlab_proto_out *out; /* the response after "<id> ok" */
	const char *code;	    /* set by wl_fail*: the error code */
	char text[256];		    /* and its message */
};

/* Error codes (docs/agent-protocol.md). */
#define WL_BADREQ "badreq"
#define WL_UNKNOWN "unknown"
#define WL_UNSUPPORTED "unsupported"
#define WL_TOOLARGE "toolarge"
#define WL_IO "io"
#define WL_BUSY "busy"
#define WL_NOMEM "nomem"
#define WL_TIMEOUT "timeout"

/* Turns the answer into `err code text`.  Returns -1. */
int wl_fail(struct wl_req *r, const char *code, const char *text);
/* The same, with a number between two pieces of text. */
int wl_fail_num(struct wl_req *r, const char *code, const char *before, uint64_t num,
		const char *after);
/* From a negative plat_status: the matching code, "what: <plat_error_text()>". */
int wl_fail_plat(struct wl_req *r, int status, const char *what);

/* A size argument (accepts 64K, 16M...): the default when absent, an error
 * naming the key and its bounds when malformed or out of [min, max]. */
int wl_arg_size(struct wl_req *r, const char *key, uint64_t def, uint64_t min, uint64_t max,
		uint64_t *out);
/* A plain unsigned number argument, likewise. */
int wl_arg_u64(struct wl_req *r, const char *key, uint64_t def, uint64_t min, uint64_t max,
	       uint64_t *out);

/* ns -> units per second, guarding against a zero duration. */
double wl_per_s(double units, uint64_t ns);

#endif
