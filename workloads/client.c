/* workloads/client.c: requests to a probe agent, answers parsed. */
#include "workloads/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vlab_agent_errno(const char *code)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
	    {"badreq", EINVAL},
	    {"unknown", ENOSYS},
	    {"unsupported", ENOTSUP},
	    {"toolarge", EMSGSIZE},
	    {"io", EIO},
	    {"busy", EBUSY},
	    {"nomem", ENOMEM},
	    {"timeout", ETIMEDOUT},
	};
	for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].code, code))
			return map[i].err;
	return EPROTO;
}

int vlab_agent_call(struct vlab_instance *inst, const char *req, int timeout_ms,
		    struct vlab_agent_reply *reply, struct vlab_err *err)
{
	const char *resp;
	memset(reply, 0, sizeof(*reply));
	if (vlab_instance_request(inst, req, &resp, timeout_ms, err) < 0)
		return -1;
	reply->line = strdup(resp);
	if (!reply->line)
		return vlab_err_set(err, ENOMEM, "agent answer");
	if (vlab_proto_parse(reply->line, &reply->msg) < 0) {
		vlab_err_set(err, EPROTO, "%s: malformed answer from the agent: %s",
			     vlab_instance_name(inst), reply->msg.why);
		vlab_agent_reply_free(reply);
		return -1;
	}
	if (reply->msg.kind == VLAB_MSG_ERR) {
		vlab_err_set(err, 0, "%s: agent: %s: %s", vlab_instance_name(inst), reply->msg.code,
			     reply->msg.text);
		if (err)
			err->code = vlab_agent_errno(reply->msg.code);
		vlab_agent_reply_free(reply);
		return -1;
	}
	if (reply->msg.kind != VLAB_MSG_OK) {
		vlab_err_set(err, EPROTO, "%s: the agent answered with neither ok nor err",
			     vlab_instance_name(inst));
		vlab_agent_reply_free(reply);
		return -1;
	}
	return 0;
}

void vlab_agent_reply_free(struct vlab_agent_reply *reply)
{
	free(reply->line);
	memset(reply, 0, sizeof(*reply));
}

int vlab_agent_parse_ready(const char *line, struct vlab_agent_ready *out, struct vlab_err *err)
{
	struct vlab_proto_msg *m = malloc(sizeof(*m));
	char *copy = strdup(line);
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (!m || !copy) {
		vlab_err_set(err, ENOMEM, "READY line");
		goto out;
	}
	if (vlab_proto_parse(copy, m) < 0) {
		vlab_err_set(err, EPROTO, "malformed READY line: %s", m->why);
		goto out;
	}
	if (m->kind != VLAB_MSG_READY) {
		vlab_err_set(err, EPROTO, "not a READY line: '%.40s'", line);
		goto out;
	}
	snprintf(out->version, sizeof(out->version), "%s", m->version);
	if (!vlab_proto_version_ok(m->version)) {
		vlab_err_set(err, EPROTO, "the agent speaks %s; this vlab speaks %s", m->version,
			     VLAB_PROTO_VERSION);
		goto out;
	}
	snprintf(out->platform, sizeof(out->platform), "%s", vlab_proto_str(m, "platform", ""));
	snprintf(out->kernel, sizeof(out->kernel), "%s", vlab_proto_str(m, "kernel", ""));
	vlab_proto_u64(m, "t", &out->t_ns);
	vlab_proto_u64(m, "cpus", &out->cpus);
	vlab_proto_u64(m, "mem", &out->mem_bytes);
	rc = 0;
out:
	free(m);
	free(copy);
	return rc;
}
