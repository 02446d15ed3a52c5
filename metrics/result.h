/* metrics/result.h: the outcome of a benchmark run: one column per engine
 * (the host baseline included), one row per figure, each figure a summary
 * of repeated runs with its unit.  metrics_run() (metrics/run.h) fills it,
 * the renderers (metrics/render.h) print it, the Lua layer walks it.
 *
 * Row keys are stable names scripts can rely on:
 *   startup                      create() -> READY, ms
 *   startup.<phase>              time spent in each startup phase, ms
 *   image                        bytes a user ships to run it, MiB
 *   footprint                    the official figure (PSS, or cgroup usage
 *                                for the container: see the row's note), MiB
 *   footprint.pss                PSS of the process tree, for every engine
 *   cpu.int cpu.fp               Mops/s of the sieve / MFLOP/s of the matmul
 *   mem.copy .scale .add .triad  STREAM, MB/s
 *   disk.write disk.read         MB/s
 *   net.rtt                      UDP echo round trip, us (with p99)
 *   net.tps                      request/response transactions per second
 *   exits.<workload>.<reason>    KVM exits per second during a workload */
#ifndef VLAB_METRICS_RESULT_H
#define VLAB_METRICS_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "metrics/stats.h"

/* The seven metrics of the course, selectable one by one. */
enum metrics_kind {
	METRICS_STARTUP,
	METRICS_IMAGE,
	METRICS_FOOTPRINT,
	METRICS_CPU,
	METRICS_MEM,
	METRICS_DISK,
	METRICS_NET,
	METRICS_EXITS, /* not selectable: comes with the workloads on KVM engines */
	METRICS_KINDS
};

#define METRICS_ALL ((1u << METRICS_EXITS) - 1)

/* "startup", "image", ... */
const char *metrics_kind_name(enum metrics_kind kind);
/* "startup,cpu,net" or "all" -> a mask of 1 << kind.  Names the unknown
 * word on failure. */
int metrics_kinds_parse(const char *list, unsigned *mask, struct vlab_err *err);

enum metrics_better {
	METRICS_LOWER_BETTER = -1,
	METRICS_NEUTRAL = 0,
	METRICS_HIGHER_BETTER = 1,
};

/* One figure of one engine. */
struct metrics_row {
	char key[48]; /* stable name, see above */
	enum metrics_kind kind;
	char label[64]; /* for people: "startup (create to READY)" */
	char unit[16];	/* "ms", "MiB", "MB/s", "Mops/s", "us", "tx/s", "exits/s" */
	enum metrics_better better;
	struct metrics_summary s;
	double *samples; /* the summarised samples (warm-up excluded), owned */
	size_t nsamples;
	char note[80]; /* how it was measured, when it matters ("PSS", "cgroup v1") */
};

/* One engine. */
struct metrics_column {
	char engine[16]; /* "vm", "container", "unikernel", "host" */
	char title[40];	 /* "vm (emulated)" */
	int available;	 /* the host can run it (else reason says why) */
	int emulated;	 /* runs under software emulation */
	char backend[32];
	char reason[256];	  /* the doctor's words */
	char error[VLAB_ERR_MSG]; /* what went wrong during the run, "" when nothing */
	struct metrics_row *rows;
	size_t nrows, cap;
};

struct metrics_result {
	unsigned runs, warmup; /* per figure */
	char machine[256];     /* where the numbers come from */
	char when[32];	       /* ISO 8601 UTC */
	struct metrics_column *cols;
	size_t ncols;
};

/* An empty result for runs/warmup; free with metrics_result_free(). */
struct metrics_result *metrics_result_new(unsigned runs, unsigned warmup, struct vlab_err *err);
void metrics_result_free(struct metrics_result *res);

/* Appends a column for engine (title defaults to the engine name). */
struct metrics_column *metrics_result_add_column(struct metrics_result *res, const char *engine,
						 struct vlab_err *err);

/* Summarises samples[warmup..n) into a new row of col.  Fails when there
 * are too few samples (metrics_summarize) or no memory. */
struct metrics_row *metrics_column_add(struct metrics_column *col, const char *key,
				       enum metrics_kind kind, const char *label, const char *unit,
				       enum metrics_better better, const double *samples, size_t n,
				       size_t warmup, struct vlab_err *err);

/* The row named key, NULL when the column has none. */
const struct metrics_row *metrics_column_find(const struct metrics_column *col, const char *key);
/* The column of engine, NULL when absent. */
const struct metrics_column *metrics_result_find(const struct metrics_result *res,
						 const char *engine);

/* Median of row divided by the host column's median for the same key: 1 in
 * the host column itself, NAN when there is no host figure or it is 0. */
double metrics_ratio(const struct metrics_result *res, const struct metrics_column *col,
		     const struct metrics_row *row);

/* A one-line description of this machine (CPU model, count, kernel). */
void metrics_describe_machine(char *buf, size_t len);

#endif
