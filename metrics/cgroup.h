/* metrics/cgroup.h: memory and CPU figures of a cgroup, on either
 * hierarchy: v1 (memory.usage_in_bytes, memory.stat, cpuacct.*) and v2
 * (memory.current, memory.stat, cpu.stat).  The container publishes its
 * cgroup folders as instance attributes `cgroup.<controller>`.
 *
 * The parsers take file text, so the formats are tested from fixtures; the
 * readers take a cgroup folder and find out which version it is from the
 * files it holds. */
#ifndef VLAB_METRICS_CGROUP_H
#define VLAB_METRICS_CGROUP_H

#include <stdint.h>

#include "core/err.h"

#define METRICS_CG_UNLIMITED UINT64_MAX

struct metrics_cgmem {
	int version;	/* 1 or 2 */
	uint64_t usage; /* bytes charged now: v1 memory.usage_in_bytes, v2 memory.current */
	uint64_t anon;	/* v1 memory.stat total_rss (else rss), v2 memory.stat anon */
	uint64_t file;	/* v1 memory.stat total_cache (else cache), v2 memory.stat file */
	uint64_t peak;	/* v1 memory.max_usage_in_bytes, v2 memory.peak; 0 when absent */
	uint64_t limit; /* v1 memory.limit_in_bytes, v2 memory.max; METRICS_CG_UNLIMITED for none */
};

struct metrics_cgcpu {
	int version;
	uint64_t usage_ns;  /* v1 cpuacct.usage, v2 cpu.stat usage_usec */
	uint64_t user_ns;   /* v1 cpuacct.stat user (USER_HZ ticks), v2 user_usec */
	uint64_t system_ns; /* v1 cpuacct.stat system, v2 system_usec */
};

/* One number alone in a file ("123\n"); "max" (v2: no limit) gives
 * METRICS_CG_UNLIMITED.  -1 with err on anything else. */
int metrics_cg_parse_u64(const char *text, uint64_t *out, struct vlab_err *err);

/* The value of key in a flat keyed file ("key value" per line: memory.stat,
 * cpu.stat, cpuacct.stat).  Returns 0, 1 when the key is absent (*out
 * untouched), -1 with err when its value is malformed. */
int metrics_cg_parse_keyed(const char *text, const char *key, uint64_t *out, struct vlab_err *err);

/* Memory of the cgroup at dir (a v1 memory-controller folder or a v2
 * folder). */
int metrics_cgroup_memory(const char *dir, struct metrics_cgmem *out, struct vlab_err *err);

/* CPU time of the cgroup at dir (a v1 cpuacct folder or a v2 folder). */
int metrics_cgroup_cpu(const char *dir, struct metrics_cgcpu *out, struct vlab_err *err);

#endif
