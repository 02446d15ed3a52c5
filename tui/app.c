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

#define SAMPLE_NS 1000000000ull	  /* live CPU, memory, exit rates */
#define FRAME_NS 33000000ull	  /* output-driven redraws at most ~30/s */
#define STATUS_NS 6000000000ull	  /* how long a status message stays */
#define CONSOLE_READ_BUDGET 65536 /* bytes per console per loop turn */
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
	app->laid_cols = cols;
	app->laid_lines = rows;
	app->lesson_dirty = 1;
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
	/* The instances pane grows with its entries, leaving the metrics
	 * pane at least 8 rows. */
	int want = 2;
	for (size_t i = 0; i < app->ninst; i++)
		want += tui_inst_lines(&app->inst[i]);
	int inst_h = want > up_h * 2 / 5 ? want : up_h * 2 / 5;
	if (inst_h > up_h - 8)
		inst_h = up_h - 8;
	if (inst_h < 4)
		inst_h = 4;
	app->rect[TUI_P_LESSON] = (struct tui_rect){body.y, 0, up_h, left_w};
	app->rect[TUI_P_INSTANCES] = (struct tui_rect){body.y, left_w, inst_h, right_w};
	app->rect[TUI_P_METRICS] =
	    (struct tui_rect){body.y + inst_h, left_w, up_h - inst_h, right_w};
	app->rect[TUI_P_CONSOLE] = (struct tui_rect){body.y + up_h, 0, con_h, cols};
}

/* ---- drawing ---- */

/* "running step 3", "measuring startup": what the lab is doing, 0 idle. */
static int busy_phrase(const struct tui_app *app, char *buf, size_t len)
{
	int b = app->lab ? lesson_session_busy(app->lab) : -1;
	if (b < 0)
		return 0;
	if (app->measuring[0])
		snprintf(buf, len, "step %d: measuring %s", b + 1, app->measuring);
	else
		snprintf(buf, len, "working on %s %d",
			 lesson_session_item(app->lab, (size_t)b)->kind == LESSON_QUESTION
			     ? "question"
			     : "step",
			 b + 1);
	return 1;
}

static void draw_top(struct tui_app *app)
{
	char left[512], right[320] = "";
	move(0, 0);
	attrset(tui_attr(TUI_TITLE));
	for (int x = 0; x < COLS; x++)
		addch(' ');
	if (app->mode == TUI_MODE_LAB && app->lab) {
		size_t done = 0;
		for (size_t i = 0; i < app->nitems; i++) {
			enum lesson_status st = lesson_session_state(app->lab, i)->status;
			done += st == LESSON_PASSED || st == LESSON_SKIPPED;
		}
		snprintf(left, sizeof(left), " vlab: %s  [%zu/%zu, %zu done]",
			 lesson_session_lab(app->lab)->title, app->cur + 1, app->nitems, done);
	} else {
		snprintf(left, sizeof(left), " vlab %s: labs", VLAB_VERSION);
	}
	int w = tui_draw_str(0, 0, COLS, left, TUI_TITLE);
	char busy[128];
	int working = busy_phrase(app, busy, sizeof(busy));
	static const char spin[] = "|/-\\";
	uint64_t now = vlab_now_ns();
	enum tui_style st = TUI_TITLE;
	if (app->status[0] && now - app->status_ns < STATUS_NS) {
		snprintf(right, sizeof(right), " %s ", app->status);
		st = app->status_style == TUI_NORMAL ? TUI_TITLE : app->status_style;
	} else if (working) {
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
	const char *local = NULL;
	if (app->mode == TUI_MODE_PICKER)
		local = tui_picker_panel.keys(app);
	else if (panels[app->focus]->keys)
		local = panels[app->focus]->keys(app);
	/* Keys by priority: what fits the width is shown. */
	const char *tok[16];
	size_t nt = 0;
	if (app->overlay == TUI_OV_QUIT) {
		tok[nt++] = "y quit";
		tok[nt++] = "n stay";
	} else if (app->overlay == TUI_OV_HELP) {
		tok[nt++] = "any key: close help";
	} else if (app->mode == TUI_MODE_PICKER) {
		tok[nt++] = "F1 help";
		tok[nt++] = local;
		tok[nt++] = "q quit";
	} else if (app->typing || app->answering) {
		tok[nt++] = local;
		tok[nt++] = "F1 help";
	} else {
		static const char *const global[] = {"F1 help", "q quit", "n/p step", "r run",
						     "c check", "h hint", "Tab focus"};
		for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
			tok[nt++] = global[i];
		tok[nt++] = local;
		tok[nt++] = "z zoom";
	}
	/* "KEY what": each key name stands out. */
	move(LINES - 1, 0);
	clrtoeol();
	int x = 0;
	for (size_t i = 0; i < nt; i++) {
		if (!tok[i])
			continue;
		int need = (int)strlen(tok[i]) + 2;
		if (x + need > COLS)
			continue; /* a lower-priority key may still fit */
		char key[128];
		snprintf(key, sizeof(key), "%s", tok[i]);
		char *sp = strchr(key + 1, ' ');
		if (sp)
			*sp = '\0';
		x += tui_draw_str(LINES - 1, x, COLS - x, " ", TUI_NORMAL);
		x += tui_draw_str(LINES - 1, x, COLS - x, key, TUI_KEY);
		if (sp)
			x += tui_draw_str(LINES - 1, x, COLS - x, tok[i] + (sp - key), TUI_NORMAL);
		x += tui_draw_str(LINES - 1, x, COLS - x, " ", TUI_NORMAL);
	}
}

static void draw(struct tui_app *app)
{
	/* Laid out again every frame: the size may have changed unreported,
	 * the instances pane grows with its entries (cheap arithmetic). */
	layout(app);
	erase();
	if (app->too_small) {
		char msg[128];
		snprintf(msg, sizeof(msg), "vlab needs at least 60x16; this terminal is %dx%d.",
			 COLS, LINES);
		tui_draw_str(LINES / 2, 0, COLS, msg, TUI_BAD);
		tui_draw_str(LINES / 2 + 1, 0, COLS, "Make it larger, or press q to quit.",
			     TUI_NORMAL);
		refresh();
		return;
	}
	draw_top(app);
	if (app->mode == TUI_MODE_PICKER) {
		struct tui_rect r = {1, 0, LINES - 2, COLS};
		char t[64];
		tui_picker_panel.title(app, t, sizeof(t));
		tui_draw_frame(app, r, t, 1);
		tui_picker_panel.draw(app, (struct tui_rect){r.y + 1, r.x + 2, r.h - 2, r.w - 4},
				      1);
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

/* ---- keys ---- */

static void action(struct tui_app *app, int ch)
{
	struct vlab_err err = {0};
	const struct lesson_item *it = app->item;
	switch (ch) {
	case 'n':
		if (app->cur + 1 < app->nitems)
			tui_goto_item(app, app->cur + 1);
		else
			tui_status(app, TUI_NORMAL, "that was the last step");
		return;
	case 'p':
		if (app->cur > 0)
			tui_goto_item(app, app->cur - 1);
		return;
	case 'r':
		if (!it || it->kind != LESSON_STEP || !(it->has_run || it->has_check)) {
			tui_status(app, TUI_NORMAL, "this step has nothing to run");
			return;
		}
		if (lesson_session_run(app->lab, app->cur, &err) < 0) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_log(app, "running step %zu: %s", app->cur + 1, it->title);
		break;
	case 'c':
		if (!it || !it->has_check) {
			tui_status(app, TUI_NORMAL, "this step has nothing to check");
			return;
		}
		if (lesson_session_check(app->lab, app->cur, &err) < 0) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_log(app, "checking step %zu", app->cur + 1);
		break;
	case 'h':
		if (!it || app->state->hints_used >= it->nhints) {
			tui_status(app, TUI_NORMAL,
				   it && it->nhints ? "no more hints" : "no hints here");
			return;
		}
		if (!lesson_session_hint(app->lab, app->cur, &err)) {
			tui_status(app, TUI_BAD, "%s", err.msg);
			return;
		}
		tui_refresh_item(app);
		/* Show the new hint: the end of the text. */
		app->lesson_scroll = 1 << 20;
		return;
	}
	tui_lab_events(app);
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
		if (tui_any_running(app))
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

static int run_loop(struct tui_app *app)
{
	uint64_t dirty_since = 0, last_draw = 0;
	int need_draw = 1;
	while (!app->quit) {
		uint64_t now = vlab_now_ns();
		if (now - app->last_sample_ns >= SAMPLE_NS) {
			tui_sample(app);
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
		/* The session's descriptors: its runner, every instance's
		 * console and process. */
		size_t lab0 = np, nlab = 0;
		if (app->lab) {
			nlab = lesson_session_pollfds(app->lab, pfd + np, MAX_POLL - np);
			if (nlab > MAX_POLL - np)
				nlab = MAX_POLL - np;
			np += nlab;
		}
		/* Sleep until the next sample, frame or spinner step. */
		uint64_t wait = SAMPLE_NS - (vlab_now_ns() - app->last_sample_ns < SAMPLE_NS
						 ? vlab_now_ns() - app->last_sample_ns
						 : SAMPLE_NS);
		if (dirty_since)
			wait = FRAME_NS < wait ? FRAME_NS : wait;
		int busy = app->lab && lesson_session_busy(app->lab) >= 0;
		if (app->lab) {
			int t = lesson_session_timeout_ms(app->lab);
			if (t >= 0 && (uint64_t)t * 1000000ull < wait)
				wait = (uint64_t)t * 1000000ull;
		}
		if (busy ||
		    (app->status[0] && vlab_now_ns() - app->status_ns < STATUS_NS + SAMPLE_NS))
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
		if (r > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
			return VLAB_EXIT_FAIL; /* the terminal went away */
		/* The lab first, keys last: the key's redraw shows it all.
		 * Console output only marks the screen dirty (frames are
		 * coalesced); anything else redraws at once. */
		int lab_ready = 0;
		for (size_t i = 0; i < nlab; i++)
			lab_ready |= pfd[lab0 + i].revents != 0;
		if (app->lab && (lab_ready || lesson_session_timeout_ms(app->lab) == 0)) {
			size_t before = app->ninst;
			enum lesson_status st = app->state ? app->state->status : LESSON_TODO;
			if (tui_lab_events(app) > 0) {
				if (!dirty_since)
					dirty_since = vlab_now_ns();
				if (app->ninst != before ||
				    (app->state && app->state->status != st))
					need_draw = 1;
			}
		}
		/* Keys are read every turn (getch does not block): a resize
		 * reaches us as KEY_RESIZE from getch, whatever woke us. */
		{
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
					fprintf(app->trace, "key %.3f ms\n",
						(double)(last_draw - t0) / 1e6),
					    fflush(app->trace);
			}
		}
	}
	return VLAB_EXIT_OK;
}

int tui_main(const struct tui_opts *opts)
{
	const char *lab_path = opts ? opts->lab : NULL;
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
		return err.code == ENOTTY    ? VLAB_EXIT_USAGE
		       : err.code == ENOTSUP ? VLAB_EXIT_UNSUPPORTED
					     : VLAB_EXIT_INTERNAL;
	}
	const char *trace = getenv("VLAB_TUI_TRACE");
	if (trace && *trace)
		app->trace = fopen(trace, "we");
	app->mode = TUI_MODE_PICKER;
	layout(app);
	if (!lab_path) {
		draw(app); /* something on screen while the labs are read */
		tui_picker_scan(app);
	}
	int rc = VLAB_EXIT_OK;
	if (opts) {
		app->workbook = opts->workbook;
		app->fresh = opts->fresh;
	}
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
		tui_close_lab(app);
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
