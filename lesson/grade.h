/* lesson/grade.h: grading a student's workbook against a lab, and the
 * reports course staff feed to their tools (text, JSON, TAP, JUnit XML,
 * Gradescope results.json).
 *
 * Questions are re-scored from the workbook's answers against the lab file
 * as it is now (numeric questions against the workbook's own
 * measurements).  Steps score their points when the workbook records their
 * check as passed; with rerun, each step's run() and check() are executed
 * again on this host and a step scores only when both agree (a step this
 * host cannot run keeps the workbook's result, with a note). */
#ifndef VLAB_LESSON_GRADE_H
#define VLAB_LESSON_GRADE_H

#include <stdio.h>

#include "core/err.h"
#include "core/paths.h"
#include "lesson/session.h"

struct lesson_grade_item {
	char id[64];
	char title[160];
	int is_step;
	double points, score;
	enum lesson_status status; /* LESSON_TODO: not done / not answered */
	char message[VLAB_ERR_MSG];
	char answer[256];
	int answered;
	unsigned hints_used, attempts;
};

struct lesson_grade {
	char lab_id[64], lab_title[160], lab_version[32], lab_sha256[65];
	char workbook[VLAB_PATH_MAX];
	char student[64], updated[32], wb_vlab_version[32];
	int lab_changed; /* the workbook was made with another version of the lab file */
	double score, max;
	size_t passed, failed, errors, skipped, todo;
	size_t n;
	struct lesson_grade_item *items;
};

/* Grades workbook against lab.  Fails (err->code EBADMSG) when the lab
 * does not load or the workbook is malformed or for another lab, ENOENT
 * when a file is missing. */
int lesson_grade_workbook(const char *lab, const char *workbook, int rerun,
			  struct lesson_grade *g, struct vlab_err *err);
void lesson_grade_free(struct lesson_grade *g);

enum lesson_format {
	LESSON_FMT_TEXT,
	LESSON_FMT_JSON,
	LESSON_FMT_TAP,
	LESSON_FMT_JUNIT,
	LESSON_FMT_GRADESCOPE,
};

int lesson_format_parse(const char *name, enum lesson_format *fmt);
/* The usual file extension of a format ("txt", "json", "tap", "xml"). */
const char *lesson_format_ext(enum lesson_format fmt);

/* Writes the report; -1 with err on a write error. */
int lesson_report_write(FILE *out, const struct lesson_grade *g, enum lesson_format fmt,
			struct vlab_err *err);

#endif
