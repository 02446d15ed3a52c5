/* tui/panel_lesson.c: the current step's text (wrapped, with markup,
 * scrollable), its state and revealed hints, and for a question the prompt
 * pinned at the bottom: choices to pick, or a field for a number or a
 * short text, saved at once. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/app.h"

static const char *state_word(const struct lesson_item *it, const struct lesson_item_state *st,
			      enum tui_style *style)
{
	int q = it->kind == LESSON_QUESTION;
	*style = TUI_DIM;
	switch (st->status) {
	case LESSON_RUNNING:
		*style = TUI_WARN;
		return "working...";
	case LESSON_PASSED:
		*style = TUI_GOOD;
		return q ? "answer saved: right" : it->has_check ? "check passed" : "done";
	case LESSON_FAILED:
		*style = TUI_BAD;
		return q ? "answer saved: not right yet (a to answer again)"
			 : "not yet: the check did not pass (r to run again)";
	case LESSON_ERROR:
		*style = TUI_BAD;
		return "the lab stopped with an error";
	case LESSON_SKIPPED:
		*style = TUI_WARN;
		return "skipped: this machine cannot run it";
	default:
		if (q)
			return "press a to answer";
		return it->has_run     ? "press r to run this step"
		       : it->has_check ? "press c to check"
				       : "";
	}
}

/* The message with the lab's folder left out of "/path/to/lab.lua:12:",
 * which says nothing the student needs and costs a line at 80 columns. */
static void short_paths(const struct tui_app *app, const char *in, char *out, size_t len)
{
	const char *path = lesson_session_lab(app->lab)->path;
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	size_t k = 0;
	while (*in && k + 1 < len) {
		if (dl && !strncmp(in, path, dl)) {
			in += dl;
			continue;
		}
		out[k++] = *in++;
	}
	out[k] = '\0';
}

/* Rebuilds the wrapped text when the item, its state or the width changed. */
static void rebuild(struct tui_app *app, int width)
{
	if (!app->lesson_dirty && app->lesson_w == width)
		return;
	tui_text_free(&app->lesson);
	app->lesson_w = width;
	app->lesson_dirty = 0;
	const struct lesson_item *it = app->item;
	const struct lesson_item_state *st = app->state;
	if (!it || !st) {
		tui_text_add(&app->lesson, "This lab has no steps.", TUI_BAD, width);
		return;
	}
	if (app->cur == 0 && lesson_session_lab(app->lab)->intro[0]) {
		tui_text_render(&app->lesson, lesson_session_lab(app->lab)->intro, width);
		tui_text_newline(&app->lesson);
	}
	tui_text_render(&app->lesson, it->text, width);
	enum tui_style style;
	const char *w = state_word(it, st, &style);
	if (*w || st->message[0])
		tui_text_newline(&app->lesson);
	if (*w) {
		char line[256];
		if (it->points > 0 && st->status != LESSON_TODO && st->status != LESSON_RUNNING)
			snprintf(line, sizeof(line), "%s (%.4g of %.4g points)", w, st->score,
				 it->points);
		else
			snprintf(line, sizeof(line), "%s", w);
		tui_text_add(&app->lesson, line, style, width);
	}
	if (st->message[0]) {
		struct tui_text m = {0};
		char msg[2048];
		short_paths(app, st->message, msg, sizeof(msg));
		tui_text_render(&m, msg, width - 2);
		for (size_t i = 0; i < m.n; i++) {
			struct tui_line *l = tui_text_newline(&app->lesson);
			if (!l)
				break;
			tui_line_add(l, "  ", 2, TUI_NORMAL);
			tui_line_add(l, m.line[i].text ? m.line[i].text : "", m.line[i].len,
				     st->status == LESSON_FAILED || st->status == LESSON_ERROR
					 ? TUI_BAD
					 : TUI_NORMAL);
		}
		tui_text_free(&m);
	}
	for (size_t k = 0; k < st->hints_used && k < it->nhints; k++) {
		char head[32];
		snprintf(head, sizeof(head), "Hint %zu of %zu", k + 1, it->nhints);
		tui_text_newline(&app->lesson);
		tui_text_add(&app->lesson, head, TUI_EMPH, width);
		tui_text_render(&app->lesson, it->hints[k], width);
	}
	if (it->nhints > st->hints_used) {
		char more[64];
		size_t left = it->nhints - st->hints_used;
		snprintf(more, sizeof(more), "(%zu hint%s left: press h)", left,
			 left == 1 ? "" : "s");
		tui_text_newline(&app->lesson);
		tui_text_add(&app->lesson, more, TUI_DIM, width);
	}
}

/* Rows the question prompt needs at the bottom. */
static int prompt_rows(const struct tui_app *app)
{
	if (!app->item || app->item->kind != LESSON_QUESTION)
		return 0;
	if (app->item->qkind == LESSON_Q_CHOICE)
		return (int)app->item->nchoices + 2;
	return 3;
}

static void draw_prompt(struct tui_app *app, struct tui_rect r)
{
	const struct lesson_item *it = app->item;
	const char *answer = app->state->answer;
	const struct tui_glyphs *g = &app->term.g;
	move(r.y, r.x);
	attrset(tui_attr(TUI_BORDER));
	for (int x = 0; x < r.w; x++)
		addstr(g->hline);
	attrset(A_NORMAL);
	const char *label = it->qkind == LESSON_Q_CHOICE    ? " Your answer: pick one "
			    : it->qkind == LESSON_Q_NUMERIC ? " Your answer: a number "
							    : " Your answer: a short text ";
	tui_draw_str(r.y, r.x + 1, r.w - 2, label, app->answering ? TUI_FOCUS : TUI_EMPH);
	int y = r.y + 1;
	if (it->qkind == LESSON_Q_CHOICE) {
		for (size_t i = 0; i < it->nchoices && y < r.y + r.h; i++, y++) {
			char line[512];
			char num[8];
			snprintf(num, sizeof(num), "%zu", i + 1);
			int saved = answer && !strcmp(answer, num);
			snprintf(line, sizeof(line), "%s %zu) %s", saved ? "*" : " ", i + 1,
				 it->choices[i]);
			enum tui_style st = app->answering && i == app->choice_sel ? TUI_SELECT
					    : saved				   ? TUI_GOOD
										   : TUI_NORMAL;
			tui_draw_str(y, r.x, r.w, line, st);
		}
		if (y < r.y + r.h)
			tui_draw_str(y, r.x, r.w,
				     app->answering ? "up/down or 1-9 to pick, Enter to save, Esc"
						    : "a or Enter to answer",
				     TUI_DIM);
		return;
	}
	char line[400];
	if (app->answering) {
		snprintf(line, sizeof(line), "> %.*s_ %s", (int)app->input_len, app->input,
			 it->unit);
		tui_draw_str(y, r.x, r.w, line, TUI_SELECT);
		tui_draw_str(y + 1, r.x, r.w, "Enter to save, Esc to cancel", TUI_DIM);
	} else {
		snprintf(line, sizeof(line), "saved: %s %s", answer ? answer : "-",
			 answer ? it->unit : "");
		tui_draw_str(y, r.x, r.w, line, answer ? TUI_GOOD : TUI_DIM);
		tui_draw_str(y + 1, r.x, r.w, "a or Enter to answer", TUI_DIM);
	}
}

static void draw(struct tui_app *app, struct tui_rect r, int focused)
{
	(void)focused;
	if (!app->lab)
		return;
	int pr = prompt_rows(app);
	if (pr > r.h - 2)
		pr = r.h - 2 > 0 ? r.h - 2 : 0;
	struct tui_rect body = {r.y, r.x, r.h - pr, r.w};
	rebuild(app, r.w - 1);
	int total = (int)app->lesson.n;
	int maxs = total > body.h ? total - body.h : 0;
	if (app->lesson_scroll > maxs)
		app->lesson_scroll = maxs;
	if (app->lesson_scroll < 0)
		app->lesson_scroll = 0;
	for (int y = 0; y < body.h && app->lesson_scroll + y < total; y++)
		tui_draw_line(body.y + y, body.x, body.w - 1,
			      &app->lesson.line[app->lesson_scroll + y]);
	/* A scroll mark in the right column when the text does not fit. */
	if (maxs > 0 && body.h > 2) {
		int pos = body.y + (body.h - 1) * app->lesson_scroll / maxs;
		tui_draw_str(pos, body.x + body.w - 1, 1, app->term.g.full, TUI_DIM);
		if (app->lesson_scroll < maxs)
			tui_draw_str(body.y + body.h - 1, body.x + body.w - 1, 1, "v", TUI_DIM);
	}
	if (pr > 0)
		draw_prompt(app, (struct tui_rect){r.y + r.h - pr, r.x, pr, r.w});
}

static void save_answer(struct tui_app *app, const char *ans)
{
	struct vlab_err err = {0};
	if (lesson_session_answer(app->lab, app->cur, ans, &err) < 0) {
		tui_status(app, TUI_BAD, "answer not saved: %s", err.msg);
		return;
	}
	app->answering = 0;
	tui_status(app, TUI_GOOD, "answer saved");
	tui_refresh_item(app);
}

static int answer_key(struct tui_app *app, int ch)
{
	const struct lesson_item *it = app->item;
	if (ch == 27) {
		app->answering = 0;
		return 1;
	}
	if (it->qkind == LESSON_Q_CHOICE) {
		if ((ch == KEY_UP || ch == 'k') && app->choice_sel > 0)
			app->choice_sel--;
		else if ((ch == KEY_DOWN || ch == 'j') && app->choice_sel + 1 < it->nchoices)
			app->choice_sel++;
		else if (ch >= '1' && ch <= '9' && (size_t)(ch - '1') < it->nchoices)
			app->choice_sel = (size_t)(ch - '1');
		else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
			char num[8];
			snprintf(num, sizeof(num), "%zu", app->choice_sel + 1);
			save_answer(app, num);
		}
		return 1;
	}
	if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
		app->input[app->input_len] = '\0';
		if (app->input_len == 0) {
			tui_status(app, TUI_WARN, "type an answer first (Esc to cancel)");
			return 1;
		}
		save_answer(app, app->input);
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		/* One character back, whole UTF-8 sequences. */
		while (app->input_len > 0 &&
		       ((unsigned char)app->input[app->input_len - 1] & 0xc0) == 0x80)
			app->input_len--;
		if (app->input_len > 0)
			app->input_len--;
	} else if (ch == 21) { /* ^U */
		app->input_len = 0;
	} else if (ch >= 0x20 && ch < 0x100 && ch != 0x7f &&
		   app->input_len + 1 < sizeof(app->input)) {
		if (it->qkind == LESSON_Q_NUMERIC && !strchr("0123456789.-+eE", ch)) {
			tui_status(app, TUI_WARN, "a number, please (digits, '.', '-')");
			return 1;
		}
		app->input[app->input_len++] = (char)ch;
	}
	return 1;
}

static void start_answering(struct tui_app *app)
{
	const struct lesson_item *it = app->item;
	const char *answer = app->state->answer;
	app->answering = 1;
	app->choice_sel = 0;
	app->input_len = 0;
	if (answer && *answer) {
		if (it->qkind == LESSON_Q_CHOICE) {
			unsigned long k = strtoul(answer, NULL, 10);
			if (k >= 1 && k <= it->nchoices)
				app->choice_sel = k - 1;
		} else {
			app->input_len = strlen(answer) < sizeof(app->input) - 1
					     ? strlen(answer)
					     : sizeof(app->input) - 1;
			memcpy(app->input, answer, app->input_len);
		}
	}
}

static int key(struct tui_app *app, int ch)
{
	if (!app->lab)
		return 0;
	if (app->answering)
		return answer_key(app, ch);
	int page = app->rect[TUI_P_LESSON].h - 2;
	switch (ch) {
	case KEY_UP:
	case 'k':
		app->lesson_scroll--;
		return 1;
	case KEY_DOWN:
	case 'j':
	case ' ':
		app->lesson_scroll += ch == ' ' ? page : 1;
		return 1;
	case KEY_PPAGE:
		app->lesson_scroll -= page;
		return 1;
	case KEY_NPAGE:
		app->lesson_scroll += page;
		return 1;
	case KEY_HOME:
		app->lesson_scroll = 0;
		return 1;
	case 'a':
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (app->item && app->item->kind == LESSON_QUESTION) {
			start_answering(app);
			return 1;
		}
		return ch == 'a' ? 0 : 1;
	}
	if (app->item && app->item->kind == LESSON_QUESTION &&
	    app->item->qkind == LESSON_Q_CHOICE && ch >= '1' && ch <= '9' &&
	    (size_t)(ch - '1') < app->item->nchoices) {
		start_answering(app);
		app->choice_sel = (size_t)(ch - '1');
		return 1;
	}
	return 0;
}

static const char *keys(struct tui_app *app)
{
	if (app->answering)
		return app->item->qkind == LESSON_Q_CHOICE
			   ? "1-9/arrows pick  Enter save  Esc cancel"
			   : "Enter save  Esc cancel";
	if (app->item && app->item->kind == LESSON_QUESTION)
		return "a answer  j/k scroll";
	return "j/k scroll";
}

static void title(struct tui_app *app, char *buf, size_t len)
{
	if (!app->item) {
		snprintf(buf, len, "Lesson");
		return;
	}
	snprintf(buf, len, "%s %zu/%zu: %s",
		 app->item->kind == LESSON_QUESTION ? "Question" : "Step", app->cur + 1,
		 app->nitems, app->item->title);
}

const struct tui_panel_ops tui_lesson_panel = {
    .name = "lesson",
    .draw = draw,
    .key = key,
    .keys = keys,
    .title = title,
};
