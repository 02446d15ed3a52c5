/* tui/panel_console.c: a tab per instance (VM serial console, container
 * and unikernel output) plus the lab's own log, with scrollback, and
 * typing into the instance when the current step allows it. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/app.h"

static struct tui_scrollback *active_sb(struct tui_app *app, int **scroll)
{
	if (app->tab > 0 && app->tab <= app->ninst) {
		*scroll = &app->inst[app->tab - 1].scroll;
		return &app->inst[app->tab - 1].sb;
	}
	*scroll = &app->log_scroll;
	return &app->log;
}

/* May the student type into the active tab's instance now?  Into any
 * running instance that has a console (a VM's serial console, a container
 * shell). */
static struct tui_inst *typable(struct tui_app *app)
{
	if (app->tab == 0 || app->tab > app->ninst)
		return NULL;
	struct tui_inst *ti = &app->inst[app->tab - 1];
	const struct lesson_instance *li = tui_inst_of(app, ti);
	if (!li || li->gone || li->console_fd < 0 ||
	    (li->state != VLAB_STATE_RUNNING && li->state != VLAB_STATE_STARTING))
		return NULL;
	return ti;
}

static void draw(struct tui_app *app, struct tui_rect r, int focused)
{
	int *scroll;
	struct tui_scrollback *sb = active_sb(app, &scroll);
	int rows = r.h;
	if (focused && app->typing && rows > 1)
		rows--;
	/* Lines wrap to the width: walk back from the newest line. */
	size_t n = tui_sb_count(sb);
	if ((size_t)*scroll >= n)
		*scroll = n ? (int)n - 1 : 0;
	int y = r.y + rows;
	for (size_t k = n - (size_t)*scroll; k > 0 && y > r.y; k--) {
		const char *s = tui_sb_line(sb, k - 1);
		size_t len = strlen(s);
		/* Split the line into width-sized pieces. */
		size_t starts[64];
		int np = 0;
		size_t off = 0;
		do {
			starts[np++] = off;
			size_t take = tui_text_fit(s + off, len - off, r.w);
			if (take == 0)
				break;
			off += take;
		} while (off < len && np < 64);
		for (int p = np - 1; p >= 0 && y > r.y; p--) {
			y--;
			size_t e = p + 1 < np ? starts[p + 1] : len;
			char piece[TUI_SB_LINE_MAX + 1];
			snprintf(piece, sizeof(piece), "%.*s", (int)(e - starts[p]), s + starts[p]);
			tui_draw_str(y, r.x, r.w, piece, app->tab == 0 ? TUI_NORMAL : TUI_CODE);
		}
	}
	if (n == 0)
		tui_draw_str(r.y, r.x, r.w,
			     app->tab == 0 ? "The lab's messages appear here." : "(no output yet)",
			     TUI_DIM);
	if (*scroll > 0) {
		char more[48];
		snprintf(more, sizeof(more), " %d more below ", *scroll);
		tui_draw_str(r.y + r.h - 1, r.x + r.w - (int)strlen(more), (int)strlen(more), more,
			     TUI_KEY);
	}
	if (focused && app->typing) {
		struct tui_inst *ti = typable(app);
		char msg[128];
		snprintf(msg, sizeof(msg), "typing into %s: Esc or Tab to stop",
			 ti ? ti->name : "?");
		tui_draw_str(r.y + r.h - 1, r.x, r.w, msg, TUI_KEY);
	}
}

/* Bytes a key sends to a console, as a terminal would. */
static int key_bytes(int ch, char *out)
{
	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		out[0] = '\n';
		return 1;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		out[0] = 0x7f;
		return 1;
	case KEY_UP:
		memcpy(out, "\x1b[A", 3);
		return 3;
	case KEY_DOWN:
		memcpy(out, "\x1b[B", 3);
		return 3;
	case KEY_RIGHT:
		memcpy(out, "\x1b[C", 3);
		return 3;
	case KEY_LEFT:
		memcpy(out, "\x1b[D", 3);
		return 3;
	}
	if (ch >= 0 && ch < 256) {
		out[0] = (char)ch;
		return 1;
	}
	return 0;
}

static int key(struct tui_app *app, int ch)
{
	int *scroll;
	struct tui_scrollback *sb = active_sb(app, &scroll);
	if (app->typing) {
		struct tui_inst *ti = typable(app);
		if (!ti || ch == 27 || ch == '\t' || ch == KEY_BTAB) {
			app->typing = 0;
			return ch == 27 || !ti;
		}
		char b[8];
		int n = key_bytes(ch, b);
		struct vlab_err err = {0};
		if (n > 0 && lesson_session_console_write(app->lab, ti->id, b, (size_t)n, &err) < 0)
			tui_status(app, TUI_BAD, "%s: %s", ti->name, err.msg);
		*scroll = 0;
		return 1;
	}
	switch (ch) {
	case 'i':
	case '\r':
	case KEY_ENTER:
		if (typable(app)) {
			app->typing = 1;
			return 1;
		}
		if (ch == 'i')
			tui_status(app, TUI_WARN, "%s takes no typing now",
				   app->tab ? app->inst[app->tab - 1].name : "the lab log");
		return 1;
	case '[':
	case KEY_LEFT:
		app->tab = app->tab > 0 ? app->tab - 1 : app->ninst;
		return 1;
	case ']':
	case KEY_RIGHT:
		app->tab = app->tab < app->ninst ? app->tab + 1 : 0;
		return 1;
	case KEY_UP:
	case 'k':
		(*scroll)++;
		return 1;
	case KEY_DOWN:
	case 'j':
		if (*scroll > 0)
			(*scroll)--;
		return 1;
	case KEY_PPAGE:
		*scroll += 10;
		return 1;
	case KEY_NPAGE:
		*scroll = *scroll > 10 ? *scroll - 10 : 0;
		return 1;
	case KEY_HOME:
		*scroll = (int)tui_sb_count(sb);
		return 1;
	case KEY_END:
		*scroll = 0;
		return 1;
	}
	if (ch >= '0' && ch <= '9' && (size_t)(ch - '0') <= app->ninst) {
		app->tab = (size_t)(ch - '0');
		return 1;
	}
	return 0;
}

static const char *keys(struct tui_app *app)
{
	if (app->typing)
		return "Esc stop typing";
	return typable(app) ? "i type  [/] tab  j/k scroll" : "[/] tab  j/k scroll";
}

static void title(struct tui_app *app, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "Console:");
	for (size_t t = 0; t <= app->ninst && k < len; t++) {
		const char *nm = t == 0 ? "lab" : app->inst[t - 1].name;
		k += (size_t)snprintf(buf + k, len - k, t == app->tab ? " <%zu:%s>" : " %zu:%s", t,
				      nm);
	}
}

const struct tui_panel_ops tui_console_panel = {
    .name = "console",
    .draw = draw,
    .key = key,
    .keys = keys,
    .title = title,
};
