/* core/err.h: how errors travel up in vlab.
 *
 * Engines and libraries never print and never exit: they fill a struct
 * vlab_err (errno-style code + message) and return -1.  Callers add context
 * with vlab_err_prefix(); the CLI, the TUI or the Lua layer decides how to
 * show it.  A NULL err is accepted everywhere (the error is then dropped). */
#ifndef VLAB_CORE_ERR_H
#define VLAB_CORE_ERR_H

#include <stddef.h>

#define VLAB_ERR_MSG 512

struct vlab_err {
	int code;               /* errno value, or 0 when there is none */
	char msg[VLAB_ERR_MSG]; /* "map guest RAM slot 0: Invalid argument" */
};

/* Sets err from a printf-style message; when code != 0, ": strerror(code)"
 * is appended.  Always returns -1 so callers can `return vlab_err_set(...)`. */
int vlab_err_set(struct vlab_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends context: "ctx: previous message".  Keeps the code.  Returns -1. */
int vlab_err_prefix(struct vlab_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets err to "no error". */
void vlab_err_clear(struct vlab_err *err);

/* The message, or "unknown error" when nothing was set. */
const char *vlab_err_msg(const struct vlab_err *err);

#endif
