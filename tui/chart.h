/* tui/chart.h: one metric as horizontal bars side by side (one bar per
 * engine, the host baseline among them), with its unit, min-max range,
 * number of runs and the ratio to the baseline.  Laid out as styled text
 * lines (pure, unit-tested); the metrics panel only blits them. */
#ifndef VLAB_TUI_CHART_H
#define VLAB_TUI_CHART_H

#include <stddef.h>

#include "tui/term.h"
#include "tui/text.h"

#define TUI_CHART_BARS 8

struct tui_bar {
	char label[24]; /* "container", "vm (emulated)", "host" */
	double median, min, max;
	unsigned runs;
	int baseline; /* the host column: ratios are against it */
	int pending;  /* being measured: no figure yet */
};

struct tui_chart {
	char title[48];	  /* "startup", "memory copy" */
	char unit[16];	  /* "ms", "MB/s" */
	int lower_better; /* 1 for times, 0 for throughputs */
	size_t n;
	struct tui_bar bar[TUI_CHART_BARS];
	int progress;	 /* runs done while measuring, -1 when idle */
	int progress_of; /* runs planned */
};

/* Appends the chart's lines (title line, one line per bar, a progress line
 * while measuring) laid out for width columns. */
int tui_chart_render(const struct tui_chart *c, int width, const struct tui_glyphs *g,
		     struct tui_text *out);

/* "3.21", "512", "12.0k": a figure in at most 6 columns. */
char *tui_fmt_num(double v, char *buf, size_t len);

#endif
