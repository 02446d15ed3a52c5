/* engines/container/container.h: what front ends (the lesson runtime, the
 * TUI, tests) can do with a running container beyond the engine interface:
 * run a command inside it, the way `docker exec` does.
 *
 * The runtime listens on a socket in the container's folder (attribute
 * "exec.socket").  For each request it forks a helper that joins the
 * container's namespaces with setns() (user, mount, uts, ipc, net, cgroup,
 * pid), its cgroups, drops to the same capabilities, no_new_privs and
 * seccomp filter as the container's init, and executes the command there;
 * seccomp denials of exec'd commands are counted like the init's.
 *
 * Console: an instance's console channel carries the container's standard
 * error (the program's and everything it starts).  An interactive shell
 * for the TUI's console tab is an exec with a pseudo-terminal:
 * vlab_container_exec_start(inst, {"/bin/sh", NULL}, NULL, &x) gives x.pty,
 * the master side of a terminal allocated inside the container. */
#ifndef VLAB_ENGINES_CONTAINER_CONTAINER_H
#define VLAB_ENGINES_CONTAINER_CONTAINER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"
#include "engines/engine.h"

struct vlab_container_exec {
	int conn;  /* the session: readable when the command ends */
	int pty;   /* tty mode: the terminal's master side, else -1 */
	pid_t pid; /* the command's pid inside the container */
	int status; /* as from waitpid, once ended */
	int ended;
};

/* Starts argv (argv[0] an absolute path inside the container) in the
 * running container inst.  stdio: descriptors for the command's stdin,
 * stdout and stderr (the caller keeps and closes its own), or NULL for a
 * pseudo-terminal (x->pty).  x is the caller's; end with _close(). */
int vlab_container_exec_start(struct vlab_instance *inst, char *const argv[], const int stdio[3],
			      struct vlab_container_exec *x, struct vlab_err *err);

/* Waits up to timeout_ms (-1: forever) for the command's end; *status as
 * from waitpid.  Fails with the reason when the command could not be
 * executed (no such file ...), ETIMEDOUT when it still runs. */
int vlab_container_exec_wait(struct vlab_container_exec *x, int timeout_ms, int *status,
			     struct vlab_err *err);

/* Closes the session (the command keeps running if it still does). */
void vlab_container_exec_close(struct vlab_container_exec *x);

struct vlab_container_run {
	int status;   /* as from waitpid */
	char *out;    /* stdout, NUL-terminated (caller frees) */
	char *errout; /* stderr, NUL-terminated (caller frees) */
	size_t out_len, err_len;
	int truncated; /* more than the cap was written; the rest was dropped */
};

/* Runs argv inside the container with input on stdin (may be NULL),
 * collects stdout and stderr (at most 1 MiB each), waits for the end.
 * Kills nothing: on timeout the command is left running and ETIMEDOUT
 * returned.  Free the result with vlab_container_run_free(). */
int vlab_container_run(struct vlab_instance *inst, char *const argv[], const char *input,
		       int timeout_ms, struct vlab_container_run *r, struct vlab_err *err);
void vlab_container_run_free(struct vlab_container_run *r);

/* In the container program's zygote (engines/zygote.h), as root: a new
 * network namespace for the next container, made while nothing starts
 * (half a millisecond of kernel work, off the next start's path); its fd,
 * or -1. */
int vlab_container_netns_ahead(void);

#endif
