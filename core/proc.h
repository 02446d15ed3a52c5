/* core/proc.h: facts about a process from /proc, and how vlab spawns one. */
#ifndef VLAB_CORE_PROC_H
#define VLAB_CORE_PROC_H

#include <spawn.h>
#include <sys/types.h>

/* The start time of process pid, in clock ticks since boot (field 22 of
 * /proc/PID/stat).  With the pid it names one process for good: pids are
 * reused, (pid, start time) pairs are not.  -1 when pid is gone. */
int vlab_proc_starttime(pid_t pid, unsigned long long *out);

/* posix_spawnattr_init() for a child of vlab's: no signal blocked, every
 * signal at its default, a session of its own (a terminal's Ctrl-C is not
 * its business).  The caller destroys attr. */
void vlab_spawnattr_init(posix_spawnattr_t *attr);

#endif
