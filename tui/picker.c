/* tui/picker.c: the lab picker, the first screen: the labs found in the
 * shipped folder and in the student's own, with title, length and the
 * student's progress in each. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "tui/app.h"

void tui_picker_scan(struct tui_app *app)
{
	struct vlab_err err = {0};
	struct lesson_catalog_entry *labs = NULL;
	size_t n = 0;
	if (lesson_catalog_scan(&labs, &n, &err) < 0) {
		tui_status(app, TUI_BAD, "cannot list the labs: %s", err.msg);
		return;
	}
	free(app->labs);
	app->labs = labs;
	app->nlabs = n;
	if (app->lab_sel >= app->nlabs)
		app->lab_sel = app->nlabs ? app->nlabs - 1 : 0;
}

static void draw(struct tui_app *app, struct tui_rect r, int focused)
{
	(void)focused;
	const struct tui_glyphs *g = &app->term.g;
	int y = r.y;
	tui_draw_str(y++, r.x, r.w, "Pick a lab and press Enter.", TUI_EMPH);
	y++;
	if (app->nlabs == 0) {
		char d1[VLAB_PATH_MAX] = "?", d2[VLAB_PATH_MAX] = "?", line[2 * VLAB_PATH_MAX];
		vlab_labs_dir(d1, sizeof(d1), NULL);
		vlab_user_labs_dir(d2, sizeof(d2), NULL);
		tui_draw_str(y++, r.x, r.w, "No labs found. vlab looked in:", TUI_BAD);
		snprintf(line, sizeof(line), "  %s  (shipped)", d1);
		tui_draw_str(y++, r.x, r.w, line, TUI_NORMAL);
		snprintf(line, sizeof(line), "  %s  (your own)", d2);
		tui_draw_str(y++, r.x, r.w, line, TUI_NORMAL);
		return;
	}
	int per = 2, rows = (r.h - 2) / per;
	if (rows < 1)
		rows = 1;
	if ((int)app->lab_sel < app->picker_scroll)
		app->picker_scroll = (int)app->lab_sel;
	if ((int)app->lab_sel >= app->picker_scroll + rows)
		app->picker_scroll = (int)app->lab_sel - rows + 1;
	for (size_t i = (size_t)app->picker_scroll; i < app->nlabs && y + 1 < r.y + r.h; i++) {
		const struct lesson_catalog_entry *li = &app->labs[i];
		int sel = i == app->lab_sel;
		char line[512];
		snprintf(line, sizeof(line), "%s %s", sel ? ">" : " ", li->title);
		int c = r.x + tui_draw_str(y, r.x, r.w, line, sel ? TUI_SELECT : TUI_EMPH);
		if (li->own)
			tui_draw_str(y, c, r.x + r.w - c, "  (your own)", TUI_DIM);
		y++;
		if (li->error[0]) {
			snprintf(line, sizeof(line), "    cannot open: %s", li->error);
			tui_draw_str(y++, r.x, r.w, line, TUI_BAD);
			continue;
		}
		/* Length: steps and questions, and about how long (a step takes
		 * a student some 5 minutes, a question 2). */
		size_t minutes = li->nsteps * 5 + li->nquestions * 2;
		snprintf(line, sizeof(line),
			 "    %zu steps, %zu questions, ~%zu min; %s%zu of %zu done  ", li->nsteps,
			 li->nquestions, minutes, li->started ? "" : "new, ", li->done, li->nitems);
		c = r.x + tui_draw_str(y, r.x, r.w, line, TUI_NORMAL);
		/* A progress gauge. */
		int gw = r.x + r.w - c - 1;
		if (gw > 20)
			gw = 20;
		for (int j = 0; j < gw && li->nitems; j++) {
			int on = (size_t)j * li->nitems < li->done * (size_t)gw;
			c += tui_draw_str(y, c, 1, on ? g->full : ".", on ? TUI_GOOD : TUI_DIM);
		}
		y++;
	}
}

static int key(struct tui_app *app, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (app->lab_sel > 0)
			app->lab_sel--;
		return 1;
	case KEY_DOWN:
	case 'j':
		if (app->lab_sel + 1 < app->nlabs)
			app->lab_sel++;
		return 1;
	case KEY_HOME:
		app->lab_sel = 0;
		return 1;
	case KEY_END:
		app->lab_sel = app->nlabs ? app->nlabs - 1 : 0;
		return 1;
	case 'g':
		tui_picker_scan(app);
		tui_status(app, TUI_NORMAL, "%zu labs found", app->nlabs);
		return 1;
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (app->nlabs == 0)
			return 1;
		if (app->labs[app->lab_sel].error[0]) {
			tui_status(app, TUI_BAD, "%s", app->labs[app->lab_sel].error);
			return 1;
		}
		tui_open_lab(app, app->labs[app->lab_sel].path);
		return 1;
	}
	return 0;
}

static const char *keys(struct tui_app *app)
{
	(void)app;
	return "up/down pick  Enter open  g rescan";
}

static void title(struct tui_app *app, char *buf, size_t len)
{
	snprintf(buf, len, "Labs (%zu)", app->nlabs);
}

const struct tui_panel_ops tui_picker_panel = {
    .name = "labs",
    .draw = draw,
    .key = key,
    .keys = keys,
    .title = title,
};
