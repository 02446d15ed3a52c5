/* metrics/run.c: metrics_run(): for each engine, the boots (startup with
 * its phases, image size, footprint), then the workloads on the last
 * instance (metrics/workload.c). */
#include "metrics/run.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "metrics/bench.h"
#include "metrics/cgroup.h"
#include "metrics/footprint.h"

#define MIB (1024.0 * 1024.0)

/* ---- sample series ---- */

struct series *series_get(struct series_set *set, const char *key, enum metrics_kind kind,
			  const char *label, const char *unit, enum metrics_better better)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].key, key))
			return &set->s[i];
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		struct series *s = realloc(set->s, cap * sizeof(*s));
		if (!s)
			return NULL;
		set->s = s;
		set->cap = cap;
	}
	double *v = malloc(set->slots * sizeof(double));
	if (!v)
		return NULL;
	for (size_t i = 0; i < set->slots; i++)
		v[i] = NAN;
	struct series *s = &set->s[set->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->label, sizeof(s->label), "%s", label);
	snprintf(s->unit, sizeof(s->unit), "%s", unit);
	s->kind = kind;
	s->better = better;
	s->v = v;
	return s;
}

void series_free(struct series_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i].v);
	free(set->s);
	memset(set, 0, sizeof(*set));
}

void bench_add_series(struct bench *b, struct series_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct series *s = &set->s[i];
		/* Only the runs that completed: a series is kept when every
		 * measured slot up to the last filled one has a value. */
		size_t filled = 0;
		while (filled < set->slots && isfinite(s->v[filled]))
			filled++;
		if (filled <= b->warmup || filled - b->warmup < METRICS_MIN_SAMPLES)
			continue;
		struct vlab_err err = {0};
		if (!metrics_column_add(b->col, s->key, s->kind, s->label, s->unit, s->better, s->v,
					filled, b->warmup, &err))
			bench_fail(b, s->key, &err);
	}
}

/* ---- per-engine bookkeeping ---- */

void bench_fail(struct bench *b, const char *what, const struct vlab_err *err)
{
	char *e = b->col->error;
	size_t used = strlen(e);
	if (used + 4 >= sizeof(b->col->error))
		return;
	snprintf(e + used, sizeof(b->col->error) - used, "%s%s: %s", used ? "; " : "", what,
		 vlab_err_msg(err));
}

int bench_cancelled(const struct bench *b)
{
	return b->cfg->cancel && *b->cfg->cancel;
}

int bench_progress(struct bench *b, const char *what)
{
	if (b->cfg->progress)
		b->cfg->progress(b->cfg->progress_arg, b->col->engine, what, ++b->step, b->steps);
	if (bench_cancelled(b)) {
		struct vlab_err e;
		vlab_err_set(&e, ECANCELED, "stopped before the end");
		bench_fail(b, what, &e);
		return -1;
	}
	return 0;
}

void metrics_engine_avail(const struct vlab_hostcaps *caps, const char *engine,
			  struct vlab_avail *avail)
{
	const struct vlab_engine *e = vlab_engine_find(engine);
	memset(avail, 0, sizeof(*avail));
	if (!e) {
		avail->level = VLAB_AVAIL_NO;
		snprintf(avail->backend, sizeof(avail->backend), "none");
		snprintf(avail->reason, sizeof(avail->reason),
			 "the %s engine is not built into this vlab yet", engine);
		return;
	}
	if (!strcmp(engine, "vm"))
		vlab_avail_vm(caps, avail);
	else if (!strcmp(engine, "container"))
		vlab_avail_container(caps, avail);
	else if (!strcmp(engine, "unikernel"))
		vlab_avail_unikernel(caps, avail);
	else
		e->probe(avail);
}

static int engine_has_opt(const char *engine, const char *opt)
{
	const struct vlab_engine *e = vlab_engine_find(engine);
	for (const struct vlab_opt_desc *o = e ? e->opts : NULL; o && o->name; o++)
		if (!strcmp(o->name, opt))
			return 1;
	return 0;
}

/* ---- one boot ---- */

/* Builds the spec of boot i: the target's options, the lab network. */
static int make_spec(struct bench *b, unsigned i, struct vlab_spec *spec, struct vlab_err *err)
{
	char name[VLAB_NAME_MAX + 1];
	snprintf(name, sizeof(name), "bench-%d-%s-%u", (int)getpid() % 10000000, b->col->engine, i);
	if (vlab_spec_init(spec, b->col->engine, name, err) < 0)
		return -1;
	const struct vlab_spec *t = b->target->spec;
	for (size_t k = 0; t && k < t->n; k++)
		if (vlab_spec_set(spec, t->kv[k].key, t->kv[k].value, err) < 0)
			goto fail;
	if (b->net && vlab_labnet_spec_attach(b->net, spec, err) < 0)
		goto fail;
	return 0;
fail:
	vlab_spec_free(spec);
	return -1;
}

static void drop_instance(struct bench *b, struct vlab_instance *inst, struct vlab_spec *spec)
{
	if (inst) {
		vlab_instance_stop(inst, 3000, NULL);
		vlab_instance_free(inst);
	}
	if (b->net)
		vlab_labnet_spec_detach(b->net, spec);
	vlab_spec_free(spec);
}

static void record_phases(struct bench *b, struct vlab_instance *inst, unsigned slot,
			  struct series_set *set)
{
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	uint64_t prev = 0, total = vlab_instance_startup_ns(inst);
	char key[48], label[64];
	for (size_t i = 0; i <= n; i++) {
		const char *name = i < n ? ph[i].name : "ready";
		uint64_t at = i < n ? ph[i].ns : total;
		snprintf(key, sizeof(key), "startup.%s", name);
		snprintf(label, sizeof(label), i < n ? "phase: %s" : "phase: last one to READY",
			 name);
		struct series *s =
		    series_get(set, key, METRICS_STARTUP, label, "ms", METRICS_LOWER_BETTER);
		if (s)
			s->v[slot] = (at > prev ? (double)(at - prev) : 0) / 1e6;
		prev = at > prev ? at : prev;
	}
	(void)b;
}

/* Footprint right after READY: the PSS of the process tree, and for an
 * instance in a memory cgroup (the container), the cgroup's usage. */
static void record_footprint(struct bench *b, struct vlab_instance *inst, unsigned slot,
			     struct series_set *set, char *note, size_t note_len)
{
	struct metrics_smaps sm;
	struct metrics_cgmem cg;
	size_t nprocs = 0;
	struct vlab_err err = {0};
	pid_t pid = vlab_instance_pid(inst);
	if (pid <= 0 || metrics_tree_smaps(pid, &sm, &nprocs, &err) < 0) {
		bench_fail(b, "footprint", &err);
		return;
	}
	struct series *pss = series_get(set, "footprint.pss", METRICS_FOOTPRINT,
					"PSS of the process tree", "MiB", METRICS_LOWER_BETTER);
	struct series *fp = series_get(set, "footprint", METRICS_FOOTPRINT, "memory footprint",
				       "MiB", METRICS_LOWER_BETTER);
	if (!pss || !fp)
		return;
	pss->v[slot] = (double)sm.pss / MIB;
	const char *cgdir = vlab_instance_attr(inst, "cgroup.memory");
	if (cgdir && metrics_cgroup_memory(cgdir, &cg, &err) == 0) {
		fp->v[slot] = (double)cg.usage / MIB;
		snprintf(note, note_len,
			 "footprint = cgroup v%d %s (PSS of its %zu processes beside it)",
			 cg.version, cg.version == 2 ? "memory.current" : "memory.usage_in_bytes",
			 nprocs);
	} else {
		if (cgdir)
			bench_fail(b, "footprint (cgroup)", &err);
		fp->v[slot] = (double)sm.pss / MIB;
		snprintf(note, note_len, "footprint = PSS of the instance's %zu process%s", nprocs,
			 nprocs == 1 ? "" : "es");
	}
}

/* An attribute the instance may publish shortly after READY (work an
 * engine defers so as not to delay startup); NULL after timeout_ms. */
static const char *wait_attr(struct vlab_instance *inst, const char *key, int timeout_ms)
{
	uint64_t deadline = vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		vlab_instance_pump(inst, NULL);
		const char *v = vlab_instance_attr(inst, key);
		if (v || vlab_now_ns() >= deadline ||
		    vlab_instance_state(inst) != VLAB_STATE_RUNNING ||
		    vlab_instance_event_fd(inst) < 0)
			return v;
		struct pollfd p = {.fd = vlab_instance_event_fd(inst), .events = POLLIN};
		poll(&p, 1, 20);
	}
}

static void record_attrs(struct bench *b, struct vlab_instance *inst, unsigned slot,
			 struct series_set *set)
{
	const char *v = vlab_instance_attr(inst, "backend");
	if (v)
		snprintf(b->col->backend, sizeof(b->col->backend), "%s", v);
	/* The engine's own account of its backend beats the prediction. */
	v = vlab_instance_attr(inst, "backend_reason");
	if (v)
		snprintf(b->col->reason, sizeof(b->col->reason), "%s", v);
	v = vlab_instance_attr(inst, "emulated");
	if (v && !strcmp(v, "yes"))
		b->emulated = 1;
	if (b->cfg->kinds & (1u << METRICS_IMAGE)) {
		v = wait_attr(inst, "image_bytes", 2000);
		char *end;
		unsigned long long bytes = v ? strtoull(v, &end, 10) : 0;
		if (!v || *end || end == v) {
			struct vlab_err e;
			vlab_err_set(&e, 0, "the engine publishes no image_bytes attribute");
			if (slot == b->warmup)
				bench_fail(b, "image", &e);
			return;
		}
		struct series *s = series_get(set, "image", METRICS_IMAGE, "image size", "MiB",
					      METRICS_LOWER_BETTER);
		if (s)
			s->v[slot] = (double)bytes / MIB;
	}
}

/* Boots warm-up + runs instances (or one, when only workloads are asked
 * for) and runs the workloads on the last. */
static void bench_engine(struct bench *b)
{
	unsigned kinds = b->cfg->kinds;
	int boots_measured =
	    kinds & ((1u << METRICS_STARTUP) | (1u << METRICS_IMAGE) | (1u << METRICS_FOOTPRINT));
	int workloads = kinds & ((1u << METRICS_CPU) | (1u << METRICS_MEM) | (1u << METRICS_DISK) |
				 (1u << METRICS_NET));
	unsigned nboot = boots_measured ? b->slots : 1;
	int timeout = b->cfg->ready_timeout_ms ? b->cfg->ready_timeout_ms
		      : b->emulated	       ? 300000
					       : 30000;
	struct series_set set = {.slots = b->slots};
	char note[80] = "";
	unsigned nwork = 0;
	for (int k = METRICS_CPU; k <= METRICS_NET; k++)
		nwork += !!(kinds & (1u << k));
	b->steps = nboot + nwork * b->slots;

	for (unsigned i = 0; i < nboot; i++) {
		struct vlab_spec spec;
		struct vlab_instance *inst = NULL;
		struct vlab_err err = {0};
		if (bench_progress(b, "startup") < 0)
			break;
		if (make_spec(b, i, &spec, &err) < 0) {
			bench_fail(b, "startup", &err);
			break;
		}
		if (vlab_instance_create(&spec, &inst, &err) < 0 ||
		    vlab_instance_start(inst, &err) < 0 ||
		    vlab_instance_wait_ready(inst, timeout, &err) < 0) {
			bench_fail(b, "startup", &err);
			drop_instance(b, inst, &spec);
			break;
		}
		if (kinds & (1u << METRICS_STARTUP)) {
			struct series *s =
			    series_get(&set, "startup", METRICS_STARTUP, "startup: create to READY",
				       "ms", METRICS_LOWER_BETTER);
			if (s)
				s->v[i] = (double)vlab_instance_startup_ns(inst) / 1e6;
			record_phases(b, inst, i, &set);
		}
		record_attrs(b, inst, i, &set);
		if (kinds & (1u << METRICS_FOOTPRINT))
			record_footprint(b, inst, i, &set, note, sizeof(note));
		if (i + 1 == nboot && workloads)
			bench_workloads(b, inst);
		drop_instance(b, inst, &spec);
	}
	bench_add_series(b, &set);
	series_free(&set);
	for (size_t r = 0; note[0] && r < b->col->nrows; r++)
		if (!strcmp(b->col->rows[r].key, "footprint"))
			snprintf(b->col->rows[r].note, sizeof(b->col->rows[r].note), "%s", note);
}

/* ---- the whole run ---- */

static int known_engine(const char *name)
{
	static const char *const names[] = {"vm", "container", "unikernel", "host"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return 1;
	return vlab_engine_find(name) != NULL;
}

int metrics_run(const struct metrics_config *cfg_in, struct metrics_result **out,
		struct vlab_err *err)
{
	struct metrics_config cfg = *cfg_in;
	struct vlab_hostcaps *probed = NULL;
	struct vlab_labnet *net = NULL;
	int net_failed = 0;
	struct vlab_err net_err = {0};
	*out = NULL;
	if (!cfg.kinds)
		cfg.kinds = METRICS_ALL;
	if (!cfg.runs)
		cfg.runs = 5;
	if (cfg.warmup == METRICS_NO_WARMUP)
		cfg.warmup = 0;
	else if (!cfg.warmup)
		cfg.warmup = 1;
	if (cfg.runs < METRICS_MIN_SAMPLES || cfg.runs > 1000)
		return vlab_err_set(err, EINVAL,
				    "runs: %u is not in %d-1000 (a single sample is not "
				    "a figure)",
				    cfg.runs, METRICS_MIN_SAMPLES);
	if (cfg.warmup > 100)
		return vlab_err_set(err, EINVAL, "warm-up: %u is more than 100", cfg.warmup);
	if (!cfg.ntargets)
		return vlab_err_set(err, EINVAL, "no engine to measure");
	for (size_t i = 0; i < cfg.ntargets; i++)
		if (!cfg.targets[i].engine || !known_engine(cfg.targets[i].engine))
			return vlab_err_set(err, EINVAL,
					    "unknown engine '%s' (vm, container, unikernel, host)",
					    cfg.targets[i].engine ? cfg.targets[i].engine : "");
	if (!cfg.caps) {
		probed = malloc(sizeof(*probed));
		if (!probed)
			return vlab_err_set(err, ENOMEM, "host capabilities");
		vlab_hostcaps_probe(probed, VLAB_CAPS_MEASURE_KVM);
		cfg.caps = probed;
	}
	struct metrics_result *res = metrics_result_new(cfg.runs, cfg.warmup, err);
	if (!res) {
		free(probed);
		return -1;
	}
	for (size_t i = 0; i < cfg.ntargets; i++) {
		const struct metrics_target *t = &cfg.targets[i];
		struct metrics_column *col = metrics_result_add_column(res, t->engine, err);
		if (!col) {
			metrics_result_free(res);
			res = NULL;
			break;
		}
		struct vlab_avail av;
		metrics_engine_avail(cfg.caps, t->engine, &av);
		col->available = av.level != VLAB_AVAIL_NO;
		snprintf(col->backend, sizeof(col->backend), "%s", av.backend);
		snprintf(col->reason, sizeof(col->reason), "%s", av.reason);
		struct bench b = {
		    .cfg = &cfg,
		    .target = t,
		    .col = col,
		    .runs = cfg.runs,
		    .warmup = cfg.warmup,
		    .slots = cfg.runs + cfg.warmup,
		    .emulated = !strncmp(av.backend, "tcg", 3),
		};
		if (!col->available || (cfg.cancel && *cfg.cancel))
			continue;
		if (!(cfg.kinds & (1u << METRICS_NET))) {
			b.net_mode = BENCH_NET_NONE;
		} else if (!strcmp(t->engine, "host")) {
			/* The host baseline: its agent listens on the host itself. */
			b.net_mode = BENCH_NET_LOOPBACK;
		} else if (!engine_has_opt(t->engine, "net.ns")) {
			struct vlab_err e;
			vlab_err_set(&e, 0,
				     "the %s engine does not join the lab network yet "
				     "(no VLAB_LABNET_OPTS)",
				     t->engine);
			bench_fail(&b, "net", &e);
			b.net_mode = BENCH_NET_NONE;
		} else {
			if (!net && !net_failed && vlab_labnet_acquire(&net, &net_err) < 0)
				net_failed = 1;
			if (net_failed)
				bench_fail(&b, "net", &net_err);
			b.net = net;
			b.net_mode = net ? BENCH_NET_LAB : BENCH_NET_NONE;
		}
		bench_engine(&b);
		col->emulated = b.emulated;
		if (b.emulated)
			snprintf(col->title, sizeof(col->title), "%s (emulated)", t->engine);
	}
	if (net)
		vlab_labnet_release(net);
	free(probed);
	*out = res;
	return res ? 0 : -1;
}
