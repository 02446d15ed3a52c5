/* metrics/bench.h: internals shared by the two halves of metrics_run():
 * run.c (engines, boots: startup, image, footprint) and workload.c (the
 * agent's workloads, the echo client, KVM exits).  Not an API. */
#ifndef VLAB_METRICS_BENCH_H
#define VLAB_METRICS_BENCH_H

#include "engines/labnet/labnet.h"
#include "metrics/run.h"

/* A growable set of named sample series, one slot per run (NAN: missing). */
struct series {
	char key[48];
	char label[64];
	char unit[16];
	enum metrics_kind kind;
	enum metrics_better better;
	double *v;
};

struct series_set {
	struct series *s;
	size_t n, cap;
	size_t slots; /* samples per series: warm-up + runs */
};

/* The series named key, created (all NAN) on first use; NULL on no memory. */
struct series *series_get(struct series_set *set, const char *key, enum metrics_kind kind,
			  const char *label, const char *unit, enum metrics_better better);
void series_free(struct series_set *set);

/* One engine being measured. */
struct bench {
	const struct metrics_config *cfg;
	const struct metrics_target *target;
	struct metrics_column *col;
	struct vlab_labnet *net; /* the lab network, when the engine joins it */
	enum { BENCH_NET_NONE, BENCH_NET_LAB, BENCH_NET_LOOPBACK } net_mode;
	unsigned runs, warmup, slots;
	unsigned step, steps; /* progress */
	int emulated;
	int request_timeout_ms;
};

/* Appends "what: message" to the column's error text. */
void bench_fail(struct bench *b, const char *what, const struct vlab_err *err);
/* Reports progress and says whether to stop (cancelled). */
int bench_progress(struct bench *b, const char *what);
int bench_cancelled(const struct bench *b);

/* Runs the selected workloads (cpu, mem, disk, net) warm-up + runs times
 * each on a READY instance, adding their rows (and KVM exit rows) to the
 * column.  Failures are noted in the column, not returned. */
void bench_workloads(struct bench *b, struct vlab_instance *inst);

/* Adds every series with enough finite samples as a row. */
void bench_add_series(struct bench *b, struct series_set *set);

#endif
