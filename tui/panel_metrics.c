/* tui/panel_metrics.c: the lab's measurements as bar charts side by side
 * (tui/chart.h), stacked and scrollable, with progress while a
 * measurement runs. */
#include <curses.h>
#include <stdio.h>

#include "tui/app.h"
#include "tui/chart.h"

static size_t charts(struct tui_app *app, const struct tui_chart **out)
{
	*out = app->charts;
	return app->ncharts;
}

static void draw(struct tui_app *app, struct tui_rect r, int focused)
{
	(void)focused;
	const struct tui_chart *c;
	size_t n = charts(app, &c);
	/* While a step measures: how far it got, on the first line. */
	int busy = app->lab && lesson_session_busy(app->lab) >= 0;
	if (busy && app->measured > 0 && r.h > 2) {
		char m[160];
		snprintf(m, sizeof(m), "%c measuring: %u recorded, last %s", "|/-\\"[app->spin % 4],
			 app -> measured, app -> measuring);
		tui_draw_str(r.y, r.x, r.w, m, TUI_WARN);
		r.y++;
		r.h--;
	}
	if (n == 0) {
		tui_draw_str(r.y, r.x, r.w, "No measurements yet.", TUI_DIM);
		if (r.h > 1)
			tui_draw_str(r.y + 1, r.x, r.w, "Steps that measure chart them here.",
				     TUI_DIM);
		return;
	}
	struct tui_text t = {0};
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			tui_text_newline(&t);
		tui_chart_render(&c[i], r.w, &app->term.g, &t);
	}
	/* Newest at the bottom; scrolling goes back in time. */
	int total = (int)t.n;
	int maxscroll = total > r.h ? total - r.h : 0;
	if (app->metrics_scroll > maxscroll)
		app->metrics_scroll = maxscroll;
	int first = total - r.h - app->metrics_scroll;
	if (first < 0)
		first = 0;
	for (int y = 0; y < r.h && first + y < total; y++)
		tui_draw_line(r.y + y, r.x, r.w, &t.line[first + y]);
	tui_text_free(&t);
}

static int key(struct tui_app *app, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		app->metrics_scroll++;
		return 1;
	case KEY_DOWN:
	case 'j':
		if (app->metrics_scroll > 0)
			app->metrics_scroll--;
		return 1;
	case KEY_PPAGE:
		app->metrics_scroll += 5;
		return 1;
	case KEY_NPAGE:
		app->metrics_scroll = app->metrics_scroll > 5 ? app->metrics_scroll - 5 : 0;
		return 1;
	}
	return 0;
}

static const char *keys(struct tui_app *app)
{
	(void)app;
	return "j/k scroll";
}

static void title(struct tui_app *app, char *buf, size_t len)
{
	const struct tui_chart *c;
	size_t n = charts(app, &c);
	if (n)
		snprintf(buf, len, "Metrics (%zu)", n);
	else
		snprintf(buf, len, "Metrics");
}

const struct tui_panel_ops tui_metrics_panel = {
    .name = "metrics",
    .draw = draw,
    .key = key,
    .keys = keys,
    .title = title,
};
