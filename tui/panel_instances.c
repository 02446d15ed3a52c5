/* tui/panel_instances.c: one entry per instance: engine, backend, state,
 * live CPU and memory, and for the KVM engines the exits per second by
 * reason (the student sees the hypervisor trap), or the unikernel's
 * hypercalls. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"
#include "tui/app.h"
#include "tui/chart.h"

static enum tui_style state_style(enum vlab_state s)
{
	switch (s) {
	case VLAB_STATE_RUNNING:
		return TUI_GOOD;
	case VLAB_STATE_STARTING:
	case VLAB_STATE_STOPPING:
		return TUI_WARN;
	case VLAB_STATE_FAILED:
		return TUI_BAD;
	default:
		return TUI_DIM;
	}
}

/* "330K", "14.2M", "1.1G": memory in few columns. */
static void short_bytes(uint64_t b, char *buf, size_t len)
{
	static const char unit[] = "BKMGT";
	double v = (double)b;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v >= 100 || u == 0 ? "%.0f%c" : "%.1f%c", v, unit[u]);
}

/* "exits/s io 1.2k mmio 310 hlt 5 (total 53k)": a rate list on one line. */
static void draw_rates(int y, int x, int w, const char *what, const struct tui_rate *list, size_t n,
		       uint64_t total)
{
	char part[64], num[16];
	int c = x + tui_draw_str(y, x, w, what, TUI_NORMAL);
	for (size_t k = 0; k < n && c < x + w - 4; k++) {
		snprintf(part, sizeof(part), " %s ", list[k].name);
		c += tui_draw_str(y, c, x + w - c, part, TUI_NORMAL);
		if (list[k].rate < 1)
			snprintf(num, sizeof(num), "%.0f", list[k].rate);
		else
			tui_fmt_num(list[k].rate, num, sizeof(num));
		c += tui_draw_str(y, c, x + w - c, num, list[k].rate > 0 ? TUI_WARN : TUI_DIM);
	}
	if (total && c < x + w - 8) {
		char t[16];
		if (total < 100000)
			snprintf(t, sizeof(t), "%llu", (unsigned long long)total);
		else
			tui_fmt_num((double)total, t, sizeof(t));
		snprintf(part, sizeof(part), " (total %s)", t);
		tui_draw_str(y, c, x + w - c, part, TUI_DIM);
	}
}

/* Lines an entry would like: identity, figures, exits, hypercalls. */
int tui_inst_lines(const struct tui_inst *ti)
{
	return 2 + (ti->nexits > 0) + (ti->nhcalls > 0);
}

/* The entry's lines (at most room); returns how many were drawn. */
static int draw_one(struct tui_app *app, const struct tui_inst *ti, int y, int x, int w, int room)
{
	const struct lesson_instance *li = tui_inst_of(app, ti);
	if (!li || room < 1)
		return 0;
	enum vlab_state st = li->state;
	int live = !li->gone && (st == VLAB_STATE_RUNNING || st == VLAB_STATE_STARTING);
	char cpu[16] = "-", mem[24] = "-", line[320], t[24];
	if (ti->ps_ok && ti->ps.valid)
		snprintf(cpu, sizeof(cpu), "%.0f%%", ti->ps.cpu_pct);
	if (ti->ps_ok)
		short_bytes(ti->ps.pss ? ti->ps.pss : ti->ps.rss, mem, sizeof(mem));
	const char *backend = li->backend[0] ? li->backend : "-";

	/* Line 1: name, state, engine and backend.  Then, by priority, as
	 * room allows: the exits by reason (the hypervisor at work), the
	 * live figures, the hypercalls, an error. */
	int c = x;
	c += tui_draw_str(y, c, w, app->term.g.bullet, state_style(st));
	c += tui_draw_str(y, c, x + w - c, " ", TUI_NORMAL);
	c += tui_draw_str(y, c, x + w - c, ti->name, TUI_EMPH);
	snprintf(line, sizeof(line), " %s ", li->gone ? "gone" : vlab_state_name(st));
	c += tui_draw_str(y, c, x + w - c, line, state_style(st));
	snprintf(line, sizeof(line), "%s/%s", li->engine, backend);
	c += tui_draw_str(y, c, x + w - c, line, TUI_DIM);
	if (li->emulated)
		c += tui_draw_str(y, c, x + w - c, " emulated", TUI_WARN);
	/* The live figures go on line 1 when the lines below cannot hold
	 * them: one line only, or two with the exits on the second. */
	if (live && (room == 1 || (room == 2 && ti->nexits))) {
		snprintf(line, sizeof(line), " %s %s", cpu, mem);
		tui_draw_str(y, c, x + w - c, line, TUI_NORMAL);
	}
	int used = 1;
	if (live && ti->nexits && used < room)
		draw_rates(y + used++, x + 2, w - 2, "exits/s", ti->exits, ti->nexits,
			   ti->exits_total);
	if (used < room && (live || li->startup_ns)) {
		line[0] = '\0';
		if (live)
			snprintf(line, sizeof(line), "  cpu %s mem %s", cpu, mem);
		if (li->startup_ns) {
			double ms = (double)li->startup_ns / 1e6;
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sready %s %s",
				 live ? ", " : "  ",
				 tui_fmt_num(ms >= 10000 ? ms / 1000 : ms, t, sizeof(t)),
				 ms >= 10000 ? "s" : "ms");
		}
		tui_draw_str(y + used++, x, w, line, TUI_NORMAL);
	}
	if (live && ti->nhcalls && used < room)
		draw_rates(y + used++, x + 2, w - 2, "hypercalls/s", ti->hcalls, ti->nhcalls, 0);
	if (li->error[0] && used < room) {
		snprintf(line, sizeof(line), "  %s", li->error);
		tui_draw_str(y + used++, x, w, line, TUI_BAD);
	}
	return used;
}

static void draw(struct tui_app *app, struct tui_rect r, int focused)
{
	(void)focused;
	if (app->ninst == 0) {
		tui_draw_str(r.y, r.x, r.w, "No instances yet.", TUI_DIM);
		if (r.h > 1)
			tui_draw_str(r.y + 1, r.x, r.w, "Steps that start one (r) show it here.",
				     TUI_DIM);
		return;
	}
	int y = r.y;
	size_t first =
	    (size_t)app->instances_scroll < app->ninst ? (size_t)app->instances_scroll : 0;
	/* Lines per entry: shrink when many instances share a small pane. */
	int per = (int)(r.h / (int)(app->ninst - first));
	if (per < 1)
		per = 1;
	for (size_t i = first; i < app->ninst && y < r.y + r.h; i++) {
		int want = tui_inst_lines(&app->inst[i]);
		int room = per < want ? per : want;
		if (room > r.y + r.h - y)
			room = r.y + r.h - y;
		y += draw_one(app, &app->inst[i], y, r.x, r.w, room);
	}
}

static int key(struct tui_app *app, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (app->instances_scroll > 0)
			app->instances_scroll--;
		return 1;
	case KEY_DOWN:
	case 'j':
		if ((size_t)app->instances_scroll + 1 < app->ninst)
			app->instances_scroll++;
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
	snprintf(buf, len, "Instances (%zu)", app->ninst);
}

const struct tui_panel_ops tui_instances_panel = {
    .name = "instances",
    .draw = draw,
    .key = key,
    .keys = keys,
    .title = title,
};
