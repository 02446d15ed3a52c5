/* tui/app.c: the TUI's main loop: layout, drawing, keys, and one poll over
 * the terminal, the signal pipe, the lab's descriptors and every
 * instance's console, event and process descriptors.  Nothing here blocks:
 * instances and lab work run in child processes, so a key is answered
 * while a VM boots or a benchmark runs. */
#include "tui/app.h"

#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"

#define SAMPLE_NS 1000000000ull    /* live CPU, memory, exit rates */
#define FRAME_NS 33000000ull       /* output-driven redraws at most ~30/s */
#define STATUS_NS 6000000000ull    /* how long a status message stays */
#define CONSOLE_READ_BUDGET 65536  /* bytes per console per loop turn */
#define MAX_POLL (4 + 8 + 3 * TUI_MAX_INST)

static const struct tui_panel_ops *const panels[TUI_P_COUNT] = {
	[TUI_P_LESSON] = &tui_lesson_panel,
	[TUI_P_INSTANCES] = &tui_instances_panel,
	[TUI_P_METRICS] = &tui_metrics_panel,
	[TUI_P_CONSOLE] = &tui_console_panel,
};

/* ---- layout ---- */

static void layout(struct tui_app *app)
{
	int rows = LINES, cols = COLS;
	app->too_small = cols < 60 || rows < 16;
	struct tui_rect body = {1, 0, rows - 2, cols};
	if (app->zoom) {
		for (int i = 0; i < TUI_P_COUNT; i++)
			app->rect[i] = (struct tui_rect){0, 0, 0, 0};
		app->rect[app->focus] = body;
		return;
	}
	int con_h = body.h * 3 / 10;
	if (con_h < 6)
		con_h = 6;
	int up_h = body.h - con_h;
	int left_w = cols >= 120 ? cols * 52 / 100 : cols * 55 / 100;
	int right_w = cols - left_w;
	int inst_h = up_h * 2 / 5;
	if (inst_h < 5)
		inst_h = 5;
	app->rect[TUI_P_LESSON] = (struct tui_rect){body.y, 0, up_h, left_w};
	app->rect[TUI_P_INSTANCES] = (struct tui_rect){body.y, left_w, inst_h, right_w};
	app->rect[TUI_P_METRICS] = (struct tui_rect){body.y + inst_h, left_w, up_h - inst_h, right_w};
	app->rect[TUI_P_CONSOLE] = (struct tui_rect){body.y + up_h, 0, con_h, cols};
}

/* ---- drawing ---- */

static void draw_top(struct tui_app *app)
{
	char left[512], right[320] = "";
	move(0, 0);
	attrset(tui_attr(TUI_TITLE));
	for (int x = 0; x < COLS; x++)
		addch(' ');
	if (app->mode == TUI_MODE_LAB && app->lab) {
		size_t n = app->lab->ops->count(app->lab);
		snprintf(left, sizeof(left), " vlab: %s  [%zu/%zu]", app->lab->ops->title(app->lab),
			 app->cur + 1, n);
	} else {
		snprintf(left, sizeof(left), " vlab %s: labs", VLAB_VERSION);
	}
	int w = tui_draw_str(0, 0, COLS, left, TUI_TITLE);
	const char *busy = app->lab && app->lab->ops->busy ? app->lab->ops->busy(app->lab) : NULL;
	static const char spin[] = "|/-\\";
	uint64_t now = vlab_now_ns();
	enum tui_style st = TUI_TITLE;
	if (app->status[0] && now - app->status_ns < STATUS_NS) {
		snprintf(right, sizeof(right), " %s ", app->status);
		st = app->status_style == TUI_NORMAL ? TUI_TITLE : app->status_style;
	} else if (busy) {
		snprintf(right, sizeof(right), " %c %s ", spin[app->spin % 4], busy);
		st = TUI_WARN;
	}
	if (right[0]) {
		int rw = tui_text_width(right, strlen(right));
		int room = COLS - w - 2;
		if (rw > room)
			rw = room;
		if (rw > 0)
			tui_draw_str(0, COLS - rw, rw, right, st);
	}
	attrset(A_NORMAL);
}

static void draw_keys(struct tui_app *app)
{
	char line[512];
	const char *local = NULL;
	if (app->mode == TUI_MODE_PICKER)
		local = tui_picker_panel.keys(app);
	else if (panels[app->focus]->keys)
		local = panels[app->focus]->keys(app);
	if (app->overlay == TUI_OV_QUIT)
		snprintf(line, sizeof(line), " y quit  n stay");
	else if (app->overlay == TUI_OV_HELP)
		snprintf(line, sizeof(line), " any key: close help");
	else if (app->mode == TUI_MODE_PICKER)
		snprintf(line, sizeof(line), " F1 help  %s  q quit", local ? local : "");
	else if (app->typing || app->answering)
		snprintf(line, sizeof(line), " %s  F1 help", local ? local : "");
	else
		snprintf(line, sizeof(line), " F1 help  Tab focus  n/p step  r run  c check  h hint  "
					     "%s  z zoom  q quit",
			 local ? local : "");
	/* "KEY what  KEY what": each key name stands out. */
	move(LINES - 1, 0);
	clrtoeol();
	int x = 0;
	for (const char *p = line; *p && x < COLS;) {
		const char *end = strstr(p, "  ");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char tok[128];
		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		char *sp = strchr(tok + 1, ' ');
		if (sp)
			*sp = '\0';
		x += tui_draw_str(LINES - 1, x, COLS - x, tok, TUI_KEY);
		if (sp) {
			*sp = ' ';
			x += tui_draw_str(LINES - 1, x, COLS - x, sp, TUI_NORMAL);
		}
		x += tui_draw_str(LINES - 1, x, COLS - x, "  ", TUI_NORMAL);
		p += n;
		while (*p == ' ')
			p++;
	}
}

static void draw(struct tui_app *app)
{
	erase();
	if (app->too_small) {
		char msg[128];
		snprintf(msg, sizeof(msg), "vlab needs at least 60x16; this terminal is %dx%d.", COLS,
			 LINES);
		tui_draw_str(LINES / 2, 0, COLS, msg, TUI_BAD);
		tui_draw_str(LINES / 2 + 1, 0, COLS, "Make it larger, or press q to quit.", TUI_NORMAL);
		refresh();
		return;
	}
	draw_top(app);
	if (app->mode == TUI_MODE_PICKER) {
		struct tui_rect r = {1, 0, LINES - 2, COLS};
		char t[64];
		tui_picker_panel.title(app, t, sizeof(t));
		tui_draw_frame(app, r, t, 1);
		tui_picker_panel.draw(app, (struct tui_rect){r.y + 1, r.x + 2, r.h - 2, r.w - 4}, 1);
	} else {
		for (int i = 0; i < TUI_P_COUNT; i++) {
			struct tui_rect r = app->rect[i];
			if (r.h < 3 || r.w < 4)
				continue;
			char t[256];
			panels[i]->title(app, t, sizeof(t));
			tui_draw_frame(app, r, t, i == app->focus);
			panels[i]->draw(app, (struct tui_rect){r.y + 1, r.x + 1, r.h - 2, r.w - 2},
					i == app->focus);
		}
	}
	draw_keys(app);
	if (app->overlay)
		tui_draw_overlay(app);
	refresh();
}

/* ---- instances ---- */

static void inst_drop(struct tui_app *app, size_t i)
{
	tui_sb_free(&app->inst[i].sb);
	memmove(&app->inst[i], &app->inst[i + 1], (app->ninst - i - 1) * sizeof(app->inst[0]));
	app->ninst--;
	if (app->tab > app->ninst)
		app->tab = app->ninst;
}

/* Follows the lab's list of instances: new ones get a console tab (and the
 * focus of the console pane, so the student sees it start). */
static void sync_instances(struct tui_app *app)
{
	struct vlab_instance *const *list = NULL;
	size_t n = app->lab && app->lab->ops->instances ? app->lab->ops->instances(app->lab, &list) : 0;
	for (size_t i = 0; i < app->ninst; i++)
		app->inst[i].seen = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = 0;
		while (i < app->ninst && app->inst[i].inst != list[k])
			i++;
		if (i < app->ninst) {
			app->inst[i].seen = 1;
			continue;
		}
		if (app->ninst == TUI_MAX_INST)
			continue;
		struct tui_inst *ti = &app->inst[app->ninst];
		memset(ti, 0, sizeof(*ti));
		if (tui_sb_init(&ti->sb, 5000, 2u << 20) < 0)
			continue;
		ti->inst = list[k];
		snprintf(ti->name, sizeof(ti->name), "%s", vlab_instance_name(list[k]));
		ti->seen = 1;
		app->ninst++;
		app->tab = app->ninst;
		tui_log(app, "instance %s started (%s engine)", ti->name,
			vlab_instance_engine(list[k]) ? vlab_instance_engine(list[k])->name : "?");
	}
	for (size_t i = app->ninst; i > 0; i--)
		if (!app->inst[i - 1].seen)
			inst_drop(app, i - 1);
}

/* Live CPU and memory, and exits per second by reason. */
static void sample(struct tui_app *app)
{
	uint64_t now = vlab_now_ns();
	for (size_t i = 0; i < app->ninst; i++) {
		struct tui_inst *ti = &app->inst[i];
		pid_t pid = vlab_instance_pid(ti->inst);
		ti->ps_ok = pid > 0 && tui_procstat_sample(&ti->ps, pid) == 0;
		const struct vlab_counters *cs = vlab_instance_counters(ti->inst);
		if (!cs)
			continue;
		struct vlab_counter cur[VLAB_COUNTERS_MAX];
		size_t n = vlab_counters_snapshot(cs, cur, VLAB_COUNTERS_MAX);
		double dt = ti->prev_ns ? (double)(now - ti->prev_ns) / 1e9 : 0;
		ti->ntop = 0;
		ti->exits_total = 0;
		for (size_t k = 0; k < n; k++) {
			int is_exit = !strncmp(cur[k].name, "exit.", 5);
			if (!is_exit && strncmp(cur[k].name, "hc.", 3))
				continue;
			if (is_exit)
				ti->exits_total += cur[k].value;
			uint64_t before = 0;
			for (size_t j = 0; j < ti->nprev; j++)
				if (!strcmp(ti->prev[j].name, cur[k].name))
					before = ti->prev[j].value;
			double rate = dt > 0 && cur[k].value >= before ? (double)(cur[k].value - before) / dt : 0;
			/* Insert by rate, busiest first. */
			size_t pos = ti->ntop;
			while (pos > 0 && ti->top[pos - 1].rate < rate)
				pos--;
			if (pos >= TUI_TOP_EXITS)
				continue;
			size_t last = ti->ntop < TUI_TOP_EXITS ? ti->ntop : TUI_TOP_EXITS - 1;
			memmove(&ti->top[pos + 1], &ti->top[pos], (last - pos) * sizeof(ti->top[0]));
			snprintf(ti->top[pos].name, sizeof(ti->top[pos].name), "%s", cur[k].name);
			ti->top[pos].rate = rate;
			ti->top[pos].total = cur[k].value;
			if (ti->ntop < TUI_TOP_EXITS)
				ti->ntop++;
		}
		memcpy(ti->prev, cur, n * sizeof(cur[0]));
		ti->nprev = n;
		ti->prev_ns = now;
	}
	app->last_sample_ns = now;
}

static int any_running(const struct tui_app *app)
{
	for (size_t i = 0; i < app->ninst; i++) {
		enum vlab_state s = vlab_instance_state(app->inst[i].inst);
		if (s == VLAB_STATE_RUNNING || s == VLAB_STATE_STARTING)
			return 1;
	}
	return 0;
}

/* ---- the lab ---- */

void tui_refresh_item(struct tui_app *app)
{
	app->item_ok = app->lab && app->lab->ops->item(app->lab, app->cur, &app->item) == 0;
	app->lesson_dirty = 1;
}

void tui_goto_item(struct tui_app *app, size_t i)
{
	size_t n = app->lab ? app->lab->ops->count(app->lab) : 0;
	if (i >= n)
		return;
	app->cur = i;
	app->lesson_scroll = 0;
	app->answering = 0;
	app->typing = 0;
	if (app->lab->ops->seen)
		app->lab->ops->seen(app->lab, i);
	tui_refresh_item(app);
}

static void drain_lab(struct tui_app *app)
{
	if (!app->lab)
		return;
	int changed = app->lab->ops->pump ? app->lab->ops->pump(app->lab) : 0;
	const char *line;
	while (app->lab->ops->output && (line = app->lab->ops->output(app->lab)))
		tui_log(app, "%s", line), changed = 1;
	if (changed) {
		tui_refresh_item(app);
		sync_instances(app);
	}
}

static void close_lab(struct tui_app *app)
{
	if (!app->lab)
		return;
	app->lab->ops->close(app->lab); /* stops every instance cleanly */
	app->lab = NULL;
	while (app->ninst)
		inst_drop(app, app->ninst - 1);
	tui_text_free(&app->lesson);
	app->item_ok = 0;
}

int tui_open_lab(struct tui_app *app, const char *path)
{
	struct vlab_err err = {0};
	struct tui_lab *lab;
	if (tui_lab_open(path, &lab, &err) < 0) {
		tui_status(app, TUI_BAD, "%s", err.msg);
		tui_log(app, "cannot open %s: %s", path, err.msg);
		return -1;
	}
	close_lab(app);
	app->lab = lab;
	snprintf(app->lab_path, sizeof(app->lab_path), "%s", path);
	app->mode = TUI_MODE_LAB;
	app->focus = TUI_P_LESSON;
	app->tab = 0;
	size_t at = lab->ops->resume_at ? lab->ops->resume_at(lab) : 0;
	tui_log(app, "opened %s", path);
	tui_goto_item(app, at);
	if (at > 0)
		tui_status(app, TUI_GOOD, "welcome back: resuming at %zu", at + 1);
	sync_instances(app);
	return 0;
}

/* ---- keys ---- */

static void action(struct tui_app *app, int ch)
{
	struct vlab_err err = {0};
	size_t n = app->lab->ops->count(app->lab);
	switch (ch) {
	case 'n':
		if (app->cur + 1 < n)
			tui_goto_item(app, app->cur + 1);
		else
			tui_status(app, TUI_NORMAL, "that was the last step");
		return;
	case 'p':
		if (app->cur > 0)
			tui_goto_item(app, app->cur - 1);
		return;
	case 'r':
		if (!app->item_ok || !app->item.has_run) {
			tui_status(app, TUI_NORMAL, "this step has nothing to run");
			return;
		}
		if (app->lab->ops->run(app->lab, app->cur, &err) < 0) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_log(app, "running step %zu: %s", app->cur + 1, app->item.title);
		break;
	case 'c':
		if (!app->item_ok || !app->item.has_check) {
			tui_status(app, TUI_NORMAL, "this step has nothing to check");
			return;
		}
		if (app->lab->ops->check(app->lab, app->cur, &err) < 0) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_log(app, "checking step %zu", app->cur + 1);
		break;
	case 'h':
		if (!app->item_ok || app->item.hints_shown >= app->item.nhints) {
			tui_status(app, TUI_NORMAL, app->item.nhints ? "no more hints" : "no hints here");
			return;
		}
		if (app->lab->ops->reveal_hint(app->lab, app->cur, &err) < 0) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_refresh_item(app);
		/* Show the new hint: the end of the text. */
		app->lesson_scroll = 1 << 20;
		return;
	}
	tui_refresh_item(app);
}

static void handle_key(struct tui_app *app, int ch)
{
	if (ch == KEY_RESIZE) {
		layout(app);
		app->lesson_dirty = 1;
		return;
	}
	if (app->overlay == TUI_OV_HELP) {
		app->overlay = TUI_OV_NONE;
		return;
	}
	if (app->overlay == TUI_OV_QUIT) {
		if (ch == 'y' || ch == 'Y' || ch == 'q')
			app->quit = 1;
		app->overlay = TUI_OV_NONE;
		return;
	}
	if (ch == KEY_F(1) || (ch == '?' && !app->typing && !app->answering)) {
		app->overlay = TUI_OV_HELP;
		return;
	}
	if (ch == 12) { /* ^L */
		clearok(curscr, TRUE);
		return;
	}
	if (app->too_small) {
		if (ch == 'q' || ch == 3)
			app->quit = 1;
		return;
	}
	if (app->mode == TUI_MODE_PICKER) {
		if (tui_picker_panel.key(app, ch))
			return;
		if (ch == 'q' || ch == 3 || ch == 27)
			app->quit = 1;
		return;
	}
	if (panels[app->focus]->key(app, ch))
		return;
	switch (ch) {
	case '\t':
		app->focus = (app->focus + 1) % TUI_P_COUNT;
		layout(app);
		return;
	case KEY_BTAB:
		app->focus = (app->focus + TUI_P_COUNT - 1) % TUI_P_COUNT;
		layout(app);
		return;
	case 'z':
		app->zoom = !app->zoom;
		layout(app);
		app->lesson_dirty = 1;
		return;
	case 'q':
	case 3: /* ^C: raw mode makes it a key */
		if (any_running(app))
			app->overlay = TUI_OV_QUIT;
		else
			app->quit = 1;
		return;
	case 'n':
	case 'p':
	case 'r':
	case 'c':
	case 'h':
		action(app, ch);
		return;
	}
}

/* ---- the loop ---- */

static void read_console(struct tui_app *app, struct tui_inst *ti)
{
	char buf[8192];
	size_t got = 0;
	int fd = vlab_instance_console_fd(ti->inst);
	while (got < CONSOLE_READ_BUDGET) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r > 0) {
			tui_sb_feed(&ti->sb, buf, (size_t)r);
			got += (size_t)r;
			if ((size_t)r < sizeof(buf))
				break;
		} else {
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				ti->console_eof = 1;
			break;
		}
	}
	(void)app;
}

static int run_loop(struct tui_app *app)
{
	uint64_t dirty_since = 0, last_draw = 0;
	int need_draw = 1;
	while (!app->quit) {
		uint64_t now = vlab_now_ns();
		if (now - app->last_sample_ns >= SAMPLE_NS) {
			sample(app);
			need_draw = 1;
		}
		if (need_draw || (dirty_since && now - last_draw >= FRAME_NS)) {
			draw(app);
			last_draw = vlab_now_ns();
			need_draw = 0;
			dirty_since = 0;
		}
		struct pollfd pfd[MAX_POLL];
		size_t np = 0;
		pfd[np++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		pfd[np++] = (struct pollfd){.fd = app->term.sigfd, .events = POLLIN};
		size_t lab0 = np, nlab = 0;
		if (app->lab && app->lab->ops->fds) {
			int fds[8];
			nlab = app->lab->ops->fds(app->lab, fds, 8);
			for (size_t i = 0; i < nlab; i++)
				pfd[np++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		}
		size_t inst0 = np;
		for (size_t i = 0; i < app->ninst; i++) {
			struct tui_inst *ti = &app->inst[i];
			pfd[np++] = (struct pollfd){.fd = ti->console_eof ? -1 : vlab_instance_console_fd(ti->inst),
						    .events = POLLIN};
			pfd[np++] = (struct pollfd){.fd = vlab_instance_event_fd(ti->inst), .events = POLLIN};
			pfd[np++] = (struct pollfd){.fd = vlab_instance_pidfd(ti->inst), .events = POLLIN};
		}
		/* Sleep until the next sample, frame or spinner step. */
		uint64_t wait = SAMPLE_NS - (vlab_now_ns() - app->last_sample_ns < SAMPLE_NS
						     ? vlab_now_ns() - app->last_sample_ns
						     : SAMPLE_NS);
		if (dirty_since)
			wait = FRAME_NS < wait ? FRAME_NS : wait;
		const char *busy = app->lab && app->lab->ops->busy ? app->lab->ops->busy(app->lab) : NULL;
		if (busy || (app->status[0] && vlab_now_ns() - app->status_ns < STATUS_NS + SAMPLE_NS))
			wait = wait > 250000000ull ? 250000000ull : wait;
		int r = poll(pfd, (nfds_t)np, (int)(wait / 1000000ull) + 1);
		if (r < 0 && errno != EINTR)
			return VLAB_EXIT_INTERNAL;
		if (busy)
			app->spin++;
		int sig = tui_term_pending_signal(&app->term);
		if (sig) {
			tui_log(app, "signal %d: stopping", sig);
			return 128 + sig;
		}
		if (r <= 0)
			continue;
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return VLAB_EXIT_FAIL; /* the terminal went away */
		/* Output first, keys last: the key's redraw shows it all. */
		for (size_t i = 0; i < app->ninst; i++) {
			struct tui_inst *ti = &app->inst[i];
			struct pollfd *p = &pfd[inst0 + 3 * i];
			if (p[0].revents) {
				read_console(app, ti);
				if (!dirty_since)
					dirty_since = vlab_now_ns();
			}
			if (p[1].revents || p[2].revents) {
				vlab_instance_pump(ti->inst, NULL);
				need_draw = 1;
			}
		}
		for (size_t i = 0; i < nlab; i++)
			if (pfd[lab0 + i].revents) {
				drain_lab(app);
				need_draw = 1;
				break;
			}
		if (pfd[0].revents & POLLIN) {
			uint64_t t0 = vlab_now_ns();
			int ch, keys = 0;
			while ((ch = getch()) != ERR) {
				handle_key(app, ch);
				keys++;
				if (app->quit)
					break;
			}
			if (keys) {
				draw(app);
				last_draw = vlab_now_ns();
				need_draw = 0;
				dirty_since = 0;
				if (app->trace)
					fprintf(app->trace, "key %.3f ms\n", (double)(last_draw - t0) / 1e6),
						fflush(app->trace);
			}
		}
	}
	return VLAB_EXIT_OK;
}

int tui_main(const char *lab_path)
{
	struct tui_app *app = calloc(1, sizeof(*app));
	if (!app) {
		fprintf(stderr, "vlab: out of memory\n");
		return VLAB_EXIT_INTERNAL;
	}
	struct vlab_err err = {0};
	if (tui_sb_init(&app->log, 2000, 1u << 20) < 0 || tui_term_start(&app->term, &err) < 0) {
		fprintf(stderr, "vlab: %s\n", err.msg[0] ? err.msg : "out of memory");
		tui_sb_free(&app->log);
		free(app);
		return err.code == ENOTTY ? VLAB_EXIT_USAGE : VLAB_EXIT_INTERNAL;
	}
	const char *trace = getenv("VLAB_TUI_TRACE");
	if (trace && *trace)
		app->trace = fopen(trace, "we");
	app->mode = TUI_MODE_PICKER;
	tui_picker_scan(app);
	layout(app);
	int rc = VLAB_EXIT_OK;
	if (lab_path && tui_open_lab(app, lab_path) < 0) {
		tui_term_stop(&app->term);
		fprintf(stderr, "vlab run: %s\n", app->status);
		rc = VLAB_EXIT_BADINPUT;
	} else {
		rc = run_loop(app);
		/* Stop the instances while the screen still says so. */
		if (app->lab && app->term.started) {
			tui_status(app, TUI_WARN, "stopping instances...");
			draw(app);
		}
		close_lab(app);
		tui_term_stop(&app->term);
	}
	if (app->trace)
		fclose(app->trace);
	tui_text_free(&app->lesson);
	tui_sb_free(&app->log);
	free(app->labs);
	free(app);
	return rc;
}
