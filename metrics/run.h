/* metrics/run.h: measure engines side by side: the API behind `vlab bench`
 * and the lessons' vlab.compare.
 *
 * For each target engine metrics_run() boots warm-up + runs instances one
 * after the other (startup, image size and footprint of each), keeps the
 * last one and sends it every selected workload warm-up + runs times
 * through the probe agent's protocol (cpu, mem, disk; net-echo with the
 * host-side echo client inside the lab network), sampling the instance's
 * KVM exit counters around each.  Every figure lands in a struct
 * metrics_result (metrics/result.h) as a summary with its unit.
 *
 * No terminal needed: progress goes to a callback, nothing is printed.  An
 * engine this host cannot run becomes an unavailable column carrying the
 * doctor's reason; an engine that fails midway keeps the figures it got and
 * says what failed. */
#ifndef VLAB_METRICS_RUN_H
#define VLAB_METRICS_RUN_H

#include <signal.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "metrics/result.h"

/* What to measure on: an engine, with options for its spec (may be NULL;
 * its engine and name are ignored).  net.* options are filled in by
 * metrics_run() when the net metric is selected. */
struct metrics_target {
	const char *engine;
	const struct vlab_spec *spec;
};

/* Workload sizes; 0 takes the default (in brackets). */
struct metrics_sizes {
	uint64_t cpu_sieve;   /* integers sieved [2M] */
	uint32_t cpu_matrix;  /* matrix dimension [the agent's default for the sieve] */
	uint64_t mem_bytes;   /* per STREAM array [16M] */
	uint32_t mem_reps;    /* STREAM repetitions, the best one counts [5] */
	uint64_t disk_bytes;  /* written then read back [32M] */
	uint64_t disk_block;  /* per write/read [1M] */
	uint32_t net_count;   /* round trips per run [1000] */
	uint32_t net_payload; /* datagram bytes [64] */
};

/* Progress: engine, what it is doing ("startup", "cpu", ...), and how far
 * (done of total steps of this engine).  Called from metrics_run's thread. */
typedef void (*metrics_progress_fn)(void *arg, const char *engine, const char *step, unsigned done,
				    unsigned total);

struct metrics_config {
	const struct metrics_target *targets;
	size_t ntargets;
	unsigned kinds;	 /* 1 << enum metrics_kind; 0: all seven */
	unsigned runs;	 /* measured runs per figure, >= METRICS_MIN_SAMPLES [5] */
	unsigned warmup; /* runs discarded before them [1]; give METRICS_NO_WARMUP for none */
	struct metrics_sizes sizes;
	int ready_timeout_ms; /* per boot; 0: 30 s, 300 s for an emulated VM */
	metrics_progress_fn progress;
	void *progress_arg;
	/* Set to nonzero (e.g. from a SIGINT handler) to stop early: the
	 * instance running is stopped, the result keeps what was measured. */
	const volatile sig_atomic_t *cancel;
	/* The host's capabilities; probed (with the KVM measurement) when
	 * NULL. */
	const struct vlab_hostcaps *caps;
};

#define METRICS_NO_WARMUP (~0u)

/* Runs the configuration.  Returns 0 with *out (free it with
 * metrics_result_free()) even when engines failed or were unavailable
 * (their columns say why); -1 with err only for a malformed configuration
 * (unknown engine name, too few runs) or no memory. */
int metrics_run(const struct metrics_config *cfg, struct metrics_result **out,
		struct vlab_err *err);

/* What the doctor says about engine on this host (the same words), with
 * "not built into this vlab yet" for an engine that is not compiled in. */
void metrics_engine_avail(const struct vlab_hostcaps *caps, const char *engine,
			  struct vlab_avail *avail);

#endif
