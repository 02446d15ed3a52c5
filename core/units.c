/* core/units.c: strict parsing and friendly printing of sizes and times. */
#include "core/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int vlab_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		    struct vlab_err *err)
{
	if (!s || !*s || !isdigit((unsigned char)*s))
		return vlab_err_set(err, EINVAL, "%s: '%s' is not a number", what, s ? s : "");
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end)
		return vlab_err_set(err, EINVAL, "%s: '%s' is not a whole number", what, s);
	if (v < min || v > max)
		return vlab_err_set(err, ERANGE, "%s: %llu is out of range [%llu, %llu]", what, v,
				    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int vlab_parse_size(const char *s, uint64_t *out, const char *what, struct vlab_err *err)
{
	if (!s || !isdigit((unsigned char)*s))
		return vlab_err_set(err, EINVAL, "%s: '%s' is not a size (try 64M or 1G)", what,
				    s ? s : "");
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return vlab_err_set(err, ERANGE, "%s: '%s' is too large", what, s);
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case 'B':
		if (end[1] == '\0') {
			end++;
			break;
		}
		/* fall through */
	default:
		return vlab_err_set(err, EINVAL, "%s: unknown unit in '%s' (use K, M, G or T)",
				    what, s);
	}
	if (shift) {
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			return vlab_err_set(err, EINVAL, "%s: trailing characters in '%s'", what, s);
		if (v > (UINT64_MAX >> shift))
			return vlab_err_set(err, ERANGE, "%s: '%s' is too large", what, s);
		v <<= shift;
	}
	*out = v;
	return 0;
}

int vlab_parse_bool(const char *s, int *out, const char *what, struct vlab_err *err)
{
	static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; s && i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return vlab_err_set(err, EINVAL, "%s: '%s' is not on/off (use true or false)", what,
			    s ? s : "");
}

int vlab_parse_duration_ns(const char *s, uint64_t *out, const char *what, struct vlab_err *err)
{
	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return vlab_err_set(err, EINVAL, "%s: '%s' is not a duration (try 500ms or 2s)",
				    what, s ? s : "");
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || v < 0)
		return vlab_err_set(err, EINVAL, "%s: '%s' is not a duration", what, s);
	double mul;
	if (!*end || !strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else
		return vlab_err_set(err, EINVAL, "%s: unknown unit in '%s' (use ns, us, ms, s)",
				    what, s);
	double ns = v * mul;
	if (ns > 1.8e19)
		return vlab_err_set(err, ERANGE, "%s: '%s' is too long", what, s);
	*out = (uint64_t)ns;
	return 0;
}

char *vlab_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	unsigned u = 0;
	while (v >= 1024 && u < 4)
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

char *vlab_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}
