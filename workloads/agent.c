/* workloads/agent.c: the probe agent's request loop and verb table.
 *
 * Portable (see platform.h): reads the control channel in chunks, cuts it
 * into lines of at most VLAB_PROTO_LINE_MAX bytes, answers each line with
 * exactly one line, and services the UDP echo server between requests.
 * Requests are answered in order, one at a time. */
#include "workloads/agent.h"

#include "workloads/platform.h"
#include "workloads/workloads.h"

struct verb {
	const char *name;
	int (*run)(struct wl_req *r);
	const char *const *keys; /* the arguments it takes, NULL-terminated */
	const char *summary;
};

static int verb_ping(struct wl_req *r);
static int verb_help(struct wl_req *r);
static int verb_shutdown(struct wl_req *r);

static const char *const no_keys[] = {0};
static const char *const help_keys[] = {"verb", 0};
static const char *const cpu_keys[] = {"size", "matrix", 0};
static const char *const mem_keys[] = {"size", "reps", 0};
static const char *const disk_keys[] = {"size", "bs", 0};
static const char *const echo_keys[] = {"op", "port", "size", 0};
static const char *const exec_keys[] = {"cmd", "timeout_ms", "size", 0};

static const struct verb verbs[] = {
    {"ping", verb_ping, no_keys, "is the agent alive; its clock"},
    {"help", verb_help, help_keys, "the verbs this agent knows; verb=NAME: one verb"},
    {"sysinfo", wl_verb_sysinfo, no_keys, "what the guest sees: CPU, flags, memory, kernel"},
    {"cpu", wl_verb_cpu, cpu_keys, "sieve (integer) and matrix multiply (floating point)"},
    {"mem", wl_verb_mem, mem_keys, "STREAM copy, scale, add, triad"},
    {"disk", wl_verb_disk, disk_keys, "sequential write + fsync, read back, verify"},
    {"net-echo", wl_verb_echo, echo_keys, "UDP echo server: op=start|stop|status"},
    {"exec", wl_verb_exec, exec_keys, "run a shell command (Linux guests)"},
    {"shutdown", verb_shutdown, no_keys, "end the agent (and its guest)"},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static int stop_requested;

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int wl_fail(struct wl_req *r, const char *code, const char *text)
{
	r->code = code;
	copy_text(r->text, sizeof(r->text), text);
	return -1;
}

int wl_fail_num(struct wl_req *r, const char *code, const char *before, uint64_t num,
		const char *after)
{
	struct vlab_proto_out o;
	char n[24];
	vlab_proto_fmt_u64(n, num);
	r->code = code;
	vlab_proto_out_init(&o, r->text, sizeof(r->text));
	vlab_proto_put_text(&o, before);
	vlab_proto_put_word(&o, n);
	if (after && *after)
		vlab_proto_put_text(&o, after);
	return -1;
}

int wl_fail_plat(struct wl_req *r, int status, const char *what)
{
	static const char *const codes[] = {
	    [PLAT_EIO] = WL_IO,	       [PLAT_ENOMEM] = WL_NOMEM, [PLAT_ENOTSUP] = WL_UNSUPPORTED,
	    [PLAT_EINVAL] = WL_BADREQ, [PLAT_EBUSY] = WL_BUSY,	 [PLAT_ETIMEDOUT] = WL_TIMEOUT,
	    [PLAT_EEOF] = WL_IO,
	};
	int s = -status;
	r->code =
	    s > 0 && (size_t)s < sizeof(codes) / sizeof(codes[0]) && codes[s] ? codes[s] : WL_IO;
	struct vlab_proto_out o;
	vlab_proto_out_init(&o, r->text, sizeof(r->text));
	vlab_proto_put_text(&o, what);
	const char *detail = plat_error_text();
	if (detail && *detail) {
		vlab_proto_put_word(&o, "--");
		vlab_proto_put_text(&o, detail);
	}
	return -1;
}

static int arg_num(struct wl_req *r, const char *key, uint64_t def, uint64_t min, uint64_t max,
		   uint64_t *out, int size)
{
	uint64_t v = def;
	int rc = size ? vlab_proto_size(r->msg, key, &v) : vlab_proto_u64(r->msg, key, &v);
	if (rc == VLAB_PROTO_BAD) {
		struct vlab_proto_out o;
		r->code = WL_BADREQ;
		vlab_proto_out_init(&o, r->text, sizeof(r->text));
		vlab_proto_put_text(&o, key);
		vlab_proto_put_text(&o, size ? "is not a size (4096, 64K, 16M, 1G)"
					     : "is not a whole number");
		return -1;
	}
	if (v < min || v > max) {
		struct vlab_proto_out o;
		char a[24], b[24];
		vlab_proto_fmt_u64(a, min);
		vlab_proto_fmt_u64(b, max);
		r->code = WL_BADREQ;
		vlab_proto_out_init(&o, r->text, sizeof(r->text));
		vlab_proto_put_text(&o, key);
		vlab_proto_put_text(&o, "must be between");
		vlab_proto_put_word(&o, a);
		vlab_proto_put_word(&o, "and");
		vlab_proto_put_word(&o, b);
		return -1;
	}
	*out = v;
	return 0;
}

int wl_arg_size(struct wl_req *r, const char *key, uint64_t def, uint64_t min, uint64_t max,
		uint64_t *out)
{
	return arg_num(r, key, def, min, max, out, 1);
}

int wl_arg_u64(struct wl_req *r, const char *key, uint64_t def, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	return arg_num(r, key, def, min, max, out, 0);
}

double wl_per_s(double units, uint64_t ns)
{
	return units * 1e9 / (double)(ns ? ns : 1);
}

static int verb_ping(struct wl_req *r)
{
	vlab_proto_put_u64(r->out, "t_ns", plat_now_ns());
	return 0;
}

static int verb_help(struct wl_req *r)
{
	char list[256];
	size_t len = 0;
	for (size_t i = 0; i < NVERBS; i++) {
		size_t n = strlen(verbs[i].name);
		if (len + n + 2 > sizeof(list))
			break;
		if (i)
			list[len++] = ',';
		memcpy(list + len, verbs[i].name, n);
		len += n;
	}
	list[len] = '\0';
	const char *one = vlab_proto_str(r->msg, "verb", 0);
	if (one) {
		for (size_t i = 0; i < NVERBS; i++) {
			if (!streq(verbs[i].name, one))
				continue;
			len = 0;
			for (size_t j = 0; verbs[i].keys[j]; j++) {
				size_t n = strlen(verbs[i].keys[j]);
				if (j)
					list[len++] = ',';
				memcpy(list + len, verbs[i].keys[j], n);
				len += n;
			}
			list[len] = '\0';
			vlab_proto_put_str(r->out, "verb", one);
			vlab_proto_put_str(r->out, "args", list);
			vlab_proto_put_str(r->out, "summary", verbs[i].summary);
			return 0;
		}
		return wl_fail(r, WL_UNKNOWN, "no such verb (help lists them)");
	}
	vlab_proto_put_str(r->out, "verbs", list);
	vlab_proto_put_str(r->out, "version", VLAB_PROTO_VERSION);
	return 0;
}

static int verb_shutdown(struct wl_req *r)
{
	(void)r;
	stop_requested = 1;
	return 0;
}

/* Whether every key of the request is one the verb takes. */
static int check_keys(const struct verb *v, struct wl_req *r)
{
	for (size_t i = 0; i < r->msg->n; i++) {
		const char *k = r->msg->kv[i].key;
		size_t j = 0;
		while (v->keys[j] && !streq(v->keys[j], k))
			j++;
		if (v->keys[j])
			continue;
		struct vlab_proto_out o;
		r->code = WL_BADREQ;
		vlab_proto_out_init(&o, r->text, sizeof(r->text));
		vlab_proto_put_text(&o, v->name);
		vlab_proto_put_text(&o, "takes no argument");
		vlab_proto_put_word(&o, k);
		vlab_proto_put_text(&o, v->keys[0] ? "-- it takes:" : "-- it takes none");
		for (j = 0; v->keys[j]; j++)
			vlab_proto_put_word(&o, v->keys[j]);
		return -1;
	}
	return 0;
}

static size_t answer_err(struct vlab_proto_out *o, uint64_t id, const char *code, const char *text)
{
	char n[24];
	vlab_proto_fmt_u64(n, id);
	o->len = 0;
	o->overflow = 0;
	o->buf[0] = '\0';
	vlab_proto_put_word(o, n);
	vlab_proto_put_word(o, "err");
	vlab_proto_put_word(o, code);
	vlab_proto_put_text(o, text);
	return o->len;
}

size_t wl_agent_handle(char *line, char *out, size_t cap, int *stop)
{
	static struct vlab_proto_msg msg; /* large; the agent is single-threaded */
	struct vlab_proto_out o;
	char n[24];
	vlab_proto_out_init(&o, out, cap);
	if (vlab_proto_parse(line, &msg) < 0)
		return answer_err(&o, msg.id, WL_BADREQ, msg.why);
	if (msg.kind != VLAB_MSG_REQUEST)
		return answer_err(&o, msg.id, WL_BADREQ,
				  "expected a request: <id> <verb> [key=value ...]");
	const struct verb *v = 0;
	for (size_t i = 0; i < NVERBS && !v; i++)
		if (streq(verbs[i].name, msg.verb))
			v = &verbs[i];
	if (!v) {
		struct vlab_proto_out t;
		char text[128];
		vlab_proto_out_init(&t, text, sizeof(text));
		vlab_proto_put_text(&t, "no verb named");
		vlab_proto_put_word(&t, msg.verb);
		vlab_proto_put_text(&t, "(try help)");
		return answer_err(&o, msg.id, WL_UNKNOWN, text);
	}
	struct wl_req r = {.msg = &msg, .out = &o};
	vlab_proto_fmt_u64(n, msg.id);
	vlab_proto_put_word(&o, n);
	vlab_proto_put_word(&o, "ok");
	if (check_keys(v, &r) < 0 || v->run(&r) < 0)
		return answer_err(&o, msg.id, r.code ? r.code : WL_IO, r.text);
	if (o.overflow)
		return answer_err(&o, msg.id, WL_TOOLARGE, "the answer would be over 65536 bytes");
	if (stop_requested)
		*stop = 1;
	return o.len;
}

size_t wl_agent_ready(char *out, size_t cap)
{
	struct plat_info info;
	struct vlab_proto_out o;
	memset(&info, 0, sizeof(info));
	plat_info_basic(&info);
	vlab_proto_out_init(&o, out, cap);
	vlab_proto_put_word(&o, "READY");
	vlab_proto_put_word(&o, VLAB_PROTO_VERSION);
	vlab_proto_put_u64(&o, "t", plat_now_ns());
	vlab_proto_put_str(&o, "platform", info.platform);
	vlab_proto_put_str(&o, "kernel", info.kernel);
	vlab_proto_put_u64(&o, "cpus", info.cpus);
	vlab_proto_put_u64(&o, "mem", info.mem_total_bytes);
	return o.len;
}

/* Line assembly state: the control channel is a byte stream. */
static char line[VLAB_PROTO_LINE_MAX + 1];
static char reply[VLAB_PROTO_LINE_MAX + 2];
static size_t line_len;
static int discarding;	    /* inside an overlong line */
static uint64_t discard_id; /* its id, when it started with one */

static int send_reply(size_t n)
{
	reply[n++] = '\n';
	return plat_ctl_write(reply, n);
}

/* The id an overlong line starts with, 0 when none. */
static uint64_t leading_id(void)
{
	uint64_t id = 0;
	size_t i = 0;
	for (; i < line_len && i < 19 && line[i] >= '0' && line[i] <= '9'; i++)
		id = id * 10 + (uint64_t)(line[i] - '0');
	return i < line_len && line[i] == ' ' ? id : 0;
}

/* Consumes one byte; answers a completed line.  -1 when the channel fails. */
static int feed(char c, int *stop)
{
	if (discarding) {
		if (c != '\n')
			return 0;
		discarding = 0;
		struct vlab_proto_out o;
		vlab_proto_out_init(&o, reply, sizeof(reply) - 1);
		return send_reply(
		    answer_err(&o, discard_id, WL_TOOLARGE, "request over 65536 bytes, discarded"));
	}
	if (c != '\n') {
		if (line_len == VLAB_PROTO_LINE_MAX) {
			discard_id = leading_id();
			discarding = 1;
			line_len = 0;
			return 0;
		}
		line[line_len++] = c;
		return 0;
	}
	if (line_len && line[line_len - 1] == '\r')
		line_len--;
	line[line_len] = '\0';
	size_t len = line_len;
	line_len = 0;
	if (len == 0)
		return 0; /* blank lines (a human at a serial port) are ignored */
	return send_reply(wl_agent_handle(line, reply, sizeof(reply) - 1, stop));
}

int wl_agent_serve(void)
{
	char chunk[4096];
	int stop = 0, status = 0;
	stop_requested = 0;
	if (send_reply(wl_agent_ready(reply, sizeof(reply) - 1)) < 0)
		return 1;
	while (!stop) {
		unsigned ev = plat_wait(wl_echo_sock(), -1);
		if (ev & PLAT_READY_STOP)
			break;
		if (ev & PLAT_READY_SOCK)
			wl_echo_service();
		if (!(ev & PLAT_READY_CTL))
			continue;
		long got = plat_ctl_read(chunk, sizeof(chunk));
		if (got == -PLAT_EEOF)
			break;
		if (got < 0) {
			status = 1;
			break;
		}
		for (long i = 0; i < got && !stop; i++)
			if (feed(chunk[i], &stop) < 0) {
				status = 1;
				stop = 1;
			}
	}
	wl_echo_stop(0);
	return status;
}
