/* workloads/exec.c: the exec verb: run a shell command in the guest and
 * return its exit status and output, bounded in time and in bytes.  Only
 * where the platform has processes (Linux guests and the host); a
 * unikernel's plat_exec() answers -PLAT_ENOTSUP and so does this verb. */
#include "workloads/workloads.h"

/* Per stream; escaped output (up to 3 bytes a byte) of both streams must
 * fit one protocol line. */
#define EXEC_CAPTURE_MAX 8192

static char out_buf[EXEC_CAPTURE_MAX], err_buf[EXEC_CAPTURE_MAX];

int wl_verb_exec(struct wl_req *r)
{
	const struct vlab_proto_kv *cmd = vlab_proto_find(r->msg, "cmd");
	uint64_t timeout_ms, size;
	if (!cmd || !cmd->value[0])
		return wl_fail(r, WL_BADREQ, "exec needs cmd=<a %-escaped shell command>");
	if (cmd->value_len != strlen(cmd->value))
		return wl_fail(r, WL_BADREQ, "cmd holds a NUL byte");
	if (wl_arg_u64(r, "timeout_ms", 10000, 1, 600000, &timeout_ms) < 0 ||
	    wl_arg_size(r, "size", 4096, 0, EXEC_CAPTURE_MAX, &size) < 0)
		return -1;
	struct plat_exec x;
	memset(&x, 0, sizeof(x));
	x.cmd = cmd->value;
	x.timeout_ns = timeout_ms * 1000000ull;
	x.out = out_buf;
	x.err = err_buf;
	x.out_cap = x.err_cap = (size_t)size;
	uint64_t t0 = plat_now_ns();
	int rc = plat_exec(&x);
	uint64_t took = plat_now_ns() - t0;
	if (rc == -PLAT_ENOTSUP)
		return wl_fail(r, WL_UNSUPPORTED, "exec: this guest has no processes to run");
	if (rc < 0)
		return wl_fail_plat(r, rc, "exec");
	struct vlab_proto_out *o = r->out;
	vlab_proto_put_i64(o, "exit_code", x.exit_code);
	vlab_proto_put_u64(o, "signal", (uint64_t)x.signal);
	vlab_proto_put_bool(o, "timed_out", x.timed_out);
	vlab_proto_put_u64(o, "time_ns", took);
	vlab_proto_put_mem(o, "stdout", x.out, x.out_len);
	vlab_proto_put_mem(o, "stderr", x.err, x.err_len);
	vlab_proto_put_bool(o, "stdout_truncated", x.out_truncated);
	vlab_proto_put_bool(o, "stderr_truncated", x.err_truncated);
	return 0;
}
