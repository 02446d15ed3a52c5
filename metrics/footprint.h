/* metrics/footprint.h: what an instance costs the host in memory.
 *
 * For the VM, the unikernel and the host baseline: the proportional set
 * size (PSS) of the instance's process tree, from /proc/<pid>/smaps_rollup:
 * each page counted once across the processes sharing it, so two instances
 * that share a library do not both pay for it in full.  For the container,
 * whose processes the kernel accounts in a cgroup: the cgroup's memory
 * usage (metrics/cgroup.h); the PSS of its tree is reported beside it. */
#ifndef VLAB_METRICS_FOOTPRINT_H
#define VLAB_METRICS_FOOTPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

/* Figures of smaps_rollup, in bytes (the file says kB). */
struct metrics_smaps {
	uint64_t rss, pss, pss_anon, pss_file, pss_shmem, swap, swap_pss;
};

/* Parses the text of a /proc/<pid>/smaps_rollup.  Pss is required (a
 * kernel without it is older than 4.14); the Pss_* breakdown is 0 when the
 * kernel does not give it.  A malformed figure fails, naming its line. */
int metrics_parse_smaps_rollup(const char *text, struct metrics_smaps *out, struct vlab_err *err);

/* smaps_rollup of one process. */
int metrics_read_smaps(pid_t pid, struct metrics_smaps *out, struct vlab_err *err);

/* Sum over root and every descendant of it (found through the parent pid
 * in /proc/<pid>/stat).  Processes that end during the walk are skipped.
 * *nprocs (may be NULL) gets how many were counted.  Fails when root itself
 * cannot be read. */
int metrics_tree_smaps(pid_t root, struct metrics_smaps *sum, size_t *nprocs, struct vlab_err *err);

#endif
