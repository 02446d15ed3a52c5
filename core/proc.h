/* core/proc.h: facts about a process from /proc. */
#ifndef VLAB_CORE_PROC_H
#define VLAB_CORE_PROC_H

#include <sys/types.h>

/* The start time of process pid, in clock ticks since boot (field 22 of
 * /proc/PID/stat).  With the pid it names one process for good: pids are
 * reused, (pid, start time) pairs are not.  -1 when pid is gone. */
int vlab_proc_starttime(pid_t pid, unsigned long long *out);

#endif
