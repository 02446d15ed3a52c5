/* engines/spawn.h: starting an instance process (the front end's side;
 * engines/instance.c is its one user). */
#ifndef VLAB_ENGINES_SPAWN_H
#define VLAB_ENGINES_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "engines/engine.h"

/* Starts the process that serves an instance of spec on engine e: e's own
 * program when it has one and it is found (core/paths.h), forked by its
 * zygote (engines/zygote.h) or else executed, or vlab re-executed, as
 * `PROGRAM __instance --engine ... --opt k=v ...`.
 * child_fds (control, console, event, counter page) land on the
 * VLAB_CHILD_*_FD numbers; signals are unblocked and at their defaults;
 * the process leads its own session.  On success *pid and *pidfd (close on
 * exec) are set; on failure nothing is left running. */
int vlab_spawn_instance(const struct vlab_engine *e, const struct vlab_spec *spec,
			uint64_t t0_ns, const int child_fds[4], pid_t *pid, int *pidfd,
			struct vlab_err *err);

#endif
