/* metrics/stats.c: min, median, max, mean and p99 of repeated runs. */
#include "metrics/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double metrics_quantile(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return NAN;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

int metrics_summarize(const double *samples, size_t n, size_t warmup, struct metrics_summary *out,
		      struct vlab_err *err)
{
	memset(out, 0, sizeof(*out));
	if (warmup >= n || n - warmup < METRICS_MIN_SAMPLES)
		return vlab_err_set(err, EINVAL,
				    "%zu sample%s after %zu warm-up run%s: at least %d are needed "
				    "for a figure",
				    warmup < n ? n - warmup : 0, warmup + 1 == n ? "" : "s", warmup,
				    warmup == 1 ? "" : "s", METRICS_MIN_SAMPLES);
	size_t m = n - warmup;
	double *s = malloc(m * sizeof(double));
	if (!s)
		return vlab_err_set(err, ENOMEM, "summary of %zu samples", m);
	double sum = 0;
	for (size_t i = 0; i < m; i++) {
		s[i] = samples[warmup + i];
		if (!isfinite(s[i])) {
			free(s);
			return vlab_err_set(err, EINVAL, "sample %zu is not a finite number",
					    warmup + i + 1);
		}
		sum += s[i];
	}
	qsort(s, m, sizeof(double), cmp_double);
	out->n = m;
	out->min = s[0];
	out->max = s[m - 1];
	out->median = metrics_quantile(s, m, 0.5);
	out->mean = sum / (double)m;
	out->has_p99 = m >= METRICS_P99_MIN_SAMPLES;
	out->p99 = out->has_p99 ? metrics_quantile(s, m, 0.99) : 0;
	free(s);
	return 0;
}
