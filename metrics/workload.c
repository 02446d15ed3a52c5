/* metrics/workload.c: the workloads of a benchmark, sent to a READY
 * instance's probe agent (docs/agent-protocol.md): cpu, mem, disk, and
 * net-echo measured from the host side with the echo client inside the
 * lab network; KVM exit counters sampled around each request. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "metrics/bench.h"
#include "workloads/client.h"
#include "workloads/echo_client.h"

/* A figure in an agent's answer and the row it becomes. */
struct field {
	const char *resp; /* key in the answer */
	const char *key;  /* row key */
	const char *label;
	const char *unit;
	double scale; /* answer value * scale = row value */
	enum metrics_better better;
};

static const struct field cpu_fields[] = {
    {"int_ops_per_s", "cpu.int", "integer: sieve", "Mops/s", 1e-6, METRICS_HIGHER_BETTER},
    {"fp_ops_per_s", "cpu.fp", "floating point: matmul", "MFLOP/s", 1e-6, METRICS_HIGHER_BETTER},
    {"time_ns", "cpu.time", "time for both kernels", "ms", 1e-6, METRICS_LOWER_BETTER},
};

static const struct field mem_fields[] = {
    {"copy_mbps", "mem.copy", "STREAM copy", "MB/s", 1, METRICS_HIGHER_BETTER},
    {"scale_mbps", "mem.scale", "STREAM scale", "MB/s", 1, METRICS_HIGHER_BETTER},
    {"add_mbps", "mem.add", "STREAM add", "MB/s", 1, METRICS_HIGHER_BETTER},
    {"triad_mbps", "mem.triad", "STREAM triad", "MB/s", 1, METRICS_HIGHER_BETTER},
};

static const struct field disk_fields[] = {
    {"write_mbps", "disk.write", "sequential write + fsync", "MB/s", 1, METRICS_HIGHER_BETTER},
    {"read_mbps", "disk.read", "sequential read", "MB/s", 1, METRICS_HIGHER_BETTER},
};

#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

/* ---- KVM exits ---- */

struct snap {
	struct vlab_counter c[VLAB_COUNTERS_MAX];
	size_t n;
};

static void take(struct vlab_instance *inst, struct snap *s)
{
	const struct vlab_counters *cs = vlab_instance_counters(inst);
	s->n = cs ? vlab_counters_snapshot(cs, s->c, VLAB_COUNTERS_MAX) : 0;
}

/* Exits per second by reason between two snapshots ns apart.  A reason
 * seen for the first time counts as 0 in the earlier runs. */
static void record_exits(struct series_set *set, const char *workload, unsigned slot,
			 const struct snap *before, const struct snap *after, uint64_t ns)
{
	for (size_t i = 0; i < after->n && ns > 0; i++) {
		const char *name = after->c[i].name;
		if (strncmp(name, "exit.", 5) != 0)
			continue;
		uint64_t was = 0;
		for (size_t j = 0; j < before->n; j++)
			if (!strcmp(before->c[j].name, name))
				was = before->c[j].value;
		uint64_t delta = after->c[i].value > was ? after->c[i].value - was : 0;
		char key[48], label[64];
		snprintf(key, sizeof(key), "exits.%s.%s", workload, name + 5);
		struct series *s = NULL;
		for (size_t k = 0; k < set->n && !s; k++)
			if (!strcmp(set->s[k].key, key))
				s = &set->s[k];
		if (!s && delta == 0)
			continue; /* a reason that never happens is not a row */
		snprintf(label, sizeof(label), "during %s: %s", workload, name + 5);
		if (!s && !(s = series_get(set, key, METRICS_EXITS, label, "exits/s",
					   METRICS_LOWER_BETTER)))
			continue;
		for (unsigned k = 0; k < slot; k++)
			if (isnan(s->v[k]))
				s->v[k] = 0;
		s->v[slot] = (double)delta / ((double)ns / 1e9);
	}
}

/* ---- cpu, mem, disk ---- */

static void run_verb(struct bench *b, struct vlab_instance *inst, struct series_set *set,
		     const char *workload, const char *req, const struct field *f, size_t nf)
{
	for (unsigned slot = 0; slot < b->slots; slot++) {
		struct snap before, after;
		struct vlab_agent_reply r;
		struct vlab_err err = {0};
		if (bench_progress(b, workload) < 0)
			return;
		take(inst, &before);
		uint64_t t0 = vlab_now_ns();
		if (vlab_agent_call(inst, req, b->request_timeout_ms, &r, &err) < 0) {
			bench_fail(b, workload, &err);
			return;
		}
		uint64_t t1 = vlab_now_ns();
		take(inst, &after);
		int verified = 1;
		if (vlab_proto_bool(&r.msg, "verified", &verified) == VLAB_PROTO_BAD || !verified) {
			vlab_err_set(&err, EIO, "the agent read back other bytes than it wrote");
			bench_fail(b, workload, &err);
			vlab_agent_reply_free(&r);
			return;
		}
		for (size_t i = 0; i < nf; i++) {
			double v;
			if (vlab_proto_f64(&r.msg, f[i].resp, &v) != VLAB_PROTO_FOUND) {
				vlab_err_set(&err, EPROTO, "the answer has no number %s",
					     f[i].resp);
				bench_fail(b, workload, &err);
				vlab_agent_reply_free(&r);
				return;
			}
			struct series *s = series_get(set, f[i].key, METRICS_CPU, f[i].label,
						      f[i].unit, f[i].better);
			if (s)
				s->v[slot] = v * f[i].scale;
		}
		vlab_agent_reply_free(&r);
		record_exits(set, workload, slot, &before, &after, t1 - t0);
	}
}

/* ---- net ---- */

struct echo_call {
	struct vlab_echo_opts opts;
	struct vlab_echo_result res;
	struct vlab_err err;
};

static int echo_in_ns(void *arg)
{
	struct echo_call *c = arg;
	return vlab_echo_run(&c->opts, &c->res, &c->err);
}

static void run_net(struct bench *b, struct vlab_instance *inst, struct series_set *set)
{
	const struct metrics_sizes *z = &b->cfg->sizes;
	char host[32], req[96];
	struct vlab_agent_reply r;
	struct vlab_err err = {0};
	uint64_t port = 0;
	if (b->net_mode == BENCH_NET_LAB) {
		const char *ip = vlab_spec_get(vlab_instance_spec(inst), "net.ip");
		snprintf(host, sizeof(host), "%.*s", ip ? (int)strcspn(ip, "/") : 0, ip ? ip : "");
	} else {
		snprintf(host, sizeof(host), "127.0.0.1");
	}
	uint32_t payload = z->net_payload ? z->net_payload : 64;
	snprintf(req, sizeof(req), "net-echo op=start port=0 size=%u",
		 payload < 2048 ? 2048 : payload);
	if (vlab_agent_call(inst, req, b->request_timeout_ms, &r, &err) < 0) {
		bench_fail(b, "net", &err);
		return;
	}
	int have_port =
	    vlab_proto_u64(&r.msg, "port", &port) == VLAB_PROTO_FOUND && port > 0 && port < 65536;
	vlab_agent_reply_free(&r);
	if (!have_port) {
		vlab_err_set(&err, EPROTO, "net-echo op=start answered without a port");
		bench_fail(b, "net", &err);
		return;
	}
	for (unsigned slot = 0; slot < b->slots; slot++) {
		struct snap before, after;
		struct echo_call c = {
		    .opts = {.host = host,
			     .port = (uint16_t)port,
			     .count = z->net_count ? z->net_count : 1000,
			     .warmup = 10,
			     .payload_bytes = payload,
			     .timeout_ms = b->emulated ? 5000 : 1000},
		};
		if (bench_progress(b, "net") < 0)
			break;
		take(inst, &before);
		uint64_t t0 = vlab_now_ns();
		int rc = b->net_mode == BENCH_NET_LAB
			     ? vlab_labnet_call(b->net, echo_in_ns, &c, &err)
			     : echo_in_ns(&c);
		uint64_t t1 = vlab_now_ns();
		take(inst, &after);
		if (rc < 0) {
			bench_fail(b, "net", c.err.msg[0] ? &c.err : &err);
			break;
		}
		struct series *rtt = series_get(set, "net.rtt", METRICS_NET, "UDP echo RTT, median",
						"us", METRICS_LOWER_BETTER);
		struct series *p99 = series_get(set, "net.rtt.p99", METRICS_NET,
						"UDP echo RTT, p99", "us", METRICS_LOWER_BETTER);
		struct series *tps =
		    series_get(set, "net.tps", METRICS_NET, "request/response transactions", "tx/s",
			       METRICS_HIGHER_BETTER);
		if (rtt)
			rtt->v[slot] = (double)c.res.rtt_median_ns / 1e3;
		if (p99)
			p99->v[slot] = (double)c.res.rtt_p99_ns / 1e3;
		if (tps)
			tps->v[slot] = c.res.tps;
		record_exits(set, "net", slot, &before, &after, t1 - t0);
	}
	if (vlab_agent_call(inst, "net-echo op=stop", b->request_timeout_ms, &r, &err) == 0)
		vlab_agent_reply_free(&r);
}

void bench_workloads(struct bench *b, struct vlab_instance *inst)
{
	const struct metrics_sizes *z = &b->cfg->sizes;
	unsigned kinds = b->cfg->kinds;
	struct series_set set = {.slots = b->slots};
	char req[160];
	b->request_timeout_ms = b->emulated ? 600000 : 120000;

	if (kinds & (1u << METRICS_CPU)) {
		int n = snprintf(req, sizeof(req), "cpu size=%llu",
				 (unsigned long long)(z->cpu_sieve ? z->cpu_sieve : 2000000));
		if (z->cpu_matrix)
			snprintf(req + n, sizeof(req) - (size_t)n, " matrix=%u", z->cpu_matrix);
		run_verb(b, inst, &set, "cpu", req, cpu_fields, NFIELDS(cpu_fields));
	}
	if ((kinds & (1u << METRICS_MEM)) && !bench_cancelled(b)) {
		snprintf(req, sizeof(req), "mem size=%llu reps=%u",
			 (unsigned long long)(z->mem_bytes ? z->mem_bytes : 16u << 20),
			 z->mem_reps ? z->mem_reps : 5);
		run_verb(b, inst, &set, "mem", req, mem_fields, NFIELDS(mem_fields));
	}
	if ((kinds & (1u << METRICS_DISK)) && !bench_cancelled(b)) {
		snprintf(req, sizeof(req), "disk size=%llu bs=%llu",
			 (unsigned long long)(z->disk_bytes ? z->disk_bytes : 32u << 20),
			 (unsigned long long)(z->disk_block ? z->disk_block : 1u << 20));
		run_verb(b, inst, &set, "disk", req, disk_fields, NFIELDS(disk_fields));
	}
	if ((kinds & (1u << METRICS_NET)) && b->net_mode != BENCH_NET_NONE && !bench_cancelled(b))
		run_net(b, inst, &set);

	/* Rows carry the kind of their workload. */
	for (size_t i = 0; i < set.n; i++)
		if (set.s[i].kind == METRICS_CPU)
			set.s[i].kind = !strncmp(set.s[i].key, "mem.", 4)    ? METRICS_MEM
					: !strncmp(set.s[i].key, "disk.", 5) ? METRICS_DISK
									     : METRICS_CPU;
	bench_add_series(b, &set);
	series_free(&set);
	const char *how = b->net_mode == BENCH_NET_LAB
			      ? "from 10.77.0.1 over the lab network's bridge"
			      : "over the host's loopback (no virtual network in the way)";
	for (size_t r = 0; r < b->col->nrows; r++)
		if (!strcmp(b->col->rows[r].key, "net.rtt"))
			snprintf(b->col->rows[r].note, sizeof(b->col->rows[r].note), "%s", how);
}
