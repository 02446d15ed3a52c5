/* engines/engine.h: the one interface the three engines (and the host
 * baseline) implement, and the instance object the front ends hold.
 *
 * One process per instance.  vlab_instance_start() starts the engine's own
 * program (forked by that program's zygote, engines/zygote.h) or vlab
 * itself re-executed, with the hidden subcommand `__instance`; that child
 * runs the engine's serve() (the container runtime, the VMM, the unikernel
 * monitor, or the host agent).  The parent keeps only file descriptors and a pid:
 *
 *   control   socket: the probe agent's line protocol (READY, requests)
 *   console   socket: the human console (VM ttyS0, container stdio, ...)
 *   events    socket: instance -> parent lines: phases, attributes, errors
 *   counters  a shared memory page of named 64-bit counters (VM exits by
 *             reason, hypercalls...) the front end can read live
 *
 * All of them can be polled by one loop.  A crash in an engine never takes
 * the front end down; the footprint of an instance is its process tree. */
#ifndef VLAB_ENGINES_ENGINE_H
#define VLAB_ENGINES_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "engines/counters.h"
#include "engines/spec.h"

/* Fixed descriptor numbers inside the instance process. */
#define VLAB_CHILD_CONTROL_FD 3
#define VLAB_CHILD_CONSOLE_FD 4
#define VLAB_CHILD_EVENT_FD 5
#define VLAB_CHILD_COUNTERS_FD 6
/* Forked by a zygote: a network namespace it made ahead (the container
 * engine's; engines/zygote.h), else not open. */
#define VLAB_CHILD_NETNS_FD 7

/* What the host can do for an engine, found by its probe(). */
enum vlab_avail_level {
	VLAB_AVAIL_NO,       /* cannot run here */
	VLAB_AVAIL_DEGRADED, /* runs, with less than the full lesson (rootless, emulated) */
	VLAB_AVAIL_YES,
};

struct vlab_avail {
	enum vlab_avail_level level;
	char backend[32]; /* "kvm", "tcg (emulated)", "rootless", "native" ... */
	char reason[256]; /* plain words for a student: why, and what it means */
};

/* Handed to serve() in the instance process. */
struct vlab_child {
	int control_fd; /* the agent's control channel, towards the parent */
	int console_fd; /* the human console, towards the parent */
	int event_fd;   /* events, towards the parent (vlab_child_phase/attr) */
	struct vlab_counters *counters; /* shared with the parent */
	uint64_t t0_ns; /* parent's create() time, CLOCK_MONOTONIC */
	pid_t parent;   /* the front end's pid */
};

/* An engine.  Implementations live in engines/<name>/ and are listed in
 * engines/registry.c. */
struct vlab_engine {
	const char *name;    /* "host", "container", "unikernel", "vm" */
	const char *summary; /* one line, for students */
	/* Options the spec may carry (besides name), NULL-name terminated; the
	 * spec is checked against them before anything starts. */
	const struct vlab_opt_desc *opts;
	/* Can this host run the engine?  Never fails: says why not. */
	void (*probe)(struct vlab_avail *avail);
	/* Optional extra validation of a spec (cross-option rules). */
	int (*validate)(const struct vlab_spec *spec, struct vlab_err *err);
	/* Runs in the instance process: sets the instance up from spec and
	 * serves it until it ends.  Returns the process exit status, or -1
	 * with err filled (reported to the parent as an error event). */
	int (*serve)(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err);
	/* Optional: removes what a killed vlab left behind (cgroups, network
	 * devices, mounts, scratch folders).  Called before new instances. */
	int (*sweep)(struct vlab_err *err);
	/* Optional: a small program of its own that serves the instance in
	 * place of vlab re-executed ("vlab-unikernel": the monitor alone, as
	 * Solo5's tender is).  Found beside vlab, in build/, or installed in
	 * VLAB_LIBDIR; vlab itself serves when it is not there. */
	const char *program;
};

/* The engines compiled in, by name; NULL when unknown. */
const struct vlab_engine *vlab_engine_find(const char *name);
/* Adds an engine found before the compiled-in ones of the same name (the
 * tests' fake engines; the caller's process and its `vlab __instance`
 * children must both register it).  -1 when the table is full. */
int vlab_engine_register(const struct vlab_engine *e);
/* Engine number i, NULL past the end. */
const struct vlab_engine *vlab_engine_at(size_t i);

/* ---- instance process side ---- */

/* Records that a startup phase ended now ("clone", "mounts", "exec"). */
void vlab_child_phase(struct vlab_child *child, const char *phase);
/* The same for a phase that ended at ns (CLOCK_MONOTONIC), measured by
 * other means (a guest's own timestamp). */
void vlab_child_phase_at(struct vlab_child *child, const char *phase, uint64_t ns);
/* Publishes a key/value attribute ("backend", "cgroup", "image_bytes"). */
void vlab_child_attr(struct vlab_child *child, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Holds events back until vlab_child_flush(), which sends them in one
 * write: one wake-up of the front end instead of one per event, while the
 * instance is starting.  (Timestamps are taken when events happen.) */
void vlab_child_hold(struct vlab_child *child);
void vlab_child_flush(struct vlab_child *child);
/* Drops the held events: a clone of this process inherited them and will
 * send them (the container's init does, at the program's exec). */
void vlab_child_forget(struct vlab_child *child);
/* Reports a message the front end should show in the instance's log. */
void vlab_child_log(struct vlab_child *child, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Entry point of the hidden `vlab __instance` subcommand. */
int vlab_child_main(int argc, char **argv);
/* The same, with the engines find() knows: an instance program built
 * around one engine links that engine alone. */
int vlab_child_run(int argc, char **argv, const struct vlab_engine *(*find)(const char *name));

/* ---- front-end side ---- */

/* Removes what dead vlab processes left behind (engines/sweep.c): each
 * engine's sweep and dead lab networks.  Front ends call it when they
 * start, so that a vlab killed with SIGKILL is cleaned up after by the
 * next one.  Never touches a live process' resources.  -1 with err (the
 * first failure) when something could not be removed. */
int vlab_sweep_all(struct vlab_err *err);

enum vlab_state {
	VLAB_STATE_CREATED,  /* spec checked, no process yet */
	VLAB_STATE_STARTING, /* process running, agent not READY yet */
	VLAB_STATE_RUNNING,  /* agent said READY */
	VLAB_STATE_STOPPING,
	VLAB_STATE_EXITED, /* process ended; exit_status valid */
	VLAB_STATE_FAILED, /* start failed; error() says why */
};

const char *vlab_state_name(enum vlab_state state);

struct vlab_phase {
	char name[32];
	uint64_t ns; /* since create(), CLOCK_MONOTONIC */
};

#define VLAB_MAX_PHASES 16
#define VLAB_MAX_ATTRS 32

struct vlab_instance;

/* Checks spec against the engine and copies it.  No process yet.  The
 * caller owns *out and frees it with vlab_instance_free(). */
int vlab_instance_create(const struct vlab_spec *spec, struct vlab_instance **out,
			 struct vlab_err *err);

/* Starts the instance process.  Returns once it runs (not READY yet). */
int vlab_instance_start(struct vlab_instance *inst, struct vlab_err *err);

/* Waits up to timeout_ms for the agent's READY line, handling events.
 * Fails with the instance's own error when it dies first. */
int vlab_instance_wait_ready(struct vlab_instance *inst, int timeout_ms, struct vlab_err *err);

/* Sends one request line to the agent and waits for one response line.
 * *resp stays valid until the next call on inst. */
int vlab_instance_request(struct vlab_instance *inst, const char *req, const char **resp,
			  int timeout_ms, struct vlab_err *err);

/* Reads pending events without blocking (for poll loops; the event fd is
 * vlab_instance_event_fd()).  Notices the process' end.  Returns 0. */
int vlab_instance_pump(struct vlab_instance *inst, struct vlab_err *err);

/* Stops the instance: asks politely (SIGTERM), waits grace_ms, then kills
 * (SIGKILL) and reaps.  Safe to call in any state. */
int vlab_instance_stop(struct vlab_instance *inst, int grace_ms, struct vlab_err *err);

/* Stops (SIGKILL if still running), reaps, closes every fd, frees. */
void vlab_instance_free(struct vlab_instance *inst);

/* Accessors. */
const char *vlab_instance_name(const struct vlab_instance *inst);
const struct vlab_engine *vlab_instance_engine(const struct vlab_instance *inst);
const struct vlab_spec *vlab_instance_spec(const struct vlab_instance *inst);
enum vlab_state vlab_instance_state(const struct vlab_instance *inst);
pid_t vlab_instance_pid(const struct vlab_instance *inst); /* 0 when none */
int vlab_instance_control_fd(const struct vlab_instance *inst);
int vlab_instance_console_fd(const struct vlab_instance *inst);
/* -1 once the event channel has ended (its process closed it, as the
 * host's agent does at its exec): nothing more will come, and a poll on
 * it would return at once. */
int vlab_instance_event_fd(const struct vlab_instance *inst);
/* pidfd of the instance process (readable when it exits), -1 when none. */
int vlab_instance_pidfd(const struct vlab_instance *inst);
/* create() -> READY seen by the front end, ns; 0 before READY. */
uint64_t vlab_instance_startup_ns(const struct vlab_instance *inst);
/* The agent's READY line, "" before READY. */
const char *vlab_instance_ready_line(const struct vlab_instance *inst);
size_t vlab_instance_phases(const struct vlab_instance *inst, const struct vlab_phase **out);
/* An attribute published by the instance, NULL when absent. */
const char *vlab_instance_attr(const struct vlab_instance *inst, const char *key);
/* Every attribute: the number, and key number i (its value in *value). */
size_t vlab_instance_attr_count(const struct vlab_instance *inst);
const char *vlab_instance_attr_at(const struct vlab_instance *inst, size_t i, const char **value);
/* Live counters (NULL before start). */
const struct vlab_counters *vlab_instance_counters(const struct vlab_instance *inst);
/* The memfd behind the counters (to pass to another process, which maps
 * it read-only); -1 before start.  Owned by inst. */
int vlab_instance_counters_fd(const struct vlab_instance *inst);
/* Exit status (as from waitpid) once EXITED. */
int vlab_instance_exit_status(const struct vlab_instance *inst);
/* Last error reported by the instance process, "" when none. */
const char *vlab_instance_error(const struct vlab_instance *inst);

#endif
