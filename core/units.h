/* core/units.h: sizes and durations as people write them ("64M", "2G",
 * "500ms"), parsed strictly, and printed back with their unit. */
#ifndef VLAB_CORE_UNITS_H
#define VLAB_CORE_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* "4096", "64K", "64M", "2G", "1T", also "64MiB"/"64MB" (both binary).
 * Rejects empty, negative, trailing junk and overflow.  what names the
 * value in the error message. */
int vlab_parse_size(const char *s, uint64_t *out, const char *what, struct vlab_err *err);

/* Unsigned decimal integer within [min, max]. */
int vlab_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		    struct vlab_err *err);

/* "1", "true", "yes", "on" / "0", "false", "no", "off". */
int vlab_parse_bool(const char *s, int *out, const char *what, struct vlab_err *err);

/* "250ms", "2s", "1.5s", "100us", "10ns", a bare number is milliseconds. */
int vlab_parse_duration_ns(const char *s, uint64_t *out, const char *what, struct vlab_err *err);

/* "64.0 MiB", "512 B": binary units, one decimal. Returns buf. */
char *vlab_fmt_bytes(uint64_t bytes, char *buf, size_t len);

/* "1.23 ms", "850 us", "2.50 s". Returns buf. */
char *vlab_fmt_ns(uint64_t ns, char *buf, size_t len);

#endif
