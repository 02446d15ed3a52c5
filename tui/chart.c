/* tui/chart.c: bar charts as styled text lines. */
#include "tui/chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

char *tui_fmt_num(double v, char *buf, size_t len)
{
	double a = fabs(v);
	if (a >= 1e9)
		snprintf(buf, len, "%.1fG", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (a >= 1e5)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else if (a >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static int add(struct tui_line *l, const char *s, enum tui_style st)
{
	return tui_line_add(l, s, strlen(s), st);
}

static int add_n(struct tui_line *l, const char *s, int times, enum tui_style st)
{
	for (int i = 0; i < times; i++)
		if (add(l, s, st) < 0)
			return -1;
	return 0;
}

static const struct tui_bar *baseline_of(const struct tui_chart *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->bar[i].baseline && !c->bar[i].pending && c->bar[i].runs)
			return &c->bar[i];
	return NULL;
}

/* The figures right of a bar: "3.21 [2.9-4.0] 3.5x", as much as `parts`
 * allows (1 median, 2 + range, 4 + ratio). */
static void right_text(const struct tui_chart *c, const struct tui_bar *b,
		       const struct tui_bar *base, int parts, char *buf, size_t len)
{
	char m[16], lo[16], hi[16];
	if (b->pending || !b->runs) {
		snprintf(buf, len, "%s", b->pending ? "..." : "-");
		return;
	}
	size_t k = (size_t)snprintf(buf, len, "%s", tui_fmt_num(b->median, m, sizeof(m)));
	if ((parts & 2) && k < len && b->runs > 1)
		k += (size_t)snprintf(buf + k, len - k, " [%s-%s]",
				      tui_fmt_num(b->min, lo, sizeof(lo)),
				      tui_fmt_num(b->max, hi, sizeof(hi)));
	if ((parts & 4) && k < len && base && b != base && base->median > 0) {
		double r = b->median / base->median;
		(void)c;
		k += (size_t)snprintf(buf + k, len - k, r >= 10 ? " %.0fx" : " %.1fx", r);
	}
}

int tui_chart_render(const struct tui_chart *c, int width, const struct tui_glyphs *g,
		     struct tui_text *out)
{
	const struct tui_bar *base = baseline_of(c);
	unsigned runs = 0;
	int same_runs = 1;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->bar[i].runs)
			continue;
		if (runs && runs != c->bar[i].runs)
			same_runs = 0;
		runs = c->bar[i].runs > runs ? c->bar[i].runs : runs;
	}
	/* The title, as long as the width allows. */
	char title[3][160];
	snprintf(title[0], sizeof(title[0]), "%s (%s), %s%u run%s, %s is better", c->title, c->unit,
		 same_runs ? "" : "up to ", runs, runs == 1 ? "" : "s",
		 c->lower_better ? "lower" : "higher");
	snprintf(title[1], sizeof(title[1]), "%s (%s) n=%u, %s", c->title, c->unit, runs,
		 c->lower_better ? "lower=better" : "higher=better");
	snprintf(title[2], sizeof(title[2]), "%s (%s) n=%u", c->title, c->unit, runs);
	int ti = 0;
	while (ti < 2 && (int)strlen(title[ti]) > width)
		ti++;
	if (tui_text_add(out, title[ti], TUI_EMPH, width) < 0)
		return -1;

	int labelw = 4;
	for (size_t i = 0; i < c->n; i++) {
		int w = tui_text_width(c->bar[i].label, strlen(c->bar[i].label));
		labelw = w > labelw ? w : labelw;
	}
	if (labelw > width / 3)
		labelw = width / 3;
	int parts = 7, rightw = 0, barw = 0;
	for (;;) {
		rightw = 0;
		for (size_t i = 0; i < c->n; i++) {
			char r[64];
			right_text(c, &c->bar[i], base, parts, r, sizeof(r));
			int w = (int)strlen(r);
			rightw = w > rightw ? w : rightw;
		}
		barw = width - labelw - rightw - 2;
		if (barw >= 14 || parts == 1)
			break;
		parts = parts == 7 ? 5 : 1; /* drop the range first, then the ratio */
	}
	if (barw < 1)
		barw = 1;
	double scale = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct tui_bar *b = &c->bar[i];
		if (b->pending || !b->runs)
			continue;
		double top = b->max > b->median ? b->max : b->median;
		scale = top > scale ? top : scale;
	}

	for (size_t i = 0; i < c->n; i++) {
		const struct tui_bar *b = &c->bar[i];
		struct tui_line *l = tui_text_newline(out);
		if (!l)
			return -1;
		char lab[64];
		size_t fit = tui_text_fit(b->label, strlen(b->label), labelw);
		int lw = tui_text_width(b->label, fit);
		snprintf(lab, sizeof(lab), "%.*s", (int)fit, b->label);
		if (add(l, lab, b->baseline ? TUI_BASELINE : TUI_NORMAL) < 0 ||
		    add_n(l, " ", labelw - lw + 1, TUI_NORMAL) < 0)
			return -1;
		int used = 0;
		if (!b->pending && b->runs && scale > 0) {
			enum tui_style st = b->baseline ? TUI_BASELINE : TUI_BAR;
			int eighths = (int)lround(b->median / scale * barw * 8);
			if (eighths == 0 && b->median > 0)
				eighths = 1; /* something, however small, is not nothing */
			int full = eighths / 8, rem = eighths % 8;
			if (!g->utf8 && rem >= 4) {
				full++;
				rem = 0;
			} else if (!g->utf8) {
				rem = 0;
				if (full == 0 && b->median > 0)
					full = 1;
			}
			if (add_n(l, g->full, full, st) < 0)
				return -1;
			used = full;
			if (rem && used < barw) {
				if (add(l, g->part[rem], st) < 0)
					return -1;
				used++;
			}
			/* The whisker: from the median's end to the slowest run. */
			int to = (int)lround(b->max / scale * barw);
			if (b->runs > 1 && to > used) {
				if (add_n(l, g->hline, to - used, TUI_DIM) < 0)
					return -1;
				used = to;
			}
		} else if (b->pending) {
			const char *m = "measuring";
			int n = (int)strlen(m) < barw ? (int)strlen(m) : barw;
			if (tui_line_add(l, m, (size_t)n, TUI_WARN) < 0)
				return -1;
			used = n;
		}
		char r[64];
		right_text(c, b, base, parts, r, sizeof(r));
		if (add_n(l, " ", barw - used + 1, TUI_NORMAL) < 0 ||
		    tui_line_add(l, r, tui_text_fit(r, strlen(r), rightw), TUI_NORMAL) < 0)
			return -1;
	}
	if (c->progress >= 0 && c->progress_of > 0) {
		char p[64];
		snprintf(p, sizeof(p), "measuring: run %d of %d", c->progress, c->progress_of);
		struct tui_line *l = tui_text_newline(out);
		if (!l || add(l, p, TUI_WARN) < 0)
			return -1;
		int room = width - (int)strlen(p) - 3;
		if (room > 4) {
			int done = c->progress * room / c->progress_of;
			if (add(l, "  ", TUI_NORMAL) < 0 || add_n(l, g->full, done, TUI_BAR) < 0 ||
			    add_n(l, g->utf8 ? "\xe2\x96\x91" : ".", room - done, TUI_DIM) < 0)
				return -1;
		}
	}
	return 0;
}
