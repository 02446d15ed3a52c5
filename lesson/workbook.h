/* lesson/workbook.h: a student's progress in one lab, as a JSON file
 * (jansson), written atomically after every change.
 *
 *   {
 *     "format": "vlab-workbook/1",
 *     "vlab_version": "0.1.0",
 *     "lab": {"id", "title", "version", "path", "sha256"},
 *     "student": "login name",
 *     "created": "2026-01-31T10:00:00Z", "updated": "...",
 *     "items": {"<item id>": {"status": "passed|failed|error|skipped",
 *                             "score", "message", "attempts", "hints_used",
 *                             "answer", "first_passed", "updated"}},
 *     "measurements": {"<name>": {"value", "unit", "item", "at"}}
 *   }
 *
 * Atomic: the new text goes to a temporary file beside it, is fsync'ed,
 * renamed over the old one, and the folder is fsync'ed: a crash at any
 * moment leaves the complete old or the complete new workbook.  A file
 * that does not parse is never overwritten: it is renamed aside. */
#ifndef VLAB_LESSON_WORKBOOK_H
#define VLAB_LESSON_WORKBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define LESSON_WORKBOOK_FORMAT "vlab-workbook/1"

/* Reads path.  Returns 1 with *root (caller owns), 0 when the file does
 * not exist, -1 with err when it cannot be read or is not a workbook
 * (err->code EBADMSG: "path:line:column: what is wrong"). */
int lesson_workbook_load(const char *path, json_t **root, struct vlab_err *err);

/* Checks the shape of a parsed workbook (format, lab, items,
 * measurements); -1 with err naming what is wrong. */
int lesson_workbook_check(json_t *root, const char *path, struct vlab_err *err);

/* Writes root to path atomically (see above); creates the folder. */
int lesson_workbook_save(const char *path, json_t *root, struct vlab_err *err);

/* Renames path aside to path.<why>-<UTC time>[-N]; the new name in aside. */
int lesson_workbook_set_aside(const char *path, const char *why, char *aside, size_t len,
			      struct vlab_err *err);

/* A new, empty workbook for a lab. */
json_t *lesson_workbook_new(const char *lab_id, const char *title, const char *version,
			    const char *lab_path, const char *sha256);

/* $XDG_STATE_HOME/vlab/<lab id>.json */
int lesson_workbook_default_path(const char *lab_id, char *buf, size_t len,
				 struct vlab_err *err);

/* "2026-01-31T10:00:00Z" for a CLOCK_REALTIME time in ns. */
void lesson_iso8601(uint64_t wall_ns, char buf[32]);

/* Fills err with a message and code EBADMSG (malformed input: exit status
 * 3 in the CLI, without strerror's words); returns -1. */
int lesson_bad_input(struct vlab_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The item object for id (created when create is set), NULL otherwise. */
json_t *lesson_workbook_item(json_t *root, const char *id, int create);

#endif
