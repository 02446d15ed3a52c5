/* lesson/session_book.c: the student's workbook in a session (see
 * session.h): opened (kept aside when unreadable or for another version of
 * the lab), the items' states read back from it, and every result and
 * measurement from the runner written to it as it comes, atomically
 * (lesson/workbook.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "lesson/session.h"
#include "lesson/session_int.h"
#include "lesson/workbook.h"

/* ---- the workbook ---- */

int session_save(struct lesson_session *s, struct vlab_err *err)
{
	if (s->no_workbook || s->read_only)
		return 0;
	char now[32];
	lesson_iso8601(vlab_wall_ns(), now);
	json_object_set_new(s->wb, "updated", json_string(now));
	json_object_set_new(s->wb, "vlab_version", json_string(VLAB_VERSION));
	json_t *lab = json_object_get(s->wb, "lab");
	json_object_set_new(lab, "sha256", json_string(s->info.sha256));
	json_object_set_new(lab, "version", json_string(s->info.version));
	return lesson_workbook_save(s->wb_path, s->wb, err);
}

void session_save_or_warn(struct lesson_session *s)
{
	struct vlab_err err = {0};
	if (session_save(s, &err) < 0) {
		char msg[VLAB_ERR_MSG + 64];
		snprintf(msg, sizeof(msg), "your progress could not be saved: %s", err.msg);
		session_push(s, LESSON_EV_WARNING, -1, -1, msg);
	}
}

static void load_states(struct lesson_session *s)
{
	for (size_t i = 0; i < s->info.nitems; i++) {
		json_t *it = lesson_workbook_item(s->wb, s->items[i].id, 0);
		struct lesson_item_state *st = &s->states[i];
		if (!it)
			continue;
		st->status = session_status_parse(session_jstr(it, "status", "todo"));
		st->score = json_number_value(json_object_get(it, "score"));
		session_set_owned(&st->message, session_jstr(it, "message", ""));
		session_set_owned(&st->answer, json_string_value(json_object_get(it, "answer")));
		st->attempts = (unsigned)json_integer_value(json_object_get(it, "attempts"));
		st->hints_used = (unsigned)json_integer_value(json_object_get(it, "hints_used"));
		if (st->hints_used > s->items[i].nhints)
			st->hints_used = (unsigned)s->items[i].nhints;
		st->updated_ns = st->attempts ? vlab_wall_ns() : 0;
	}
}

int session_open_workbook(struct lesson_session *s, const struct lesson_session_opts *o,
			  struct vlab_err *err)
{
	json_t *wb = NULL;
	char aside[VLAB_PATH_MAX + 64], msg[VLAB_ERR_MSG * 2];
	if (o->workbook)
		snprintf(s->wb_path, sizeof(s->wb_path), "%s", o->workbook);
	else if (!s->no_workbook &&
		 lesson_workbook_default_path(s->info.id, s->wb_path, sizeof(s->wb_path), err) < 0)
		return -1;
	if (!s->no_workbook || o->workbook) {
		int r = lesson_workbook_load(s->wb_path, &wb, err);
		if (r < 0 && (err->code != EBADMSG || s->read_only))
			return -1;
		if (r < 0) {
			snprintf(msg, sizeof(msg), "%s", err->msg);
			if (lesson_workbook_set_aside(s->wb_path, "corrupt", aside, sizeof(aside), err) < 0)
				return vlab_err_prefix(err, "%s", msg);
			char w[sizeof(msg) + sizeof(aside) + 128];
			snprintf(w, sizeof(w),
				 "Your workbook could not be read (%s). It was kept as %s and a new "
				 "one started.",
				 msg, aside);
			session_push(s, LESSON_EV_WARNING, -1, -1, w);
		}
		if (wb && strcmp(session_jstr(json_object_get(wb, "lab"), "id", ""), s->info.id)) {
			lesson_bad_input(err, "%s: this workbook is for lab '%s', not '%s'",
				     s->wb_path, session_jstr(json_object_get(wb, "lab"), "id", ""), s->info.id);
			json_decref(wb);
			return -1;
		}
		if (wb && o->fresh && !s->read_only) {
			json_decref(wb);
			wb = NULL;
			if (lesson_workbook_set_aside(s->wb_path, "old", aside, sizeof(aside), err) < 0)
				return -1;
			snprintf(msg, sizeof(msg), "Your earlier workbook was kept as %s.", aside);
			session_push(s, LESSON_EV_WARNING, -1, -1, msg);
		}
		if (wb && strcmp(session_jstr(json_object_get(wb, "lab"), "sha256", ""), s->info.sha256)) {
			snprintf(msg, sizeof(msg),
				 "The lab changed since this workbook was started (version %s, now "
				 "%s): your progress is kept for the steps that still exist.",
				 session_jstr(json_object_get(wb, "lab"), "version", "?"), s->info.version);
			session_push(s, LESSON_EV_WARNING, -1, -1, msg);
		}
	}
	if (!wb)
		wb = lesson_workbook_new(s->info.id, s->info.title, s->info.version, s->lab_path,
					 s->info.sha256);
	if (!wb)
		return vlab_err_set(err, ENOMEM, "workbook");
	s->wb = wb;
	load_states(s);
	return 0;
}

/* ---- results from the runner ---- */

void session_item_result(struct lesson_session *s, const struct action *a, const char *status,
			 const char *message, double score)
{
	size_t i = a->item;
	if (s->pending[i])
		s->pending[i]--;
	if (a->op == ACT_RUN)
		s->ran_here[i] = 1;
	if (a->replay) {
		if (strcmp(status, "passed") && strcmp(status, "skipped")) {
			char w[VLAB_ERR_MSG + 200];
			snprintf(w, sizeof(w), "re-running '%s' to restore the lab's state failed: %s",
				 s->items[i].title, message);
			session_push(s, LESSON_EV_WARNING, (int)i, -1, w);
		}
		return;
	}
	struct lesson_item_state *st = &s->states[i];
	enum lesson_status ns = session_status_parse(status);
	st->status = ns == LESSON_TODO ? LESSON_ERROR : ns;
	st->score = score;
	session_set_owned(&st->message, message);
	if (!a->grading)
		st->attempts++;
	st->updated_ns = vlab_wall_ns();
	if (!a->grading) {
		char now[32];
		lesson_iso8601(st->updated_ns, now);
		json_t *it = lesson_workbook_item(s->wb, s->items[i].id, 1);
		json_object_set_new(it, "status", json_string(lesson_status_name(st->status)));
		json_object_set_new(it, "score", json_real(score));
		json_object_set_new(it, "message", json_string(message));
		json_object_set_new(it, "attempts", json_integer(st->attempts));
		json_object_set_new(it, "updated", json_string(now));
		if (st->status == LESSON_PASSED && !json_object_get(it, "first_passed"))
			json_object_set_new(it, "first_passed", json_string(now));
		session_save_or_warn(s);
	}
	session_push(s, LESSON_EV_RESULT, (int)i, -1, NULL);
}

void session_record(struct lesson_session *s, int item, const char *name, double value,
		    const char *unit)
{
	char now[32];
	lesson_iso8601(vlab_wall_ns(), now);
	json_t *m = json_object_get(s->wb, "measurements");
	if (!m) {
		m = json_object();
		json_object_set_new(s->wb, "measurements", m);
	}
	json_object_set_new(m, name,
			    json_pack("{s:f, s:s, s:s, s:s}", "value", value, "unit", unit, "item",
				      item >= 0 && (size_t)item < s->info.nitems ? s->items[item].id
										 : "",
				      "at", now));
	session_save_or_warn(s);
	session_push(s, LESSON_EV_MEASURE, item, -1, name);
}
