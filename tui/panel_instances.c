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

/* The entry's lines; returns how many were drawn. */
static int draw_one(struct tui_app *app, const struct tui_inst *ti, int y, int x, int w, int room)
{
	const struct lesson_instance *li = tui_inst_of(app, ti);
	if (!li)
		return 0;
	enum vlab_state st = li->state;
	char cpu[16] = "-", mem[24] = "-", line[320];
	if (ti->ps_ok && ti->ps.valid)
		snprintf(cpu, sizeof(cpu), "%.0f%%", ti->ps.cpu_pct);
	if (ti->ps_ok)
		short_bytes(ti->ps.pss ? ti->ps.pss : ti->ps.rss, mem, sizeof(mem));
	int c = x;
	c += tui_draw_str(y, c, w, app->term.g.bullet, state_style(st));
	c += tui_draw_str(y, c, x + w - c, " ", TUI_NORMAL);
	c += tui_draw_str(y, c, x + w - c, ti->name, TUI_EMPH);
	snprintf(line, sizeof(line), " %s ", li->gone ? "gone" : vlab_state_name(st));
	c += tui_draw_str(y, c, x + w - c, line, state_style(st));
	if (st == VLAB_STATE_RUNNING || st == VLAB_STATE_STARTING) {
		snprintf(line, sizeof(line), "cpu %s mem %s", cpu, mem);
		tui_draw_str(y, c, x + w - c, line, TUI_NORMAL);
	}
	int used = 1;
	if (used < room) {
		char up[48] = "", t[24];
		if (li->startup_ns)
			snprintf(up, sizeof(up), ", ready in %s ms",
				 tui_fmt_num((double)li->startup_ns / 1e6, t, sizeof(t)));
		int cc = x + tui_draw_str(y + used, x, w, "  ", TUI_NORMAL);
		snprintf(line, sizeof(line), "%s on %s", li->engine, li->backend[0] ? li->backend : "-");
		cc += tui_draw_str(y + used, cc, x + w - cc, line, TUI_DIM);
		if (li->emulated)
			cc += tui_draw_str(y + used, cc, x + w - cc, " (emulated)", TUI_WARN);
		tui_draw_str(y + used, cc, x + w - cc, up, TUI_DIM);
		used++;
	}
	if (li->error[0] && used < room) {
		snprintf(line, sizeof(line), "  %s", li->error);
		tui_draw_str(y + used, x, w, line, TUI_BAD);
		used++;
	}
	if (ti->ntop && used < room) {
		/* "exits/s io 1.2k mmio 310 hlt 5": the hypervisor at work. */
		int hc = !strncmp(ti->top[0].name, "hc.", 3);
		int cc = x + 2;
		cc += tui_draw_str(y + used, cc, x + w - cc, hc ? "hypercalls/s" : "exits/s", TUI_NORMAL);
		for (size_t k = 0; k < ti->ntop && cc < x + w - 4; k++) {
			const char *nm = strchr(ti->top[k].name, '.');
			char num[16];
			snprintf(line, sizeof(line), " %s ", nm ? nm + 1 : ti->top[k].name);
			cc += tui_draw_str(y + used, cc, x + w - cc, line, TUI_NORMAL);
			cc += tui_draw_str(y + used, cc, x + w - cc,
					   tui_fmt_num(ti->top[k].rate, num, sizeof(num)), TUI_WARN);
		}
		used++;
		if (used < room && ti->exits_total) {
			char tot[16];
			snprintf(line, sizeof(line), "  %s VM exits since start",
				 tui_fmt_num((double)ti->exits_total, tot, sizeof(tot)));
			tui_draw_str(y + used, x, w, line, TUI_DIM);
			used++;
		}
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
	size_t first = (size_t)app->instances_scroll < app->ninst ? (size_t)app->instances_scroll : 0;
	/* Lines per entry: shrink when many instances share a small pane. */
	int per = (int)(r.h / (int)(app->ninst - first));
	if (per < 1)
		per = 1;
	if (per > 5)
		per = 5;
	for (size_t i = first; i < app->ninst && y < r.y + r.h; i++) {
		int room = r.y + r.h - y < per ? r.y + r.h - y : per;
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
	.name = "instances", .draw = draw, .key = key, .keys = keys, .title = title,
};
