/* tui/app.h: the TUI's state, its panels and the helpers panels draw with.
 *
 * One screen, two modes: the lab picker, and a lab with its panels (lesson
 * with the question prompt, instances, metrics, console).  Each panel is an
 * ops table (draw, key); tui/app.c owns the one poll loop over the terminal,
 * the signal pipe, the lab's descriptors and every instance's console,
 * event and process descriptors. */
#ifndef VLAB_TUI_APP_H
#define VLAB_TUI_APP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engines/engine.h"
#include "lesson/catalog.h"
#include "lesson/session.h"
#include "tui/chart.h"
#include "tui/procstat.h"
#include "tui/scrollback.h"
#include "tui/term.h"
#include "tui/text.h"
#include "tui/tui.h"

struct tui_rect {
	int y, x, h, w;
};

struct tui_app;

struct tui_panel_ops {
	const char *name;
	/* Draws inside r (the frame is drawn by the caller). */
	void (*draw)(struct tui_app *app, struct tui_rect r, int focused);
	/* A key while focused: 1 when used, 0 to let global keys have it. */
	int (*key)(struct tui_app *app, int ch);
	/* Keys for the bottom line while focused ("j/k scroll"), NULL none. */
	const char *(*keys)(struct tui_app *app);
	/* The frame title (may change: tabs, step n/N). */
	void (*title)(struct tui_app *app, char *buf, size_t len);
};

enum tui_panel_id { TUI_P_LESSON, TUI_P_INSTANCES, TUI_P_METRICS, TUI_P_CONSOLE, TUI_P_COUNT };

extern const struct tui_panel_ops tui_lesson_panel, tui_instances_panel, tui_metrics_panel,
    tui_console_panel, tui_picker_panel;

#define TUI_MAX_INST 16
#define TUI_TOP_EXITS 6

/* One instance as the front end follows it (the session owns the
 * instance; this is the view: console scrollback, live figures). */
struct tui_inst {
	int id; /* lesson_instance.id */
	char name[VLAB_NAME_MAX + 1];
	struct tui_scrollback sb;
	int scroll; /* console lines up from the bottom */
	struct tui_procstat ps;
	int ps_ok;
	/* VM exits and unikernel hypercalls per second by reason, busiest
	 * first (engines/counters.h names: "exit.io", "hc.poll") */
	struct vlab_counter prev[VLAB_COUNTERS_MAX];
	size_t nprev;
	uint64_t prev_ns;
	struct tui_rate {
		char name[VLAB_COUNTER_NAME]; /* without its prefix: "io", "poll" */
		double rate;
	} exits[TUI_TOP_EXITS], hcalls[TUI_TOP_EXITS];
	size_t nexits, nhcalls;
	uint64_t exits_total;
};

#define TUI_MAX_CHARTS 16

enum tui_overlay { TUI_OV_NONE, TUI_OV_HELP, TUI_OV_QUIT };
enum tui_mode { TUI_MODE_PICKER, TUI_MODE_LAB };

struct tui_app {
	struct tui_term term;
	enum tui_mode mode;
	int quit;    /* leave the loop */
	int quit_rc; /* exit status to return */
	int overlay;
	int zoom;  /* the focused panel fills the body */
	int focus; /* enum tui_panel_id */
	struct tui_rect rect[TUI_P_COUNT];
	int too_small;
	int laid_cols, laid_lines; /* the size the rectangles were computed for */

	/* the picker */
	struct lesson_catalog_entry *labs;
	size_t nlabs, lab_sel;
	int picker_scroll;

	/* the open lab */
	const char *workbook; /* from the command line, NULL default */
	int fresh;
	struct lesson_session *lab;
	size_t nitems;
	size_t cur;
	const struct lesson_item *item;	       /* lesson_session_item(cur) */
	const struct lesson_item_state *state; /* its progress */
	struct tui_text lesson;		       /* current item's text, wrapped */
	int lesson_w;			       /* width it was wrapped for */
	int lesson_scroll;
	int lesson_dirty;
	int answering; /* the question prompt has the keys */
	char input[256];
	size_t input_len;
	size_t choice_sel;

	struct tui_inst inst[TUI_MAX_INST];
	size_t ninst;
	size_t tab;		   /* console tab: 0 the lab's own log, k instance k-1 */
	int typing;		   /* keys go to the active console's instance */
	struct tui_scrollback log; /* the lab's output, run/check results */
	int log_scroll;
	struct tui_chart charts[TUI_MAX_CHARTS];
	size_t ncharts;
	char measuring[64]; /* the measurement in progress, "" none */
	unsigned measured;  /* measurements recorded during the current action */
	int metrics_scroll;
	int instances_scroll;

	char status[256];
	enum tui_style status_style;
	uint64_t status_ns;
	uint64_t last_sample_ns;
	unsigned spin;
	FILE *trace; /* VLAB_TUI_TRACE: key-to-redraw times */
};

/* ---- helpers for panels (tui/draw.c) ---- */

/* Draws text (UTF-8) at y, x in style, cut to w columns; returns columns. */
int tui_draw_str(int y, int x, int w, const char *s, enum tui_style style);
/* Draws a styled line, skipping its first skip columns, cut to w. */
void tui_draw_line(int y, int x, int w, const struct tui_line *l);
/* A frame around r with a title; focused frames stand out. */
void tui_draw_frame(const struct tui_app *app, struct tui_rect r, const char *title, int focused);
/* Clears a rectangle. */
void tui_draw_clear(struct tui_rect r);
/* Shows a message on the status line for a few seconds. */
void tui_status(struct tui_app *app, enum tui_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a line to the lab log (console tab 0). */
void tui_log(struct tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- actions shared by keys and panels (tui/app.c) ---- */
void tui_goto_item(struct tui_app *app, size_t i);
/* The lesson panel's text must be laid out again (state, hints changed). */
void tui_refresh_item(struct tui_app *app);
/* The session's view of the instance behind console/instances entry ti. */
const struct lesson_instance *tui_inst_of(const struct tui_app *app, const struct tui_inst *ti);
/* Opens a lab (from the picker or the command line); 0 or -1 (status set). */
int tui_open_lab(struct tui_app *app, const char *path);
/* Stops the lab's instances (cleanly) and closes it. */
void tui_close_lab(struct tui_app *app);
/* Dispatches the session and takes its events; returns how many. */
int tui_lab_events(struct tui_app *app);
/* Samples live CPU, memory and exit rates of every instance. */
void tui_sample(struct tui_app *app);
/* Lines the instances pane would like for entry ti. */
int tui_inst_lines(const struct tui_inst *ti);
/* Whether an instance is still starting or running. */
int tui_any_running(const struct tui_app *app);
/* Scans the shipped and the student's lab folders for the picker. */
void tui_picker_scan(struct tui_app *app);
/* Draws the help overlay or the quit confirmation. */
void tui_draw_overlay(struct tui_app *app);

#endif
