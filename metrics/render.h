/* metrics/render.h: a benchmark result as text: the side-by-side table
 * people read, JSON and CSV for scripts.  All three carry the same
 * figures; the table rounds them with metrics_fmt_value(). */
#ifndef VLAB_METRICS_RENDER_H
#define VLAB_METRICS_RENDER_H

#include <stddef.h>

#include "core/err.h"
#include "metrics/result.h"

enum metrics_format {
	METRICS_FORMAT_TABLE,
	METRICS_FORMAT_JSON,
	METRICS_FORMAT_CSV,
};

/* "table", "json", "csv". */
int metrics_format_parse(const char *name, enum metrics_format *out, struct vlab_err *err);

/* The result rendered in fmt, as a NUL-terminated string the caller frees. */
char *metrics_render(const struct metrics_result *res, enum metrics_format fmt,
		     struct vlab_err *err);

/* A figure as the table prints it: about four significant digits ("0.500",
 * "0.0123", "4.567", "12.35", "123.5", "1235", "123457"); an exponent only
 * below 0.001.  Returns buf. */
char *metrics_fmt_value(double v, char *buf, size_t len);

#endif
