/* engines/container/ct.h: the container runtime's internal interfaces,
 * shared by the files of engines/container/ (not by other modules: front
 * ends use engines/container/container.h).
 *
 * The runtime is the instance process (`vlab __instance`).  It clones the
 * container's init with new namespaces (clone.c); the init sets up its
 * filesystem (rootfs.c, procdev.c), hostname, capabilities (caps.c) and
 * seccomp filter (seccomp.c), then starts the program (init.c) while the
 * runtime puts it into cgroups (cgroup*.c), serves seccomp notifications and
 * exec requests (exec.c) and cleans up (runtime.c). */
#ifndef VLAB_ENGINES_CONTAINER_CT_H
#define VLAB_ENGINES_CONTAINER_CT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/paths.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"

#define CT_MAX_SYSCALLS 64 /* lab rules per list (seccomp.deny, seccomp.allow) */
#define CT_ARGV_MAX 64

/* ---- configuration: the spec, parsed (config.c) ---- */

struct ct_config {
	char name[VLAB_NAME_MAX + 1];
	char hostname[65];
	char rootfs[VLAB_PATH_MAX]; /* overlay lower layer (the image) */
	char *argv[CT_ARGV_MAX];    /* program inside the container; strings in argstore */
	char *argstore;
	uint64_t memory; /* bytes, 0: no limit */
	uint64_t pids;   /* 0: no limit */
	uint64_t cpu;    /* percent of one CPU, 0: no limit */
	int userns;      /* a user namespace (forced when not root) */
	int rootless;    /* not root: user namespace, no cgroups */
	int seccomp;     /* apply the seccomp profile */
	int net;         /* attach to the lab network (labnet.on) */
	struct vlab_labnet_cfg labnet; /* its address there, from the spec */
	uint64_t grace_ns; /* stop: SIGTERM, then SIGKILL after this long */
	uint64_t cap_add, cap_drop; /* capability bit masks */
	int deny[CT_MAX_SYSCALLS], ndeny;   /* lab rules: syscall numbers (native) */
	int allow[CT_MAX_SYSCALLS], nallow; /* removed from the default profile */
	uid_t host_uid; /* the runtime's uid and gid */
	gid_t host_gid;
	uid_t map_base; /* userns as root: container 0..65535 -> map_base.. */
};

extern const struct vlab_opt_desc ct_opts[];

/* Fills cfg from a checked spec.  The caller frees with ct_config_free(). */
int ct_config_parse(const struct vlab_spec *spec, struct ct_config *cfg, struct vlab_err *err);
void ct_config_free(struct ct_config *cfg);
/* Syscall names, comma separated, to native numbers; names the bad one. */
int ct_syscall_list(const char *list, int *out, int max, int *n, const char *what,
		    struct vlab_err *err);
/* Capability names ("net_admin,sys_time", "CAP_" prefix optional) to a mask. */
int ct_cap_list(const char *list, uint64_t *mask, const char *what, struct vlab_err *err);

/* ---- identity of this runtime: names of what it creates (sweep.c) ---- */

/* "<name>.<pid>.<starttime>": unique per runtime, and the sweep can tell
 * whether its owner is still alive. */
int ct_owner_tag(const char *name, char *buf, size_t len, struct vlab_err *err);
/* 1 when the process that made tag is alive, 0 when it is gone, -1 when
 * tag is not one of ours. */
int ct_owner_alive(const char *tag);
/* Removes a directory tree without following symlinks or crossing mounts. */
int ct_rm_tree(const char *path, struct vlab_err *err);

/* ---- cgroups: one interface, two implementations (cgroup*.c) ---- */

enum ct_cg_ctl { CT_CG_MEMORY, CT_CG_PIDS, CT_CG_CPU, CT_CG_CPUACCT, CT_CG_NCTL };

struct ct_limits {
	uint64_t memory; /* bytes, 0: none */
	uint64_t pids;   /* 0: none */
	uint64_t cpu;    /* percent of one CPU, 0: none */
};

struct ct_usage {
	uint64_t mem_current, mem_peak; /* bytes */
	uint64_t oom_kills, oom_events; /* processes killed, times the limit was hit */
	uint64_t pids_current, pids_denied; /* fork/clone refused by pids.max */
	uint64_t cpu_ns;
	uint64_t nr_throttled, throttled_ns;
};

struct ct_cgroup;

struct ct_cgroup_ops {
	const char *backend; /* "cgroup-v1", "cgroup-v2" */
	/* Makes the container's cgroup(s) and writes the limits. */
	int (*create)(struct ct_cgroup *cg, const struct ct_limits *lim, struct vlab_err *err);
	/* Moves pid in; pid 0: the calling (single-threaded) process, which
	 * on v1 is the cheap way (see ct_cg_self_fds). */
	int (*attach)(struct ct_cgroup *cg, pid_t pid, struct vlab_err *err);
	/* Descriptors through which a process moves itself in by writing
	 * "0" (v1: each hierarchy's tasks file); returns how many (v2: 0,
	 * clone3 puts the init in with CLONE_INTO_CGROUP instead). */
	int (*self_fds)(struct ct_cgroup *cg, int fds[CT_CG_NCTL], struct vlab_err *err);
	/* The calling process steps into the container's cpu cgroup for the
	 * clone and back out after it (v1; v2: nothing, see cgroup_v1.c). */
	int (*sched_enter)(struct ct_cgroup *cg, struct vlab_err *err);
	int (*sched_leave)(struct ct_cgroup *cg, struct vlab_err *err);
	int (*usage)(struct ct_cgroup *cg, struct ct_usage *u, struct vlab_err *err);
	/* A descriptor that becomes readable when an OOM event happens; the
	 * caller drains it with ack_oom().  -1 with err when unsupported. */
	int (*watch_oom)(struct ct_cgroup *cg, struct vlab_err *err);
	void (*ack_oom)(struct ct_cgroup *cg);
	/* SIGKILLs every process inside, waits (bounded) until none is left. */
	int (*kill)(struct ct_cgroup *cg, struct vlab_err *err);
	/* Removes the cgroup(s); they must be empty. */
	int (*destroy)(struct ct_cgroup *cg, struct vlab_err *err);
};

extern const struct ct_cgroup_ops ct_cgroup_v1_ops, ct_cgroup_v2_ops;

struct ct_cgroup {
	const struct ct_cgroup_ops *ops;
	char tag[128]; /* leaf name: the owner tag */
	/* Mount points: v1 one per controller (they may coincide: co-mounted
	 * "cpu,cpuacct"); v2 all the same. */
	char mnt[CT_CG_NCTL][VLAB_PATH_MAX];
	char dir[CT_CG_NCTL][VLAB_PATH_MAX]; /* the container's cgroup, per controller */
	int created[CT_CG_NCTL];
	char orig_cpu[VLAB_PATH_MAX]; /* v1: the runtime's cpu cgroup during sched_enter */
	int oom_fd;     /* eventfd (v1) or inotify (v2) */
	int oom_ctl_fd; /* v1: memory.oom_control, held for the eventfd */
};

#define CT_CG_PARENT "vlab" /* <mount>/vlab/<tag> */

extern const char *const ct_cg_ctl_names[CT_CG_NCTL];

/* Finds the hierarchies carrying memory, pids and cpu under root (normally
 * "/", a fixture directory in tests), reading mountinfo (or the file
 * named), and picks v2 when the unified hierarchy has all three, else v1.
 * Fills cg (ops, mounts, tag); creates nothing. */
int ct_cgroup_find(struct ct_cgroup *cg, const char *mountinfo, const char *tag,
		   struct vlab_err *err);
/* In the container, after its cgroup namespace: its own cgroups, read-only,
 * at /sys/fs/cgroup (as Docker shows them). */
int ct_cgroup_mount_inside(const struct ct_cgroup *cg, const char *root, struct vlab_err *err);
/* Removes cgroups under <mount>/vlab whose owner is gone. */
int ct_cgroup_sweep(struct vlab_err *err);

/* Helpers for the implementations. */
int ct_cg_write(const char *dir, const char *file, const char *value, struct vlab_err *err);
int ct_cg_read_u64(const char *dir, const char *file, uint64_t *out);
/* Reads "key value" lines; sets *out for key.  0 when found. */
int ct_cg_read_key(const char *dir, const char *file, const char *key, uint64_t *out);
/* SIGKILLs the pids listed in dir/cgroup.procs until it is empty. */
int ct_cg_kill_procs(const char *dir, struct vlab_err *err);
/* rmdir, retrying briefly while the last tasks are released. */
int ct_cg_rmdir(const char *dir, struct vlab_err *err);

/* ---- seccomp (seccomp.c) ---- */

#define CT_BPF_INSN 8    /* sizeof(struct sock_filter) */
#define CT_BPF_MAX 4096  /* BPF_MAXINSNS */

struct ct_seccomp {
	void *bpf; /* struct sock_filter[], compiled by libseccomp */
	size_t bpf_len;   /* instructions */
	int notify;       /* denials go to the runtime (counted), else plain EPERM */
};

/* Compiles the default profile plus the lab's rules. */
int ct_seccomp_build(const struct ct_config *cfg, struct ct_seccomp *sc, struct vlab_err *err);
void ct_seccomp_free(struct ct_seccomp *sc);
/* In the container: loads the filter; returns the notification listener
 * (or -2 when denials are plain EPERM), -1 with err on failure. */
int ct_seccomp_load(const struct ct_seccomp *sc, struct vlab_err *err);
/* The denied syscalls in the default profile (NULL-terminated names). */
extern const char *const ct_seccomp_default_deny[];
/* Answers one pending notification on listener fd: EPERM (or the rule's
 * errno), counting it.  Returns 0, or -1 when the listener is dead. */
int ct_seccomp_answer(const struct ct_seccomp *sc, int fd, struct vlab_counters *cs, int total_id,
		      struct vlab_child *child);
/* Writes the filter in libseccomp's readable form (for students). */
int ct_seccomp_export_pfc(const struct ct_config *cfg, const char *path, struct vlab_err *err);

/* ---- capabilities (caps.c) ---- */

/* Docker's default set. */
extern const uint64_t ct_caps_default;
/* The set the container keeps. */
uint64_t ct_caps_effective(const struct ct_config *cfg);
/* Drops the bounding set and sets permitted/effective to keep, clears
 * inheritable and ambient.  Must run before no_new_privs and seccomp. */
int ct_caps_apply(uint64_t keep, struct vlab_err *err);
/* Only permitted/effective to keep, inheritable cleared: for a process
 * that never executes anything (the bounding and ambient sets matter only
 * at an exec; dropping the bounding set is a system call per capability). */
int ct_caps_set(uint64_t keep, struct vlab_err *err);

/* ---- the container's filesystem (rootfs.c, procdev.c) ---- */

struct ct_layer {
	char dir[VLAB_PATH_MAX];   /* <runtime dir>/ct/<tag> */
	char upper[VLAB_PATH_MAX]; /* the container layer */
	char work[VLAB_PATH_MAX];
	char merged[VLAB_PATH_MAX]; /* where the overlay is mounted: dir itself */
};

/* Refuses an image whose /proc, /dev, /sys or /dev/null is a symlink or
 * not what it should be. */
int ct_rootfs_check(const char *rootfs, struct vlab_err *err);
/* Bytes of the regular files under path (the image size). */
uint64_t ct_tree_bytes(const char *path);
/* Where container layers live: the runtime folder, or a folder of ours in
 * /dev/shm when the default runtime folder is not a tmpfs (rootfs.c). */
int ct_layer_base(char *buf, size_t len, struct vlab_err *err);
/* Makes the per-instance folders (owned by uid/gid). */
int ct_layer_make(struct ct_layer *l, const char *tag, uid_t uid, gid_t gid,
		  struct vlab_err *err);
int ct_layer_remove(struct ct_layer *l, struct vlab_err *err);
/* Removes layers in the runtime folder whose owner is gone. */
int ct_layer_sweep(struct vlab_err *err);
/* In the container's mount namespace: the overlay on merged, /proc /dev
 * /sys and the masks (procdev.c), the container's cgroups (cg, may be
 * NULL) at sys/fs/cgroup, all under merged. */
int ct_rootfs_mount(const struct ct_config *cfg, const struct ct_layer *l,
		    const struct ct_cgroup *cg, struct vlab_err *err);
/* pivot_root into merged; the old root stays stacked on "/" until: */
int ct_rootfs_detach_old(struct vlab_err *err);
int ct_rootfs_pivot(const struct ct_layer *l, struct vlab_err *err);
/* Mounts /proc, /dev, /sys, masks and read-only paths under root. */
int ct_procdev_setup(const char *root, int rootless, struct vlab_err *err);

/* ---- network (net.c) ---- */

/* In the container's net namespace: loopback up. */
int ct_net_loopback(struct vlab_err *err);
/* In the runtime, with net=on: a veth pair from the lab network's bridge to
 * eth0 in the container's network namespace (netns_fd, or the init's when
 * -1), with the instance's address. */
int ct_net_attach(const struct ct_config *cfg, pid_t init_pid, int netns_fd,
		  struct vlab_err *err);

/* The container's network namespace, made ahead by a thread of the
 * runtime while its main thread makes the cgroups; the init joins it. */
struct ct_netns {
	pthread_t thread;
	int started;
	int fd; /* the namespace; -1: the clone makes one */
	struct vlab_err err;
};
void ct_netns_start(struct ct_netns *ns);
/* Takes the namespace a zygote made ahead (VLAB_CHILD_NETNS_FD) into ns;
 * 0 when there is none. */
int ct_netns_ahead(struct ct_netns *ns);
/* Waits for the thread; returns the namespace's fd, or -1 with the reason
 * in ns->err (or none when it was never started). */
int ct_netns_wait(struct ct_netns *ns);
void ct_netns_close(struct ct_netns *ns);

/* ---- scheduling (slice.c) ---- */

/* The calling task (and what it forks) asks for a short time slice. */
void ct_slice_short(void);
/* Back to the default slice: the calling task, or pid (its threads too). */
void ct_slice_default(void);
int ct_slice_default_pid(pid_t pid);

/* ---- the container's init (init.c) ---- */

/* The environment of every program started in the container. */
extern const char *const ct_container_env[];

/* Names the init "vlab-init" (its comm and command line). */
void ct_init_rename(void);
/* The container's pid 1 once it has forked the program (pid main_pid)
 * and set the container's filesystem up: keeps nothing, writes the time
 * to mounted_fd (the program then goes on to its exec), forwards signals
 * to the program, reaps orphans, exits with the program's status
 * (128+signal when it was killed).  Never returns. */
void ct_init_reap(pid_t main_pid, int mounted_fd) __attribute__((noreturn));
/* In the program's process, once the container is set up: stdin/stdout on
 * control_fd, stderr on console_fd, nothing else (sync_fd and the event
 * channel close at the exec; an error goes to sync_fd), then execve. */
void ct_program_exec(char *const argv[], int control_fd, int console_fd, int sync_fd,
		     struct vlab_child *child) __attribute__((noreturn));

/* ---- the runtime (runtime.c, clone.c, exec.c) ---- */

struct ct_runtime {
	struct ct_config cfg;
	struct ct_layer layer;
	struct ct_cgroup cg;
	int have_cg, have_layer;
	struct ct_seccomp sc;
	struct vlab_child *child;
	char tag[128];
	pid_t init_pid;
	int init_pidfd;
	int cg_clone_fd; /* v2: the cgroup folder for CLONE_INTO_CGROUP, else -1 */
	int cg_in;       /* the init was born in its cgroup */
	int cg_self_fds[CT_CG_NCTL]; /* v1: tasks files the init writes "0" into */
	int ncg_self_fds;
	struct ct_netns netns; /* made beside the cgroups (net.c) */
	int sync_fd; /* runtime side of the setup socket */
	int exec_fd; /* listening socket for exec requests */
	char exec_path[VLAB_PATH_MAX];
};

/* The engine's serve(): the whole life of one container. */
int ct_serve(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err);

/* The attributes known when the container starts (sent by the init). */
void ct_publish_start(const struct ct_runtime *rt);
/* Clones the container's init (new namespaces) which runs ct_child_main;
 * returns in the runtime with rt->init_pid and rt->sync_fd set. */
int ct_clone_init(struct ct_runtime *rt, struct vlab_err *err);
/* Writes uid_map/gid_map of the init's user namespace. */
int ct_write_idmaps(const struct ct_runtime *rt, struct vlab_err *err);

/* Messages on the setup socket (SOCK_SEQPACKET): one byte type, text. */
enum {
	CT_MSG_GO = 'g',    /* runtime -> init: ids mapped, attributes published */
	CT_MSG_FD = 'f',    /* init -> runtime: seccomp listener (SCM_RIGHTS) */
	CT_MSG_NOFD = 'n',  /* init -> runtime: no listener (plain EPERM) */
	CT_MSG_ERROR = 'e', /* either way: "errno message" then the sender ends */
};
int ct_msg_send(int fd, char type, const char *text, int pass_fd, struct vlab_err *err);
/* Receives one message; *pass_fd gets a passed descriptor or -1.  Returns
 * the type, 0 on end of file, -1 with err. */
int ct_msg_recv(int fd, char *text, size_t len, int *pass_fd, int timeout_ms,
		struct vlab_err *err);
/* Sends an error message built from err, ignoring failures. */
void ct_msg_error(int fd, const struct vlab_err *err);
/* Parses an error message into err. */
void ct_msg_parse_error(const char *text, struct vlab_err *err);

/* exec into the running container (exec.c, the runtime's side). */
int ct_exec_listen(struct ct_runtime *rt, struct vlab_err *err);
/* A client connected: read its request, start the process.  Returns the
 * session descriptor the runtime polls (the process' end), or -1. */
struct ct_exec_session;
struct ct_exec_session *ct_exec_accept(struct ct_runtime *rt, struct vlab_err *err);
int ct_exec_session_fd(const struct ct_exec_session *s);
/* The helper ended or the client went away: report and free. */
void ct_exec_session_end(struct ct_exec_session *s, struct ct_runtime *rt);
/* A helper's seccomp listener, when it sent one (then -1). */
int ct_exec_session_take_listener(struct ct_exec_session *s);
/* The helper has ended and its socket is closed. */
int ct_exec_session_done(const struct ct_exec_session *s);
/* Reads messages from the helper; 1 when the session is over. */
int ct_exec_session_pump(struct ct_exec_session *s, struct ct_runtime *rt);

#endif
