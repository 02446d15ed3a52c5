/* lesson/catalog.h: the labs a student can open (the lab picker, `vlab
 * labs`): the shipped labs folder and the student's own, each with its
 * title, size and the student's progress from the workbook. */
#ifndef VLAB_LESSON_CATALOG_H
#define VLAB_LESSON_CATALOG_H

#include <stddef.h>

#include "core/err.h"
#include "core/paths.h"

struct lesson_catalog_entry {
	char path[VLAB_PATH_MAX]; /* the lab file */
	char id[64];              /* "" when the lab does not load */
	char title[160];
	int own;                  /* from the student's folder ($XDG_DATA_HOME/vlab/labs) */
	size_t nitems, nsteps, nquestions;
	double max_points;
	/* Progress from the workbook, zero when there is none. */
	int started;
	size_t done; /* items passed or skipped */
	double score;
	char workbook[VLAB_PATH_MAX]; /* "" when none */
	char error[VLAB_ERR_MSG];     /* why the lab (or its workbook) did not load, "" when fine */
};

/* Finds every *.lua lab in the shipped and the student's folders, sorted by
 * file name (shipped first), and describes each (a lab that does not load
 * is listed with its error).  Blocks: loads each lab in a runner, a few ms
 * each.  The caller frees *out with free(). */
int lesson_catalog_scan(struct lesson_catalog_entry **out, size_t *n, struct vlab_err *err);

/* Resolves what a user typed (a path, "01-first-look", "01-first-look.lua")
 * to a lab file. */
int lesson_catalog_find(const char *name, char *path, size_t len, struct vlab_err *err);

#endif
