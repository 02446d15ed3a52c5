/* tui/procstat.h: live CPU and memory of an instance's process tree, read
 * from /proc once a second for the instances pane.  (The metrics layer
 * measures footprints for reports; this is the cheap live view.) */
#ifndef VLAB_TUI_PROCSTAT_H
#define VLAB_TUI_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct tui_procstat {
	pid_t root;
	uint64_t ticks; /* utime+stime of the tree at the last sample */
	uint64_t at_ns; /* when it was taken */
	double cpu_pct; /* since the previous sample; 100 = one core */
	uint64_t pss;	/* bytes, proportional set size of the tree */
	uint64_t rss;	/* bytes */
	unsigned nprocs;
	int valid; /* cpu_pct means something (two samples) */
};

/* Samples the tree rooted at root (the instance process and every
 * descendant, at most 512).  Returns 0, or -1 when root is gone. */
int tui_procstat_sample(struct tui_procstat *ps, pid_t root);

#endif
