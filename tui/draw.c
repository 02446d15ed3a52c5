/* tui/draw.c: the drawing helpers every panel uses: clipped styled text,
 * frames, the status line and the lab log. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "tui/app.h"

int tui_draw_str(int y, int x, int w, const char *s, enum tui_style style)
{
	if (w <= 0 || !s)
		return 0;
	size_t n = tui_text_fit(s, strlen(s), w);
	attrset(tui_attr(style));
	mvaddnstr(y, x, s, (int)n);
	attrset(A_NORMAL);
	return tui_text_width(s, n);
}

void tui_draw_line(int y, int x, int w, const struct tui_line *l)
{
	if (!l->text || w <= 0)
		return;
	size_t n = tui_text_fit(l->text, l->len, w);
	size_t i = 0;
	int col = x;
	while (i < n) {
		size_t j = i;
		while (j < n && l->style[j] == l->style[i])
			j++;
		attrset(tui_attr((enum tui_style)l->style[i]));
		mvaddnstr(y, col, l->text + i, (int)(j - i));
		col += tui_text_width(l->text + i, j - i);
		i = j;
	}
	attrset(A_NORMAL);
}

void tui_draw_clear(struct tui_rect r)
{
	for (int y = r.y; y < r.y + r.h; y++) {
		move(y, r.x);
		for (int x = 0; x < r.w; x++)
			addch(' ');
	}
}

void tui_draw_frame(const struct tui_app *app, struct tui_rect r, const char *title, int focused)
{
	const struct tui_glyphs *g = &app->term.g;
	enum tui_style st = focused ? TUI_FOCUS : TUI_BORDER;
	if (r.h < 2 || r.w < 2)
		return;
	attrset(tui_attr(st));
	mvaddstr(r.y, r.x, g->tl);
	for (int x = 1; x < r.w - 1; x++)
		addstr(g->hline);
	addstr(g->tr);
	for (int y = r.y + 1; y < r.y + r.h - 1; y++) {
		mvaddstr(y, r.x, g->vline);
		mvaddstr(y, r.x + r.w - 1, g->vline);
	}
	mvaddstr(r.y + r.h - 1, r.x, g->bl);
	for (int x = 1; x < r.w - 1; x++)
		addstr(g->hline);
	addstr(g->br);
	attrset(A_NORMAL);
	if (title && *title && r.w > 6) {
		char t[256];
		snprintf(t, sizeof(t), focused ? "[ %s ]" : "  %s  ", title);
		tui_draw_str(r.y, r.x + 2, r.w - 4, t, focused ? TUI_FOCUS : TUI_EMPH);
	}
}

void tui_status(struct tui_app *app, enum tui_style style, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(app->status, sizeof(app->status), fmt, ap);
	va_end(ap);
	app->status_style = style;
	app->status_ns = vlab_now_ns();
}

void tui_log(struct tui_app *app, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	tui_sb_feed(&app->log, line, (size_t)n);
}
