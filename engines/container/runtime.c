/* engines/container/runtime.c: the runtime, from spec to exit.
 *
 * serve() runs in the instance process: it prepares (owner tag, container
 * layer, seccomp filter), clones the init (clone.c), puts it in its
 * cgroups while the init builds its filesystem, then watches over the
 * container until it ends: the init's exit, stop signals (SIGTERM to the
 * init, SIGKILL after stop_grace), seccomp notifications, OOM events,
 * exec requests, and live usage figures for the counters page.  Whatever
 * happens, it leaves no cgroup and no layer behind; a runtime killed
 * outright leaves them to the next one's sweep. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/units.h"
#include "engines/container/ct.h"

#define MAX_LISTENERS 16
#define MAX_SESSIONS 16
#define TICK_NS 250000000ull /* live usage refresh */

struct loop {
	struct ct_runtime *rt;
	int sigfd, timerfd, oomfd;
	int listeners[MAX_LISTENERS];
	int nlisteners;
	struct ct_exec_session *sessions[MAX_SESSIONS];
	int nsessions;
	int stopping;
	uint64_t kill_at_ns; /* SIGKILL the init at this time (0: not armed) */
	int init_status;     /* wait status of the init */
	int setup_done;      /* the setup socket reached end of file */
	int deferred_done;
	int ids[16];         /* counter ids, see publish_usage */
	uint64_t last_oom_kills;
	struct vlab_err setup_err;
	int setup_failed;
};

enum { ID_DENIED, ID_OOM, ID_MEM, ID_PEAK, ID_CPU, ID_PIDS, ID_PIDS_DENIED, ID_THROTTLED };

static void add_listener(struct loop *lp, int fd)
{
	if (lp->nlisteners < MAX_LISTENERS)
		lp->listeners[lp->nlisteners++] = fd;
	else
		close(fd); /* its callers then get ENOSYS from the kernel */
}

static void set_gauge(struct vlab_counters *cs, int id, uint64_t v)
{
	if (cs && id >= 0)
		__atomic_store_n(&cs->c[id].value, v, __ATOMIC_RELAXED);
}

/* Live usage into the counter page; an OOM kill is also logged. */
static void publish_usage(struct loop *lp)
{
	struct ct_runtime *rt = lp->rt;
	struct ct_usage u;
	if (!rt->have_cg || rt->cg.ops->usage(&rt->cg, &u, NULL) < 0)
		return;
	struct vlab_counters *cs = rt->child->counters;
	set_gauge(cs, lp->ids[ID_MEM], u.mem_current);
	set_gauge(cs, lp->ids[ID_PEAK], u.mem_peak);
	set_gauge(cs, lp->ids[ID_CPU], u.cpu_ns);
	set_gauge(cs, lp->ids[ID_PIDS], u.pids_current);
	set_gauge(cs, lp->ids[ID_PIDS_DENIED], u.pids_denied);
	set_gauge(cs, lp->ids[ID_THROTTLED], u.nr_throttled);
	set_gauge(cs, lp->ids[ID_OOM], u.oom_kills);
	if (u.oom_kills > lp->last_oom_kills) {
		char lim[32];
		vlab_child_log(rt->child,
			       "OOM: the kernel killed %llu process(es) in the container (memory "
			       "limit %s)",
			       (unsigned long long)(u.oom_kills - lp->last_oom_kills),
			       vlab_fmt_bytes(rt->cfg.memory, lim, sizeof(lim)));
		lp->last_oom_kills = u.oom_kills;
		vlab_child_attr(rt->child, "oom_kills", "%llu", (unsigned long long)u.oom_kills);
	}
}

static void arm_timer(int fd, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)},
	};
	timerfd_settime(fd, 0, &its, NULL);
}

/* Work that does not delay READY: the image size, the filter in readable
 * form, the sweep of what killed runtimes left. */
static void deferred(struct loop *lp)
{
	struct ct_runtime *rt = lp->rt;
	struct vlab_err e = {0};
	lp->deferred_done = 1;
	/* The program has started: the default slice again (slice.c), for
	 * the program and whatever it has started already. */
	char kids[64], path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)rt->init_pid,
		 (int)rt->init_pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(kids, sizeof(kids), f) && atoi(kids) > 0)
			ct_slice_default_pid((pid_t)atoi(kids));
		fclose(f);
	}
	vlab_child_attr(rt->child, "image_bytes", "%llu",
			(unsigned long long)ct_tree_bytes(rt->cfg.rootfs));
	if (rt->cfg.seccomp) {
		char p[VLAB_PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/seccomp.pfc", rt->layer.dir);
		if (ct_seccomp_export_pfc(&rt->cfg, p, &e) == 0)
			vlab_child_attr(rt->child, "seccomp.pfc", "%s", p);
	}
	if (ct_cgroup_sweep(&e) < 0 || ct_layer_sweep(&e) < 0)
		vlab_child_log(rt->child, "sweep: %s", vlab_err_msg(&e));
}

static void start_stop(struct loop *lp)
{
	if (lp->stopping)
		return;
	lp->stopping = 1;
	syscall(SYS_pidfd_send_signal, lp->rt->init_pidfd, SIGTERM, NULL, 0);
	lp->kill_at_ns = vlab_now_ns() + lp->rt->cfg.grace_ns;
}

static void kill_init(struct loop *lp)
{
	syscall(SYS_pidfd_send_signal, lp->rt->init_pidfd, SIGKILL, NULL, 0);
	lp->kill_at_ns = 0;
}

static void on_timer(struct loop *lp)
{
	uint64_t n;
	if (read(lp->timerfd, &n, sizeof(n)) < 0)
		return;
	if (lp->kill_at_ns && vlab_now_ns() >= lp->kill_at_ns)
		kill_init(lp);
	if (lp->setup_done && !lp->deferred_done)
		deferred(lp);
	publish_usage(lp);
	uint64_t next = TICK_NS;
	if (lp->kill_at_ns) {
		uint64_t now = vlab_now_ns();
		uint64_t left = lp->kill_at_ns > now ? lp->kill_at_ns - now : 1;
		if (left < next)
			next = left;
	}
	arm_timer(lp->timerfd, next);
}

/* The setup socket: an error from the init, or end of file at exec. */
static int on_setup(struct loop *lp)
{
	char text[VLAB_ERR_MSG];
	int fd = -1;
	int t = ct_msg_recv(lp->rt->sync_fd, text, sizeof(text), &fd, 0, NULL);
	if (t < 0 && errno == ETIMEDOUT)
		return 0;
	if (t == CT_MSG_FD && fd >= 0) {
		add_listener(lp, fd);
		return 1;
	}
	if (fd >= 0)
		close(fd);
	if (t == CT_MSG_NOFD)
		return 1;
	if (t == CT_MSG_ERROR) {
		ct_msg_parse_error(text, &lp->setup_err);
		lp->setup_failed = 1;
		kill_init(lp);
	}
	if (t <= 0) {
		close(lp->rt->sync_fd);
		lp->rt->sync_fd = -1;
		lp->setup_done = 1;
		/* The deferred work waits a moment: READY is being written. */
		if (!lp->setup_failed)
			arm_timer(lp->timerfd, 20000000ull);
	}
	return 1;
}

static void on_signal(struct loop *lp)
{
	struct signalfd_siginfo si;
	while (read(lp->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			/* exec helpers; the init is collected through its pidfd */
			for (int i = 0; i < lp->nsessions; i++)
				ct_exec_session_pump(lp->sessions[i], lp->rt);
			continue;
		}
		start_stop(lp);
	}
}

static void drop_session(struct loop *lp, int i)
{
	ct_exec_session_end(lp->sessions[i], lp->rt);
	lp->sessions[i] = lp->sessions[--lp->nsessions];
}

static int run_loop(struct loop *lp)
{
	struct ct_runtime *rt = lp->rt;
	struct vlab_counters *cs = rt->child->counters;
	for (;;) {
		struct pollfd p[8 + MAX_LISTENERS + MAX_SESSIONS];
		int n = 0, i_pid = n++, i_sig = n++, i_tim = n++, i_sync = -1, i_oom = -1, i_exec = -1;
		p[i_pid] = (struct pollfd){.fd = rt->init_pidfd, .events = POLLIN};
		p[i_sig] = (struct pollfd){.fd = lp->sigfd, .events = POLLIN};
		p[i_tim] = (struct pollfd){.fd = lp->timerfd, .events = POLLIN};
		if (rt->sync_fd >= 0) {
			i_sync = n++;
			p[i_sync] = (struct pollfd){.fd = rt->sync_fd, .events = POLLIN};
		}
		if (lp->oomfd >= 0) {
			i_oom = n++;
			p[i_oom] = (struct pollfd){.fd = lp->oomfd, .events = POLLIN};
		}
		if (rt->exec_fd >= 0 && lp->nsessions < MAX_SESSIONS) {
			i_exec = n++;
			p[i_exec] = (struct pollfd){.fd = rt->exec_fd, .events = POLLIN};
		}
		/* (Handlers below may add listeners and sessions: only the ones
		 * polled now are looked at this round.) */
		int i_lis = n, n_lis = lp->nlisteners;
		for (int i = 0; i < n_lis; i++)
			p[n++] = (struct pollfd){.fd = lp->listeners[i], .events = POLLIN};
		int i_ses = n, n_ses = lp->nsessions;
		for (int i = 0; i < n_ses; i++)
			p[n++] = (struct pollfd){.fd = ct_exec_session_fd(lp->sessions[i]),
						 .events = POLLIN};
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (i_sync >= 0 && p[i_sync].revents)
			on_setup(lp);
		for (int i = n_lis - 1; i >= 0; i--) {
			short re = p[i_lis + i].revents;
			if (re & POLLIN)
				ct_seccomp_answer(&rt->sc, lp->listeners[i], cs, lp->ids[ID_DENIED],
						  rt->child);
			else if (re & (POLLHUP | POLLERR | POLLNVAL)) {
				/* every filtered process is gone */
				close(lp->listeners[i]);
				lp->listeners[i] = lp->listeners[--lp->nlisteners];
			}
		}
		if (i_oom >= 0 && p[i_oom].revents) {
			rt->cg.ops->ack_oom(&rt->cg);
			publish_usage(lp);
		}
		if (p[i_sig].revents)
			on_signal(lp);
		if (p[i_tim].revents)
			on_timer(lp);
		for (int i = lp->nsessions - 1; i >= 0; i--) {
			int polled = i < n_ses && p[i_ses + i].revents;
			if ((polled && ct_exec_session_pump(lp->sessions[i], rt)) ||
			    ct_exec_session_done(lp->sessions[i]))
				drop_session(lp, i);
		}
		if (i_exec >= 0 && p[i_exec].revents) {
			struct vlab_err e = {0};
			struct ct_exec_session *s = ct_exec_accept(rt, &e);
			if (s)
				lp->sessions[lp->nsessions++] = s;
			else if (e.msg[0])
				vlab_child_log(rt->child, "exec: %s", e.msg);
		}
		for (int i = 0; i < lp->nsessions; i++) {
			int lfd = ct_exec_session_take_listener(lp->sessions[i]);
			if (lfd >= 0)
				add_listener(lp, lfd);
		}
		if (p[i_pid].revents) {
			/* Messages the init or the program sent before ending. */
			while (rt->sync_fd >= 0 && on_setup(lp))
				;
			siginfo_t si = {0};
			if (waitid(P_PIDFD, (id_t)rt->init_pidfd, &si, WEXITED) < 0) {
				int st = 0;
				waitpid(rt->init_pid, &st, 0);
				lp->init_status = st;
			} else {
				lp->init_status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
									   : si.si_status & 0x7f;
			}
			rt->init_pid = 0;
			return 0;
		}
	}
}

/* Undoes everything the runtime made; safe to call at any stage. */
static void teardown(struct ct_runtime *rt, struct loop *lp)
{
	struct vlab_err e = {0};
	if (rt->init_pid > 0) {
		syscall(SYS_pidfd_send_signal, rt->init_pidfd, SIGKILL, NULL, 0);
		waitpid(rt->init_pid, NULL, 0);
		rt->init_pid = 0;
	}
	for (int i = lp ? lp->nsessions - 1 : -1; i >= 0; i--)
		drop_session(lp, i);
	if (rt->have_cg) {
		if (rt->cg.ops->kill(&rt->cg, &e) < 0 || rt->cg.ops->destroy(&rt->cg, &e) < 0)
			vlab_child_log(rt->child, "cgroup cleanup: %s", e.msg);
		rt->have_cg = 0;
	}
	if (rt->have_layer) {
		if (ct_layer_remove(&rt->layer, &e) < 0)
			vlab_child_log(rt->child, "layer cleanup: %s", e.msg);
		rt->have_layer = 0;
	}
	if (rt->exec_fd >= 0)
		close(rt->exec_fd);
	rt->exec_fd = -1;
	if (rt->sync_fd >= 0)
		close(rt->sync_fd);
	rt->sync_fd = -1;
	if (rt->init_pidfd >= 0)
		close(rt->init_pidfd);
	rt->init_pidfd = -1;
	if (rt->cg_clone_fd >= 0)
		close(rt->cg_clone_fd);
	rt->cg_clone_fd = -1;
	ct_netns_close(&rt->netns);
	if (lp) {
		for (int i = 0; i < lp->nlisteners; i++)
			close(lp->listeners[i]);
		lp->nlisteners = 0;
		if (lp->sigfd >= 0)
			close(lp->sigfd);
		if (lp->timerfd >= 0)
			close(lp->timerfd);
		lp->sigfd = lp->timerfd = -1;
	}
	ct_seccomp_free(&rt->sc);
}

/* Final figures, once the container has ended (the cgroup still exists). */
static void publish_final(struct loop *lp)
{
	struct ct_runtime *rt = lp->rt;
	struct ct_usage u;
	if (!rt->have_cg || rt->cg.ops->usage(&rt->cg, &u, NULL) < 0)
		return;
	publish_usage(lp);
	vlab_child_attr(rt->child, "memory.peak_bytes", "%llu", (unsigned long long)u.mem_peak);
	vlab_child_attr(rt->child, "cpu_ns", "%llu", (unsigned long long)u.cpu_ns);
	vlab_child_attr(rt->child, "oom_kills", "%llu", (unsigned long long)u.oom_kills);
	vlab_child_attr(rt->child, "pids.denied", "%llu", (unsigned long long)u.pids_denied);
}

void ct_publish_start(const struct ct_runtime *rt)
{
	struct vlab_child *c = rt->child;
	vlab_child_attr(c, "backend", "%s",
			rt->cfg.rootless ? "rootless" : rt->have_cg ? rt->cg.ops->backend : "none");
	vlab_child_attr(c, "emulated", "no");
	vlab_child_attr(c, "hostname", "%s", rt->cfg.hostname);
	vlab_child_attr(c, "userns", "%s", rt->cfg.userns ? "yes" : "no");
	vlab_child_attr(c, "layer.lower", "%s", rt->cfg.rootfs);
	vlab_child_attr(c, "layer.upper", "%s", rt->layer.upper);
	vlab_child_attr(c, "seccomp", "%s",
			!rt->cfg.seccomp ? "off" : rt->sc.notify ? "notify" : "errno");
	vlab_child_attr(c, "caps", "0x%016llx", (unsigned long long)ct_caps_effective(&rt->cfg));
	if (rt->cfg.net) {
		char ip[INET_ADDRSTRLEN] = "";
		inet_ntop(AF_INET, &rt->cfg.labnet.ip, ip, sizeof(ip));
		vlab_child_attr(c, "ip", "%s", ip);
	}
	if (rt->exec_path[0])
		vlab_child_attr(c, "exec.socket", "%s", rt->exec_path);
	if (rt->have_cg)
		for (int i = 0; i < CT_CG_NCTL; i++)
			if (rt->cg.dir[i][0]) {
				char key[32];
				snprintf(key, sizeof(key), "cgroup.%s", ct_cg_ctl_names[i]);
				vlab_child_attr(c, key, "%s", rt->cg.dir[i]);
			}
}

static int prepare_loop(struct loop *lp, struct vlab_err *err)
{
	struct vlab_counters *cs = lp->rt->child->counters;
	static const char *const names[] = {
		[ID_DENIED] = "seccomp.denied",   [ID_OOM] = "cg.oom_kills",
		[ID_MEM] = "cg.mem.current_bytes", [ID_PEAK] = "cg.mem.peak_bytes",
		[ID_CPU] = "cg.cpu_ns",		  [ID_PIDS] = "cg.pids.current",
		[ID_PIDS_DENIED] = "cg.pids.denied", [ID_THROTTLED] = "cg.cpu.throttled_count",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		lp->ids[i] = (i == ID_DENIED || lp->rt->have_cg) ? vlab_counters_id(cs, names[i]) : -1;
	lp->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (lp->timerfd < 0)
		return vlab_err_set(err, errno, "timerfd");
	return 0;
}

int ct_serve(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err)
{
	struct ct_runtime rt;
	struct loop lp;
	memset(&rt, 0, sizeof(rt));
	memset(&lp, 0, sizeof(lp));
	rt.child = child;
	rt.init_pidfd = rt.sync_fd = rt.exec_fd = rt.cg_clone_fd = -1;
	rt.netns.fd = -1;
	lp.rt = &rt;
	lp.sigfd = lp.timerfd = lp.oomfd = -1;

	/* Signals arrive through a descriptor, from the start: a SIGTERM
	 * during setup is a stop like any other. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The start-up events are held, handed to the init with its memory
	 * and sent by it in one write at the program's exec: nothing wakes
	 * the front end up while the container starts (on a busy machine
	 * each wake-up delays the init by a scheduler round). */
	vlab_child_hold(child);
	ct_slice_short();
	/* Its network namespace: made ahead by the program's zygote, else by
	 * a thread meanwhile (net.c), from the start; with a user namespace
	 * (rootless, or userns=on) it must belong to that one, which the
	 * clone makes. */
	const char *netns_by = "clone";
	if (ct_netns_ahead(&rt.netns)) {
		netns_by = "zygote";
	} else if (geteuid() == 0) {
		ct_netns_start(&rt.netns);
		netns_by = "thread";
	}
	if (ct_config_parse(spec, &rt.cfg, err) < 0) {
		ct_netns_close(&rt.netns);
		return -1;
	}
	if (rt.cfg.userns) {
		ct_netns_close(&rt.netns);
		netns_by = "clone";
	}
	if (ct_rootfs_check(rt.cfg.rootfs, err) < 0 ||
	    ct_owner_tag(rt.cfg.name, rt.tag, sizeof(rt.tag), err) < 0)
		goto fail;
	uid_t owner = rt.cfg.userns && !rt.cfg.rootless ? rt.cfg.map_base : rt.cfg.host_uid;
	gid_t gowner = rt.cfg.userns && !rt.cfg.rootless ? rt.cfg.map_base : rt.cfg.host_gid;
	if (ct_layer_make(&rt.layer, rt.tag, owner, gowner, err) < 0)
		goto fail;
	rt.have_layer = 1;
	if (!rt.cfg.rootless && ct_cgroup_find(&rt.cg, NULL, rt.tag, err) < 0)
		goto fail;
	struct stat ist;
	if (rt.cfg.rootless && stat(rt.cfg.rootfs, &ist) == 0 && ist.st_uid != rt.cfg.host_uid)
		vlab_child_log(child,
			       "rootless: the image belongs to uid %u, not you: its folders cannot "
			       "be written in the container (build the image as yourself)",
			       (unsigned)ist.st_uid);

	/* All the init will need is made before it exists: it inherits it. */
	if (rt.cfg.seccomp && ct_seccomp_build(&rt.cfg, &rt.sc, err) < 0)
		goto fail;
	if (!rt.cfg.rootless) {
		struct ct_limits lim = {.memory = rt.cfg.memory, .pids = rt.cfg.pids,
					.cpu = rt.cfg.cpu};
		rt.have_cg = 1;
		if (rt.cg.ops->create(&rt.cg, &lim, err) < 0 ||
		    (rt.ncg_self_fds = rt.cg.ops->self_fds(&rt.cg, rt.cg_self_fds, err)) < 0) {
			rt.ncg_self_fds = 0;
			goto fail_cg;
		}
		if (rt.cg.ops == &ct_cgroup_v2_ops)
			rt.cg_clone_fd = open(rt.cg.dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		vlab_child_phase(child, "cgroup");
	}
	{
		struct vlab_err e = {0};
		if (ct_exec_listen(&rt, &e) < 0)
			vlab_child_log(child, "exec into the container is off: %s", e.msg);
	}
	/* The runtime's own loop too: after the clone it only gets out of
	 * the init's way. */
	if (prepare_loop(&lp, err) < 0)
		goto fail;
	if (rt.have_cg) {
		struct vlab_err e = {0};
		lp.oomfd = rt.cg.ops->watch_oom(&rt.cg, &e);
		if (lp.oomfd < 0)
			vlab_child_log(child, "OOM events: %s (polled instead)", e.msg);
	}
	lp.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (lp.sigfd < 0) {
		vlab_err_set(err, errno, "signalfd");
		goto fail;
	}
	arm_timer(lp.timerfd, TICK_NS);
	if (ct_netns_wait(&rt.netns) < 0 && rt.netns.err.msg[0]) {
		vlab_child_log(child, "network namespace made by the clone: %s", rt.netns.err.msg);
		netns_by = "clone";
	}
	/* Who made the network namespace: the zygote ahead of this start, a
	 * thread beside the cgroups, or the clone (a user namespace's). */
	vlab_child_attr(child, "netns_by", "%s", netns_by);
	if (rt.have_cg && rt.cg.ops->sched_enter(&rt.cg, err) < 0)
		goto fail_cg;
	int cloned = ct_clone_init(&rt, err);
	if (rt.have_cg && rt.cg.ops->sched_leave(&rt.cg, cloned < 0 ? NULL : err) < 0 && cloned == 0)
		goto fail_cg;
	if (cloned < 0)
		goto fail;
	vlab_child_forget(child); /* the init sends them */
	/* The init has its copies; ours would keep the channels open. */
	close(child->control_fd);
	close(child->console_fd);
	while (rt.ncg_self_fds > 0)
		close(rt.cg_self_fds[--rt.ncg_self_fds]);
	if (rt.cfg.userns && (ct_write_idmaps(&rt, err) < 0 ||
			      ct_msg_send(rt.sync_fd, CT_MSG_GO, "", -1, err) < 0))
		goto fail;
	/* v2 without CLONE_INTO_CGROUP (an old kernel): moved the slow way. */
	if (rt.cg_clone_fd >= 0 && !rt.cg_in && rt.cg.ops->attach(&rt.cg, rt.init_pid, err) < 0)
		goto fail_cg;
	/* net=on: eth0 in the lab network while the init sets up; it waits
	 * for it (GO) before the program starts. */
	if (rt.cfg.net) {
		if (ct_net_attach(&rt.cfg, rt.init_pid, rt.netns.fd, err) < 0)
			goto fail;
		/* (The init records phase "net" when it sees GO: its events go
		 * out in order, in one write.) */
		if (ct_msg_send(rt.sync_fd, CT_MSG_GO, "", -1, err) < 0)
			goto fail;
	}

	ct_netns_close(&rt.netns); /* the init is in it */
	if (run_loop(&lp) < 0) {
		vlab_err_set(err, errno, "runtime loop");
		goto fail;
	}
	publish_final(&lp);
	int st = lp.init_status, code;
	if (lp.setup_failed) {
		*err = lp.setup_err;
		teardown(&rt, &lp);
		ct_config_free(&rt.cfg);
		return -1;
	}
	if (WIFSIGNALED(st))
		code = 128 + WTERMSIG(st);
	else
		code = WEXITSTATUS(st);
	if (code == 128 + SIGKILL && lp.last_oom_kills && !lp.stopping)
		vlab_err_set(err, 0, "the container's program was OOM-killed (memory limit %llu bytes)",
			     (unsigned long long)rt.cfg.memory);
	teardown(&rt, &lp);
	ct_config_free(&rt.cfg);
	return code;

fail_cg:
	vlab_err_prefix(err, "cgroup");
fail:
	vlab_child_flush(child);
	while (rt.ncg_self_fds > 0)
		close(rt.cg_self_fds[--rt.ncg_self_fds]);
	teardown(&rt, &lp);
	ct_config_free(&rt.cfg);
	return -1;
}
