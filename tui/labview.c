/* tui/labview.c: the open lab as the TUI follows it: the session's events
 * turned into console scrollback, instance entries, charts and the lab log;
 * live CPU, memory and exit rates sampled once a second; moving between
 * items; opening and closing the lab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "tui/app.h"

const struct lesson_instance *tui_inst_of(const struct tui_app *app, const struct tui_inst *ti)
{
	return app->lab ? lesson_session_instance(app->lab, ti->id) : NULL;
}

static struct tui_inst *inst_by_id(struct tui_app *app, int id)
{
	for (size_t i = 0; i < app->ninst; i++)
		if (app->inst[i].id == id)
			return &app->inst[i];
	return NULL;
}

/* A new instance gets a console tab, shown at once so the student sees
 * it start. */
static struct tui_inst *inst_add(struct tui_app *app, const struct lesson_instance *li)
{
	if (app->ninst == TUI_MAX_INST)
		return NULL;
	struct tui_inst *ti = &app->inst[app->ninst];
	memset(ti, 0, sizeof(*ti));
	if (tui_sb_init(&ti->sb, 5000, 2u << 20) < 0)
		return NULL;
	ti->id = li->id;
	snprintf(ti->name, sizeof(ti->name), "%s", li->name);
	app->ninst++;
	app->tab = app->ninst;
	tui_log(app, "instance %s: %s engine", li->name, li->engine);
	return ti;
}

static void inst_clear(struct tui_app *app)
{
	for (size_t i = 0; i < app->ninst; i++)
		tui_sb_free(&app->inst[i].sb);
	app->ninst = 0;
	app->tab = 0;
}

/* Inserts (name, rate) into a busiest-first list of TUI_TOP_EXITS. */
static void top_insert(struct tui_rate *list, size_t *n, const char *name, double rate)
{
	size_t pos = *n;
	while (pos > 0 && list[pos - 1].rate < rate)
		pos--;
	if (pos >= TUI_TOP_EXITS)
		return;
	size_t last = *n < TUI_TOP_EXITS ? *n : TUI_TOP_EXITS - 1;
	memmove(&list[pos + 1], &list[pos], (last - pos) * sizeof(list[0]));
	snprintf(list[pos].name, sizeof(list[pos].name), "%s", name);
	list[pos].rate = rate;
	if (*n < TUI_TOP_EXITS)
		(*n)++;
}

/* VM exits and hypercalls per second by reason, busiest first. */
static void rates(struct tui_inst *ti, const struct vlab_counters *cs, uint64_t now)
{
	struct vlab_counter cur[VLAB_COUNTERS_MAX];
	size_t n = vlab_counters_snapshot(cs, cur, VLAB_COUNTERS_MAX);
	double dt = ti->prev_ns ? (double)(now - ti->prev_ns) / 1e9 : 0;
	ti->nexits = ti->nhcalls = 0;
	ti->exits_total = 0;
	for (size_t k = 0; k < n; k++) {
		int is_exit = !strncmp(cur[k].name, "exit.", 5);
		if (!is_exit && strncmp(cur[k].name, "hc.", 3))
			continue;
		uint64_t before = 0;
		for (size_t j = 0; j < ti->nprev; j++)
			if (!strcmp(ti->prev[j].name, cur[k].name))
				before = ti->prev[j].value;
		double rate =
		    dt > 0 && cur[k].value >= before ? (double)(cur[k].value - before) / dt : 0;
		if (is_exit) {
			ti->exits_total += cur[k].value;
			top_insert(ti->exits, &ti->nexits, cur[k].name + 5, rate);
		} else {
			top_insert(ti->hcalls, &ti->nhcalls, cur[k].name + 3, rate);
		}
	}
	memcpy(ti->prev, cur, n * sizeof(cur[0]));
	ti->nprev = n;
	ti->prev_ns = now;
}

void tui_sample(struct tui_app *app)
{
	uint64_t now = vlab_now_ns();
	for (size_t i = 0; i < app->ninst; i++) {
		struct tui_inst *ti = &app->inst[i];
		const struct lesson_instance *li = tui_inst_of(app, ti);
		ti->ps_ok =
		    li && li->pid > 0 && !li->gone && tui_procstat_sample(&ti->ps, li->pid) == 0;
		if (li && li->counters && !li->gone)
			rates(ti, li->counters, now);
	}
	app->last_sample_ns = now;
}

int tui_any_running(const struct tui_app *app)
{
	for (size_t i = 0; i < app->ninst; i++) {
		const struct lesson_instance *li = tui_inst_of(app, &app->inst[i]);
		if (li && !li->gone &&
		    (li->state == VLAB_STATE_RUNNING || li->state == VLAB_STATE_STARTING))
			return 1;
	}
	return 0;
}

/* A lab's chart as the metrics pane draws it; a chart with the same title
 * as an earlier one replaces it (a step measured again). */
static void add_chart(struct tui_app *app, const struct lesson_chart *lc)
{
	struct tui_chart c;
	memset(&c, 0, sizeof(c));
	snprintf(c.title, sizeof(c.title), "%s", lc->title);
	snprintf(c.unit, sizeof(c.unit), "%s", lc->unit);
	c.lower_better = lc->lower_is_better;
	c.progress = -1;
	for (size_t i = 0; i < lc->nbars && c.n < TUI_CHART_BARS; i++) {
		const struct lesson_bar *b = &lc->bars[i];
		struct tui_bar *t = &c.bar[c.n++];
		if (b->note && *b->note)
			snprintf(t->label, sizeof(t->label), "%s (%s)", b->label, b->note);
		else
			snprintf(t->label, sizeof(t->label), "%s", b->label);
		t->median = b->value;
		t->min = b->min;
		t->max = b->max;
		t->runs = b->runs;
		t->baseline = !strcmp(b->label, "host");
		t->pending = b->runs == 0;
	}
	size_t at = 0;
	while (at < app->ncharts && strcmp(app->charts[at].title, c.title))
		at++;
	if (at == app->ncharts) {
		if (app->ncharts == TUI_MAX_CHARTS) {
			memmove(&app->charts[0], &app->charts[1],
				(TUI_MAX_CHARTS - 1) * sizeof(app->charts[0]));
			at = TUI_MAX_CHARTS - 1;
		} else {
			app->ncharts++;
		}
	}
	app->charts[at] = c;
	app->metrics_scroll = 0;
}

static void on_event(struct tui_app *app, const struct lesson_event *ev)
{
	struct tui_inst *ti;
	const struct lesson_instance *li;
	switch (ev->type) {
	case LESSON_EV_OUTPUT:
		tui_log(app, "%s", ev->text ? ev->text : "");
		break;
	case LESSON_EV_WARNING:
		tui_log(app, "warning: %s", ev->text ? ev->text : "");
		tui_status(app, TUI_WARN, "%s", ev->text ? ev->text : "");
		break;
	case LESSON_EV_STARTED:
		app->measured = 0;
		break;
	case LESSON_EV_RESULT:
		app->measuring[0] = '\0';
		app->measured = 0;
		if (ev->item >= 0) {
			const struct lesson_item_state *st =
			    lesson_session_state(app->lab, (size_t)ev->item);
			const struct lesson_item *it =
			    lesson_session_item(app->lab, (size_t)ev->item);
			tui_log(app, "%s %d (%s): %s%s%s",
				it->kind == LESSON_QUESTION ? "question" : "step", ev->item + 1,
				it->title, lesson_status_name(st->status),
				st->message[0] ? ": " : "", st->message);
			if (st->status == LESSON_ERROR)
				tui_status(app, TUI_BAD,
					   "the lab stopped with an error (see the lesson pane)");
		}
		break;
	case LESSON_EV_CHART:
		if (ev->chart)
			add_chart(app, ev->chart);
		break;
	case LESSON_EV_MEASURE:
		snprintf(app->measuring, sizeof(app->measuring), "%s", ev->text ? ev->text : "");
		app->measured++;
		break;
	case LESSON_EV_PROGRESS: /* vlab.bench moving on: what it measures now */
		snprintf(app->measuring, sizeof(app->measuring), "%s", ev->text ? ev->text : "");
		break;
	case LESSON_EV_INSTANCE:
		li = lesson_session_instance(app->lab, ev->instance);
		if (li && !inst_by_id(app, ev->instance))
			inst_add(app, li);
		break;
	case LESSON_EV_CONSOLE:
		ti = inst_by_id(app, ev->instance);
		if (!ti && (li = lesson_session_instance(app->lab, ev->instance)))
			ti = inst_add(app, li);
		if (ti)
			tui_sb_feed(&ti->sb, ev->data, ev->len);
		break;
	}
}

int tui_lab_events(struct tui_app *app)
{
	struct vlab_err err = {0};
	if (lesson_session_dispatch(app->lab, &err) < 0) {
		tui_status(app, TUI_BAD, "%s", err.msg);
		tui_log(app, "error: %s", err.msg);
	}
	struct lesson_event ev;
	int n = 0;
	while (lesson_session_next_event(app->lab, &ev) == 1) {
		on_event(app, &ev);
		n++;
	}
	if (n)
		tui_refresh_item(app);
	return n;
}

void tui_refresh_item(struct tui_app *app)
{
	app->item =
	    app->lab && app->cur < app->nitems ? lesson_session_item(app->lab, app->cur) : NULL;
	app->state = app->item ? lesson_session_state(app->lab, app->cur) : NULL;
	app->lesson_dirty = 1;
}

void tui_goto_item(struct tui_app *app, size_t i)
{
	if (!app->lab || i >= app->nitems)
		return;
	app->cur = i;
	app->lesson_scroll = 0;
	app->answering = 0;
	app->typing = 0;
	tui_refresh_item(app);
}

void tui_close_lab(struct tui_app *app)
{
	if (!app->lab)
		return;
	lesson_session_free(app->lab); /* stops the runner and every instance */
	app->lab = NULL;
	inst_clear(app);
	app->ncharts = 0;
	app->nitems = 0;
	app->item = NULL;
	app->state = NULL;
	tui_text_free(&app->lesson);
}

int tui_open_lab(struct tui_app *app, const char *path)
{
	struct vlab_err err = {0};
	struct lesson_session *s;
	struct lesson_session_opts opts = {
	    .lab = path, .workbook = app->workbook, .fresh = app->fresh};
	app->fresh = 0; /* only the first lab opened starts afresh */
	tui_status(app, TUI_WARN, "opening %s...", path);
	if (lesson_session_open(&opts, &s, &err) < 0) {
		tui_status(app, TUI_BAD, "%s", err.msg);
		tui_log(app, "cannot open %s: %s", path, err.msg);
		return -1;
	}
	tui_close_lab(app);
	app->lab = s;
	const struct lesson_lab_info *info = lesson_session_lab(s);
	app->nitems = info->nitems;
	app->mode = TUI_MODE_LAB;
	app->focus = TUI_P_LESSON;
	app->zoom = 0;
	app->tab = 0;
	size_t at = lesson_session_resume_point(s);
	if (at >= app->nitems)
		at = app->nitems ? app->nitems - 1 : 0;
	tui_log(app, "opened %s (%s); workbook %s", info->title, info->path,
		lesson_session_workbook_path(s));
	tui_goto_item(app, at);
	app->status[0] = '\0';
	if (at > 0)
		tui_status(app, TUI_GOOD, "welcome back: resuming at %zu of %zu", at + 1,
			   app->nitems);
	tui_lab_events(app);
	return 0;
}
