/* core/err.c: struct vlab_err helpers. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vlab_err_set(struct vlab_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0', n = 0;
	if (code != 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(code));
	err->code = code;
	return -1;
}

int vlab_err_prefix(struct vlab_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char ctx[VLAB_ERR_MSG], old[VLAB_ERR_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old[0] ? old : "unknown error");
	return -1;
}

void vlab_err_clear(struct vlab_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *vlab_err_msg(const struct vlab_err *err)
{
	return err && err->msg[0] ? err->msg : "unknown error";
}
