/* tui/help.c: the F1 help overlay and the quit confirmation. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/app.h"

static const char *const help_lines[] = {
    "#Moving around",
    "Tab / Shift-Tab  focus the next / previous panel",
    "z               zoom the focused panel (again: back)",
    "j k, arrows     scroll; PgUp PgDn Home End",
    "#The lab",
    "n / p           next / previous step",
    "r               run the step (starts instances, measures)",
    "c               check the step",
    "h               reveal the next hint (it is recorded)",
    "a, Enter        answer a question (1-9 picks a choice)",
    "#Consoles",
    "[ ] or 0-9      switch console tab (0 is the lab's log)",
    "i, Enter        type into the instance, when the step allows",
    "Esc             stop typing",
    "#Elsewhere",
    "F1 or ?         this help (any key closes it)",
    "Ctrl-L          redraw the screen",
    "q               quit (asks first when",
    "                instances are running; they are stopped)",
    "",
    "Your answers and progress are saved as you go.",
};

static void dialog(struct tui_app *app, int h, int w, const char *title, struct tui_rect *inner)
{
	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 2)
		h = LINES - 2;
	struct tui_rect r = {(LINES - h) / 2, (COLS - w) / 2, h, w};
	tui_draw_clear(r);
	tui_draw_frame(app, r, title, 1);
	*inner = (struct tui_rect){r.y + 1, r.x + 2, r.h - 2, r.w - 4};
}

void tui_draw_overlay(struct tui_app *app)
{
	struct tui_rect in;
	if (app->overlay == TUI_OV_HELP) {
		int n = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
		dialog(app, n + 2, 62, "Help", &in);
		for (int i = 0; i < n && i < in.h; i++) {
			const char *l = help_lines[i];
			if (l[0] == '#')
				tui_draw_str(in.y + i, in.x, in.w, l + 1, TUI_HEADING);
			else
				tui_draw_str(in.y + i, in.x, in.w, l, TUI_NORMAL);
		}
	} else if (app->overlay == TUI_OV_QUIT) {
		size_t running = 0;
		for (size_t i = 0; i < app->ninst; i++) {
			const struct lesson_instance *li = tui_inst_of(app, &app->inst[i]);
			running +=
			    li && !li->gone &&
			    (li->state == VLAB_STATE_RUNNING || li->state == VLAB_STATE_STARTING);
		}
		dialog(app, 6, 52, "Quit?", &in);
		char line[128];
		snprintf(line, sizeof(line), "%zu instance%s still running.", running,
			 running == 1 ? " is" : "s are");
		tui_draw_str(in.y, in.x, in.w, line, TUI_WARN);
		tui_draw_str(in.y + 1, in.x, in.w, "Quitting stops them cleanly; your", TUI_NORMAL);
		tui_draw_str(in.y + 2, in.x, in.w, "progress is saved.   Quit? (y/n)", TUI_NORMAL);
	}
}
