/* engines/zygote.h: instance processes forked from a waiting copy of their
 * program instead of executed afresh.
 *
 * Executing a program costs its whole start-up every time: here 0.4 ms for
 * a static glibc program, 0.16 ms of it in the 43 CPUID instructions glibc
 * runs to learn the CPU, each a trap to the hypervisor.  So the front end
 * starts each engine program once more as a zygote (`PROGRAM __zygote`, as
 * Android starts its apps), which waits on a socket; for every instance it
 * forks a child with CLONE_PARENT, so that the instance process is the
 * front end's child exactly as a spawned one is (its pidfd, its exit
 * status, SIGCHLD, PR_SET_PDEATHSIG), with the front end's environment,
 * working folder and stdio of that moment and the four instance
 * descriptors.  Fork of the waiting program: 0.11 ms here, against 0.44 ms
 * for posix_spawn and exec.
 *
 * A zygote belongs to the process that started it (a fork of the front end
 * starts its own), lives while the front end does (PR_SET_PDEATHSIG) and
 * holds nothing but its socket. */
#ifndef VLAB_ENGINES_ZYGOTE_H
#define VLAB_ENGINES_ZYGOTE_H

#include <sys/types.h>

#include "core/err.h"

/* Front end: starts argv (argv[0] the program, a path) as an instance
 * process through program's zygote, starting the zygote first when there is
 * none; child_fds land on the VLAB_CHILD_*_FD numbers.  0 with *pid and
 * *pidfd set; -1 with err when no zygote could serve it (the caller then
 * spawns the usual way).  VLAB_ZYGOTE=0 in the environment turns zygotes
 * off. */
int vlab_zygote_spawn(const char *program, char *const argv[], char *const envp[],
		      const int child_fds[4], pid_t *pid, int *pidfd, struct vlab_err *err);
/* How many zygotes this process has running: each is one child process
 * and one descriptor of ours for as long as we live (tests count them). */
int vlab_zygote_count(void);
/* Stops this process's zygotes (they also end when it does). */
void vlab_zygote_stop_all(void);

/* Program side: `PROGRAM __zygote FRONT-END-PID` (zargc, zargv: its own
 * command line).  Serves requests until the front end goes away; each
 * forked child shows `PROGRAM NAME` (the instance's) to ps and exits with
 * run(argc, argv) of the request.  Never returns in the zygote itself.
 *
 * netns, when given, makes a network namespace ahead of the next instance
 * (its fd, or -1): the zygote calls it once no request has come for a
 * while, and hands the namespace to exactly one child, at
 * VLAB_CHILD_NETNS_FD, closing its own copy at the fork. */
int vlab_zygote_main(int zargc, char **zargv, int (*run)(int argc, char **argv),
		     int (*netns)(void));

#endif
