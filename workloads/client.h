/* workloads/client.h: talking to a probe agent from the front end (host
 * code in libvlab): one call sends a request through the instance's
 * control channel and parses the answer with the protocol codec, turning
 * an `err` answer into a struct vlab_err that names the agent's code.
 *
 *     struct vlab_agent_reply r;
 *     if (vlab_agent_call(inst, "cpu size=1M", 60000, &r, &err) < 0)
 *             return -1;
 *     uint64_t ns;
 *     vlab_proto_u64(&r.msg, "int_ns", &ns);
 *     vlab_agent_reply_free(&r); */
#ifndef VLAB_WORKLOADS_CLIENT_H
#define VLAB_WORKLOADS_CLIENT_H

#include <stdint.h>

#include "core/err.h"
#include "engines/engine.h"
#include "workloads/proto.h"

struct vlab_agent_reply {
	char *line;		   /* owned copy of the answer; msg points into it */
	struct vlab_proto_msg msg; /* kind VLAB_MSG_OK on success */
};

/* Sends req ("<verb> [key=value ...]", without the id) and waits up to
 * timeout_ms.  On an `ok` answer returns 0 with *reply filled (free it with
 * vlab_agent_reply_free()).  On an `err` answer returns -1 with err
 * "agent: <code>: <text>" and err->code from vlab_agent_errno(); nothing
 * to free then. */
int vlab_agent_call(struct vlab_instance *inst, const char *req, int timeout_ms,
		    struct vlab_agent_reply *reply, struct vlab_err *err);

void vlab_agent_reply_free(struct vlab_agent_reply *reply);

/* The errno value matching an agent error code (badreq EINVAL, unknown
 * ENOSYS, unsupported ENOTSUP, toolarge EMSGSIZE, io EIO, busy EBUSY, nomem
 * ENOMEM, timeout ETIMEDOUT; anything else EPROTO). */
int vlab_agent_errno(const char *code);

/* What a READY line says. */
struct vlab_agent_ready {
	char version[32];  /* "vlab-agent/1" */
	char platform[16]; /* "linux", "unikernel" */
	char kernel[96];
	uint64_t t_ns; /* the agent's monotonic clock at READY */
	uint64_t cpus, mem_bytes;
};

/* Parses a READY line (vlab_instance_ready_line()); fails on a malformed
 * line or a protocol version this vlab does not speak. */
int vlab_agent_parse_ready(const char *line, struct vlab_agent_ready *out, struct vlab_err *err);

#endif
