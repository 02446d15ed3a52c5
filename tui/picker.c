/* tui/picker.c: the lab picker, the first screen: the labs found in the
 * shipped folder and in the student's own, with title, length and the
 * student's progress in each. */
#include <curses.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "tui/app.h"

static int by_name(const void *a, const void *b)
{
	const struct tui_lab_info *x = a, *y = b;
	if (x->user != y->user)
		return x->user - y->user;
	return strcmp(x->path, y->path);
}

static void scan_dir(struct tui_app *app, const char *dir, int user, size_t *cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".lua"))
			continue;
		if (app->nlabs == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			struct tui_lab_info *n = realloc(app->labs, nc * sizeof(*n));
			if (!n)
				break;
			app->labs = n;
			*cap = nc;
		}
		struct tui_lab_info *li = &app->labs[app->nlabs++];
		memset(li, 0, sizeof(*li));
		snprintf(li->path, sizeof(li->path), "%s/%s", dir, e->d_name);
		snprintf(li->title, sizeof(li->title), "%.*s", (int)(l - 4), e->d_name);
		li->user = user;
		struct vlab_err err = {0};
		if (tui_lab_describe(li->path, li, &err) < 0)
			snprintf(li->error, sizeof(li->error), "%s", err.msg);
	}
	closedir(d);
}

void tui_picker_scan(struct tui_app *app)
{
	char dir[VLAB_PATH_MAX];
	size_t cap = 0;
	free(app->labs);
	app->labs = NULL;
	app->nlabs = 0;
	if (vlab_labs_dir(dir, sizeof(dir), NULL) == 0)
		scan_dir(app, dir, 0, &cap);
	if (vlab_user_labs_dir(dir, sizeof(dir), NULL) == 0)
		scan_dir(app, dir, 1, &cap);
	qsort(app->labs, app->nlabs, sizeof(*app->labs), by_name);
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
		const struct tui_lab_info *li = &app->labs[i];
		int sel = i == app->lab_sel;
		char line[512];
		snprintf(line, sizeof(line), "%s %s", sel ? ">" : " ", li->title);
		int c = r.x + tui_draw_str(y, r.x, r.w, line, sel ? TUI_SELECT : TUI_EMPH);
		if (li->user)
			tui_draw_str(y, c, r.x + r.w - c, "  (your own)", TUI_DIM);
		y++;
		if (li->error[0]) {
			snprintf(line, sizeof(line), "    cannot open: %s", li->error);
			tui_draw_str(y++, r.x, r.w, line, TUI_BAD);
			continue;
		}
		int k = snprintf(line, sizeof(line), "    %zu steps", li->items);
		if (li->minutes[0])
			k += snprintf(line + k, sizeof(line) - (size_t)k, ", %s", li->minutes);
		snprintf(line + k, sizeof(line) - (size_t)k, ", %zu of %zu done  ", li->done, li->items);
		c = r.x + tui_draw_str(y, r.x, r.w, line, TUI_NORMAL);
		/* A progress gauge. */
		int gw = r.x + r.w - c - 1;
		if (gw > 20)
			gw = 20;
		for (int j = 0; j < gw && li->items; j++)
			c += tui_draw_str(y, c, 1, (size_t)j * li->items < li->done * (size_t)gw ? g->full : ".",
					  (size_t)j * li->items < li->done * (size_t)gw ? TUI_GOOD : TUI_DIM);
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
	.name = "labs", .draw = draw, .key = key, .keys = keys, .title = title,
};
