/* lesson/grade.c: grading a workbook (see grade.h): a read-only session on
 * the student's workbook, whose questions are re-scored by the lab runner. */
#include "lesson/grade.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lesson/session_int.h"
#include "lesson/workbook.h"

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int lesson_grade_workbook(const char *lab, const char *workbook, int rerun,
			  struct lesson_grade *g, struct vlab_err *err)
{
	memset(g, 0, sizeof(*g));
	struct stat st;
	if (stat(workbook, &st) < 0)
		return vlab_err_set(err, errno, "workbook %s", workbook);
	json_t *wb;
	int r = lesson_workbook_load(workbook, &wb, err);
	if (r <= 0)
		return r < 0 ? -1 : vlab_err_set(err, ENOENT, "workbook %s", workbook);
	json_t *wlab = json_object_get(wb, "lab");
	copy(g->student, sizeof(g->student), json_string_value(json_object_get(wb, "student")));
	copy(g->updated, sizeof(g->updated), json_string_value(json_object_get(wb, "updated")));
	copy(g->wb_vlab_version, sizeof(g->wb_vlab_version),
	     json_string_value(json_object_get(wb, "vlab_version")));
	char wsha[65];
	copy(wsha, sizeof(wsha), json_string_value(json_object_get(wlab, "sha256")));
	json_decref(wb);

	struct lesson_session_opts o = {.lab = lab, .workbook = workbook, .read_only = 1};
	struct lesson_session *s;
	if (lesson_session_open(&o, &s, err) < 0)
		return -1;
	const struct lesson_lab_info *li = lesson_session_lab(s);
	copy(g->lab_id, sizeof(g->lab_id), li->id);
	copy(g->lab_title, sizeof(g->lab_title), li->title);
	copy(g->lab_version, sizeof(g->lab_version), li->version);
	copy(g->lab_sha256, sizeof(g->lab_sha256), li->sha256);
	copy(g->workbook, sizeof(g->workbook), workbook);
	g->lab_changed = strcmp(wsha, li->sha256) != 0;
	g->n = li->nitems;
	g->items = calloc(g->n ? g->n : 1, sizeof(*g->items));
	if (!g->items) {
		lesson_session_free(s);
		return vlab_err_set(err, ENOMEM, "grade");
	}

	/* What the workbook says, before anything is re-scored. */
	enum lesson_status *recorded = calloc(g->n ? g->n : 1, sizeof(*recorded));
	if (!recorded) {
		lesson_session_free(s);
		return vlab_err_set(err, ENOMEM, "grade");
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_item *it = lesson_session_item(s, i);
		const struct lesson_item_state *ist = lesson_session_state(s, i);
		recorded[i] = ist->status;
		if (it->kind == LESSON_QUESTION && ist->answer)
			r = lesson_session_regrade(s, i, ist->answer, err);
		else if (it->kind == LESSON_STEP && rerun)
			r = lesson_session_run(s, i, err);
		else
			r = 0;
		if (r == 0)
			r = lesson_session_wait(s, -1, NULL, NULL, err);
		if (r < 0) {
			free(recorded);
			lesson_session_free(s);
			return -1;
		}
	}

	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_item *it = lesson_session_item(s, i);
		const struct lesson_item_state *ist = lesson_session_state(s, i);
		struct lesson_grade_item *gi = &g->items[i];
		copy(gi->id, sizeof(gi->id), it->id);
		copy(gi->title, sizeof(gi->title), it->title);
		gi->is_step = it->kind == LESSON_STEP;
		gi->points = it->points;
		gi->hints_used = ist->hints_used;
		gi->attempts = ist->attempts;
		gi->answered = ist->answer != NULL;
		copy(gi->answer, sizeof(gi->answer), ist->answer);
		gi->status = ist->status;
		copy(gi->message, sizeof(gi->message), ist->message);
		if (gi->is_step && rerun) {
			/* Live result against the workbook's record. */
			if (ist->status == LESSON_SKIPPED) {
				gi->status = recorded[i];
				snprintf(gi->message, sizeof(gi->message),
					 "not re-run here (%s); the workbook says %s", ist->message,
					 lesson_status_name(recorded[i]));
			} else if (recorded[i] != LESSON_PASSED && ist->status == LESSON_PASSED) {
				gi->status = recorded[i] == LESSON_TODO ? LESSON_TODO : recorded[i];
				snprintf(gi->message, sizeof(gi->message),
					 "passes when re-run, but the workbook says %s",
					 lesson_status_name(recorded[i]));
			}
		} else if (gi->is_step && gi->status == LESSON_TODO) {
			snprintf(gi->message, sizeof(gi->message), "not done");
		}
		if (!gi->is_step && !gi->answered) {
			gi->status = LESSON_TODO;
			snprintf(gi->message, sizeof(gi->message), "not answered");
		}
		gi->score = gi->status == LESSON_PASSED ? gi->points : 0;
		g->score += gi->score;
		g->max += gi->points;
		switch (gi->status) {
		case LESSON_PASSED: g->passed++; break;
		case LESSON_FAILED: g->failed++; break;
		case LESSON_ERROR: g->errors++; break;
		case LESSON_SKIPPED: g->skipped++; break;
		default: g->todo++; break;
		}
	}
	free(recorded);
	lesson_session_free(s);
	return 0;
}

void lesson_grade_free(struct lesson_grade *g)
{
	free(g->items);
	g->items = NULL;
	g->n = 0;
}

static const char *const fmt_names[] = {"text", "json", "tap", "junit", "gradescope"};
static const char *const fmt_ext[] = {"txt", "json", "tap", "xml", "json"};

int lesson_format_parse(const char *name, enum lesson_format *fmt)
{
	for (size_t i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (!strcmp(name, fmt_names[i])) {
			*fmt = (enum lesson_format)i;
			return 0;
		}
	return -1;
}

const char *lesson_format_ext(enum lesson_format fmt)
{
	return (unsigned)fmt < sizeof(fmt_ext) / sizeof(fmt_ext[0]) ? fmt_ext[fmt] : "txt";
}
