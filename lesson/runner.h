/* lesson/runner.h: the lab runner, the process lab code runs in
 * (`vlab __lab-runner`, started by lesson/session.c; see session.h for the
 * process model and runner.c for the messages). */
#ifndef VLAB_LESSON_RUNNER_H
#define VLAB_LESSON_RUNNER_H

#include <sys/types.h>

#include "core/err.h"

/* The socket the runner talks on, inherited at this number. */
#define LESSON_RUNNER_FD 3

/* Entry point of `vlab __lab-runner --lab FILE --parent PID`. */
int lesson_runner_main(int argc, char **argv);

/* Starts a runner for lab (a file) connected to *sock (the front end's
 * end, close-on-exec, owned by the caller).  The runner's stdio is
 * /dev/null; it runs in its own session (no terminal signals) and dies
 * with the caller. */
int lesson_runner_spawn(const char *lab, pid_t *pid, int *sock, struct vlab_err *err);

/* ---- inside the runner (runner_guard.c) ---- */
struct lesson_sandbox;
/* Installs the alarm handler; sb gives it the lab position to report. */
void lesson_runner_guard_install(struct lesson_sandbox *sb);
/* For one action (seq, item) of timeout_ms: the alarm at the limit plus a
 * grace period, and the CPU-time backstop. */
void lesson_runner_guard_arm(int seq, int item, int timeout_ms);
void lesson_runner_guard_disarm(void);

#endif
