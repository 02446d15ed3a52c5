/* metrics/stats.h: summary statistics of repeated measurements.
 *
 * Every figure vlab shows comes from several runs: the first `warmup`
 * samples are dropped (caches, page faults, a cold TAP), the rest are
 * summarised as min, median, max, mean and, where there are enough samples
 * for it to mean something, the 99th percentile.
 *
 * Quantiles interpolate linearly between the closest ranks (the definition
 * of R's type 7 and NumPy's default): for n sorted samples x[0..n-1], the
 * q-quantile is x[h] + (h - floor(h)) (x[h+1] - x[h]) with h = (n-1) q.  The
 * median of an even count is therefore the mean of the two middle values. */
#ifndef VLAB_METRICS_STATS_H
#define VLAB_METRICS_STATS_H

#include <stddef.h>

#include "core/err.h"

/* Fewest samples (after warm-up) that make a figure: a single sample is
 * never shown. */
#define METRICS_MIN_SAMPLES 2
/* Fewest samples for which a 99th percentile is reported. */
#define METRICS_P99_MIN_SAMPLES 100

struct metrics_summary {
	size_t n; /* samples summarised (warm-up excluded) */
	double min, median, max, mean;
	double p99;  /* valid when has_p99 */
	int has_p99; /* n >= METRICS_P99_MIN_SAMPLES */
};

/* Summarises samples[warmup..n).  Fails with EINVAL when fewer than
 * METRICS_MIN_SAMPLES remain or a sample is not a finite number.  The
 * input is not modified. */
int metrics_summarize(const double *samples, size_t n, size_t warmup, struct metrics_summary *out,
		      struct vlab_err *err);

/* The q-quantile (0 <= q <= 1) of n >= 1 samples sorted ascending. */
double metrics_quantile(const double *sorted, size_t n, double q);

#endif
