/* metrics/cgroup.c: cgroup v1 and v2 memory and CPU readers. */
#include "metrics/cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_HZ_NS (1000000000ull / 100) /* cpuacct.stat counts USER_HZ (100) ticks */

static int parse_num(const char *p, const char **end, uint64_t *out)
{
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(p, &e, 10);
	if (errno)
		return -1;
	*out = v;
	*end = e;
	return 0;
}

int metrics_cg_parse_u64(const char *text, uint64_t *out, struct vlab_err *err)
{
	const char *p = text, *end;
	while (*p == ' ')
		p++;
	if (!strncmp(p, "max", 3)) {
		*out = METRICS_CG_UNLIMITED;
		end = p + 3;
	} else if (parse_num(p, &end, out) < 0) {
		return vlab_err_set(err, EINVAL, "'%.20s' is not a number", text);
	}
	while (*end == ' ' || *end == '\n')
		end++;
	return *end ? vlab_err_set(err, EINVAL, "'%.20s' has more than one number", text) : 0;
}

int metrics_cg_parse_keyed(const char *text, const char *key, uint64_t *out, struct vlab_err *err)
{
	size_t kl = strlen(key);
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			const char *end, *p = line + kl + 1;
			uint64_t v;
			if (parse_num(p, &end, &v) < 0 || (*end && *end != '\n' && *end != ' '))
				return vlab_err_set(err, EINVAL, "%s: '%.*s' is not a number", key,
						    (int)(eol ? eol - p : (long)strlen(p)), p);
			*out = v;
			return 0;
		}
		line = eol ? eol + 1 : NULL;
	}
	return 1;
}

static int slurp_at(const char *dir, const char *file, char *buf, size_t cap, struct vlab_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s", path);
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return vlab_err_set(err, e, "read %s", path);
	buf[n] = '\0';
	return 0;
}

static int has(const char *dir, const char *file)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, R_OK) == 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *out, struct vlab_err *err)
{
	char buf[128];
	if (slurp_at(dir, file, buf, sizeof(buf), err) < 0)
		return -1;
	if (metrics_cg_parse_u64(buf, out, err) < 0)
		return vlab_err_prefix(err, "%s/%s", dir, file);
	return 0;
}

/* key from a keyed file; absent keys leave *out alone. */
static int keyed(const char *buf, const char *dir, const char *file, const char *key, uint64_t *out,
		 struct vlab_err *err)
{
	if (metrics_cg_parse_keyed(buf, key, out, err) < 0)
		return vlab_err_prefix(err, "%s/%s", dir, file);
	return 0;
}

int metrics_cgroup_memory(const char *dir, struct metrics_cgmem *out, struct vlab_err *err)
{
	char stat[8192];
	memset(out, 0, sizeof(*out));
	out->limit = METRICS_CG_UNLIMITED;
	if (has(dir, "memory.current")) {
		out->version = 2;
		if (read_u64(dir, "memory.current", &out->usage, err) < 0 ||
		    slurp_at(dir, "memory.stat", stat, sizeof(stat), err) < 0 ||
		    keyed(stat, dir, "memory.stat", "anon", &out->anon, err) < 0 ||
		    keyed(stat, dir, "memory.stat", "file", &out->file, err) < 0)
			return -1;
		if (has(dir, "memory.peak") && read_u64(dir, "memory.peak", &out->peak, err) < 0)
			return -1;
		if (has(dir, "memory.max") && read_u64(dir, "memory.max", &out->limit, err) < 0)
			return -1;
		return 0;
	}
	if (has(dir, "memory.usage_in_bytes")) {
		out->version = 1;
		if (read_u64(dir, "memory.usage_in_bytes", &out->usage, err) < 0 ||
		    slurp_at(dir, "memory.stat", stat, sizeof(stat), err) < 0 ||
		    keyed(stat, dir, "memory.stat", "rss", &out->anon, err) < 0 ||
		    keyed(stat, dir, "memory.stat", "cache", &out->file, err) < 0 ||
		    keyed(stat, dir, "memory.stat", "total_rss", &out->anon, err) < 0 ||
		    keyed(stat, dir, "memory.stat", "total_cache", &out->file, err) < 0)
			return -1;
		if (has(dir, "memory.max_usage_in_bytes") &&
		    read_u64(dir, "memory.max_usage_in_bytes", &out->peak, err) < 0)
			return -1;
		if (has(dir, "memory.limit_in_bytes") &&
		    read_u64(dir, "memory.limit_in_bytes", &out->limit, err) < 0)
			return -1;
		/* v1 says "no limit" with a huge page-rounded number. */
		if (out->limit >= (UINT64_MAX >> 2))
			out->limit = METRICS_CG_UNLIMITED;
		return 0;
	}
	return vlab_err_set(err, ENOENT,
			    "%s is not a memory cgroup (neither memory.current nor "
			    "memory.usage_in_bytes)",
			    dir);
}

int metrics_cgroup_cpu(const char *dir, struct metrics_cgcpu *out, struct vlab_err *err)
{
	char stat[4096];
	memset(out, 0, sizeof(*out));
	if (has(dir, "cpu.stat") && !has(dir, "cpuacct.usage")) {
		uint64_t usage = 0, user = 0, sys = 0;
		if (slurp_at(dir, "cpu.stat", stat, sizeof(stat), err) < 0)
			return -1;
		int r = metrics_cg_parse_keyed(stat, "usage_usec", &usage, err);
		if (r < 0)
			return vlab_err_prefix(err, "%s/cpu.stat", dir);
		if (r == 0) {
			out->version = 2;
			if (keyed(stat, dir, "cpu.stat", "user_usec", &user, err) < 0 ||
			    keyed(stat, dir, "cpu.stat", "system_usec", &sys, err) < 0)
				return -1;
			out->usage_ns = usage * 1000;
			out->user_ns = user * 1000;
			out->system_ns = sys * 1000;
			return 0;
		}
	}
	if (has(dir, "cpuacct.usage")) {
		uint64_t user = 0, sys = 0;
		out->version = 1;
		if (read_u64(dir, "cpuacct.usage", &out->usage_ns, err) < 0)
			return -1;
		if (has(dir, "cpuacct.stat") &&
		    (slurp_at(dir, "cpuacct.stat", stat, sizeof(stat), err) < 0 ||
		     keyed(stat, dir, "cpuacct.stat", "user", &user, err) < 0 ||
		     keyed(stat, dir, "cpuacct.stat", "system", &sys, err) < 0))
			return -1;
		out->user_ns = user * USER_HZ_NS;
		out->system_ns = sys * USER_HZ_NS;
		return 0;
	}
	return vlab_err_set(err, ENOENT,
			    "%s is not a CPU-accounting cgroup (neither cpu.stat with usage_usec "
			    "nor cpuacct.usage)",
			    dir);
}
