/* engines/instance.c: the front-end side of an instance.
 *
 * Makes the control, console and event sockets and the counter page,
 * starts the instance process with them (engines/spawn.c), and follows it
 * through a pidfd: its events, its agent's answers, its end. */
#include "engines/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "engines/instance_int.h"
#include "engines/spawn.h"

#define CONTROL_LINE_MAX (1u << 20)
#define EVENT_LINE_MAX 4096

/* Runs the engine's sweep: removes what ended instances left behind (this
 * vlab's, or a killed vlab's: a VMM confined by seccomp cannot delete its
 * scratch disk, a runtime killed outright leaves its cgroups).  Sweeps
 * touch only what belongs to processes that are gone. */
static void sweep(const struct vlab_engine *e)
{
	struct vlab_err ignored = {0};
	if (e && e->sweep)
		e->sweep(&ignored);
}

/* Sweeps each engine once per front-end process, before its first
 * instance starts. */
static void sweep_once(const struct vlab_engine *e)
{
	static const struct vlab_engine *done[16];
	for (size_t i = 0; i < sizeof(done) / sizeof(done[0]); i++) {
		if (done[i] == e)
			return;
		if (!done[i]) {
			done[i] = e;
			sweep(e);
			return;
		}
	}
}

const char *vlab_state_name(enum vlab_state s)
{
	static const char *names[] = {"created", "starting", "running",
				      "stopping", "exited", "failed"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int vlab_instance_create(const struct vlab_spec *spec, struct vlab_instance **out,
			 struct vlab_err *err)
{
	const struct vlab_engine *e = vlab_engine_find(spec->engine);
	if (!e)
		return vlab_err_set(err, ENOENT, "no engine named '%s'", spec->engine);
	if (vlab_spec_check(spec, e->opts, err) < 0)
		return -1;
	if (e->validate && e->validate(spec, err) < 0)
		return -1;
	struct vlab_instance *inst = calloc(1, sizeof(*inst));
	if (!inst)
		return vlab_err_set(err, ENOMEM, "instance %s", spec->name);
	if (vlab_spec_copy(&inst->spec, spec, err) < 0) {
		free(inst);
		return -1;
	}
	inst->engine = e;
	inst->state = VLAB_STATE_CREATED;
	inst->pidfd = inst->control_fd = inst->console_fd = inst->event_fd = -1;
	inst->counters_fd = -1;
	inst->ready_line = strdup("");
	vlab_lines_init(&inst->control_in, CONTROL_LINE_MAX);
	vlab_lines_init(&inst->event_in, EVENT_LINE_MAX);
	*out = inst;
	return 0;
}

/* Moves fd to a number >= 10 (close-on-exec), so the dup2s in the child
 * onto 3..6 cannot clobber a source. */
static int high_fd(int fd, struct vlab_err *err)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	if (h < 0)
		return vlab_err_set(err, errno, "dup fd %d", fd);
	close(fd);
	return h;
}

static int pair(int fds[2], struct vlab_err *err)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return vlab_err_set(err, errno, "socketpair");
	if ((fds[0] = high_fd(fds[0], err)) < 0 || (fds[1] = high_fd(fds[1], err)) < 0)
		return -1;
	return 0;
}

int vlab_instance_start(struct vlab_instance *inst, struct vlab_err *err)
{
	if (inst->state != VLAB_STATE_CREATED)
		return vlab_err_set(err, EBUSY, "instance %s is %s, not created", inst->spec.name,
				    vlab_state_name(inst->state));
	sweep_once(inst->engine);
	inst->t0_ns = vlab_now_ns();
	int ctl[2] = {-1, -1}, con[2] = {-1, -1}, ev[2] = {-1, -1}, mfd = -1;
	if (pair(ctl, err) < 0 || pair(con, err) < 0 || pair(ev, err) < 0)
		goto fail;
	mfd = memfd_create("vlab-counters", MFD_CLOEXEC);
	if (mfd < 0) {
		vlab_err_set(err, errno, "memfd_create");
		goto fail;
	}
	if ((mfd = high_fd(mfd, err)) < 0)
		goto fail;
	if (ftruncate(mfd, sizeof(struct vlab_counters)) < 0) {
		vlab_err_set(err, errno, "size counter page");
		goto fail;
	}
	void *map = mmap(NULL, sizeof(struct vlab_counters), PROT_READ | PROT_WRITE, MAP_SHARED,
			 mfd, 0);
	if (map == MAP_FAILED) {
		vlab_err_set(err, errno, "map counter page");
		goto fail;
	}
	inst->counters = map;
	vlab_counters_init(inst->counters);

	const int fds[4] = {ctl[1], con[1], ev[1], mfd};
	if (vlab_spawn_instance(inst->engine, &inst->spec, inst->t0_ns, fds, &inst->pid,
				&inst->pidfd, err) < 0)
		goto fail;
	close(ctl[1]);
	close(con[1]);
	close(ev[1]);
	inst->counters_fd = mfd;
	inst->control_fd = ctl[0];
	inst->console_fd = con[0];
	inst->event_fd = ev[0];
	vlab_fd_nonblock(inst->event_fd, 1, NULL);
	vlab_fd_nonblock(inst->control_fd, 1, NULL);
	inst->state = VLAB_STATE_STARTING;
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		if (ctl[i] >= 0)
			close(ctl[i]);
		if (con[i] >= 0)
			close(con[i]);
		if (ev[i] >= 0)
			close(ev[i]);
	}
	if (mfd >= 0)
		close(mfd);
	if (inst->counters) {
		munmap(inst->counters, sizeof(struct vlab_counters));
		inst->counters = NULL;
	}
	inst->state = VLAB_STATE_FAILED;
	snprintf(inst->error, sizeof(inst->error), "%s", vlab_err_msg(err));
	return -1;
}

static void set_attr(struct vlab_instance *inst, const char *key, const char *value)
{
	for (size_t i = 0; i < inst->nattrs; i++)
		if (!strcmp(inst->attrs[i].key, key)) {
			char *v = strdup(value);
			if (v) {
				free(inst->attrs[i].value);
				inst->attrs[i].value = v;
			}
			return;
		}
	if (inst->nattrs == VLAB_MAX_ATTRS)
		return;
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return;
	}
	inst->attrs[inst->nattrs].key = k;
	inst->attrs[inst->nattrs].value = v;
	inst->nattrs++;
}

/* One event line: "phase NAME NS", "attr KEY VALUE", "log TEXT", "error TEXT". */
static void handle_event(struct vlab_instance *inst, char *line)
{
	char *sp = strchr(line, ' ');
	if (!sp)
		return;
	*sp = '\0';
	char *rest = sp + 1;
	if (!strcmp(line, "phase")) {
		char *nsp = strrchr(rest, ' ');
		if (!nsp || inst->nphases == VLAB_MAX_PHASES)
			return;
		*nsp = '\0';
		unsigned long long ns = strtoull(nsp + 1, NULL, 10);
		struct vlab_phase *p = &inst->phases[inst->nphases++];
		snprintf(p->name, sizeof(p->name), "%s", rest);
		p->ns = ns > inst->t0_ns ? ns - inst->t0_ns : 0;
	} else if (!strcmp(line, "attr")) {
		char *vsp = strchr(rest, ' ');
		if (!vsp)
			return;
		*vsp = '\0';
		set_attr(inst, rest, vsp + 1);
	} else if (!strcmp(line, "error")) {
		snprintf(inst->error, sizeof(inst->error), "%s", rest);
	}
	/* "log" lines are shown by front ends through their own event reader
	 * in a later version; they are accepted and dropped here. */
}

static void drain_events(struct vlab_instance *inst)
{
	if (inst->event_fd < 0)
		return;
	for (;;) {
		char *line;
		int overlong;
		while ((line = vlab_lines_next(&inst->event_in, &overlong)))
			handle_event(inst, line);
		if (inst->event_in.eof)
			return;
		ssize_t n = vlab_lines_fill(&inst->event_in, inst->event_fd, NULL);
		if (n <= 0)
			return;
	}
}

/* Reaps the process if it has ended.  Returns 1 when it has. */
static int reap(struct vlab_instance *inst, int block)
{
	if (inst->pid <= 0)
		return 1;
	int status;
	pid_t r;
	do
		r = waitpid(inst->pid, &status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	drain_events(inst);
	inst->exit_status = r > 0 ? status : 0;
	inst->pid = 0;
	if (inst->pidfd >= 0) {
		close(inst->pidfd);
		inst->pidfd = -1;
	}
	if (inst->state != VLAB_STATE_FAILED)
		inst->state = VLAB_STATE_EXITED;
	sweep(inst->engine);
	return 1;
}

static void describe_exit(const struct vlab_instance *inst, char *buf, size_t len)
{
	int st = inst->exit_status;
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

int vlab_instance_pump(struct vlab_instance *inst, struct vlab_err *err)
{
	(void)err;
	drain_events(inst);
	if (inst->pid > 0)
		reap(inst, 0);
	return 0;
}

static int died(struct vlab_instance *inst, const char *when, struct vlab_err *err)
{
	char how[128];
	reap(inst, 1);
	describe_exit(inst, how, sizeof(how));
	/* The instance's own words, without strerror(ECHILD) after them.  It
	 * stopped, whichever of its channel's end and its exit was seen first. */
	if (inst->error[0])
		vlab_err_set(err, 0, "%s stopped: %s", inst->spec.name, inst->error);
	else
		vlab_err_set(err, 0, "%s %s: instance process %s", inst->spec.name, when, how);
	if (err)
		err->code = ECHILD;
	return -1;
}

/* Waits for a control line matching accept(); events and death handled. */
static int wait_control(struct vlab_instance *inst, int timeout_ms,
			int (*accept)(const char *line, const void *arg), const void *arg,
			char **out, struct vlab_err *err)
{
	uint64_t deadline = vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int exited = 0;
	for (;;) {
		char *line;
		int overlong;
		while ((line = vlab_lines_next(&inst->control_in, &overlong)))
			if (accept(line, arg)) {
				*out = line;
				return 0;
			}
		if (overlong)
			return vlab_err_set(err, EMSGSIZE, "%s: agent line over %u bytes",
					    inst->spec.name, CONTROL_LINE_MAX);
		if (exited)
			return died(inst, "stopped", err);
		if (inst->control_in.eof)
			return died(inst, "closed its control channel", err);
		uint64_t now = vlab_now_ns();
		if (now >= deadline)
			return vlab_err_set(err, ETIMEDOUT, "%s: no answer from the agent within %d ms",
					    inst->spec.name, timeout_ms);
		/* (An event channel at its end would make poll return at
		 * once, again and again: a busy loop on the CPU the agent
		 * needs.  The host's agent closes it at its exec.) */
		struct pollfd pfd[3] = {
			{.fd = vlab_instance_event_fd(inst), .events = POLLIN},
			{.fd = inst->control_fd, .events = POLLIN},
			{.fd = inst->pidfd, .events = POLLIN},
		};
		int ms = (int)((deadline - now + 999999) / 1000000);
		int r = poll(pfd, 3, ms);
		if (r < 0 && errno != EINTR)
			return vlab_err_set(err, errno, "poll");
		if (r <= 0)
			continue;
		if (pfd[0].revents)
			drain_events(inst);
		if (pfd[2].revents) {
			/* Ended: take what it left on the control channel, then
			 * give up once that is scanned. */
			while (vlab_lines_fill(&inst->control_in, inst->control_fd, NULL) > 0)
				;
			exited = 1;
		} else if (pfd[1].revents) {
			if (vlab_lines_fill(&inst->control_in, inst->control_fd, err) < 0)
				return -1;
		}
	}
}

static int is_ready(const char *line, const void *arg)
{
	(void)arg;
	return !strncmp(line, "READY", 5) && (line[5] == ' ' || line[5] == '\0');
}

int vlab_instance_wait_ready(struct vlab_instance *inst, int timeout_ms, struct vlab_err *err)
{
	if (inst->state == VLAB_STATE_RUNNING)
		return 0;
	if (inst->state != VLAB_STATE_STARTING)
		return vlab_err_set(err, EINVAL, "%s is %s", inst->spec.name,
				    vlab_state_name(inst->state));
	char *line;
	if (wait_control(inst, timeout_ms, is_ready, NULL, &line, err) < 0) {
		if (err && err->code != ETIMEDOUT) {
			inst->state = inst->pid > 0 ? inst->state : VLAB_STATE_FAILED;
			snprintf(inst->error, sizeof(inst->error), "%s", vlab_err_msg(err));
		}
		return -1;
	}
	inst->startup_ns = vlab_now_ns() - inst->t0_ns;
	char *copy = strdup(line);
	if (copy) {
		free(inst->ready_line);
		inst->ready_line = copy;
	}
	inst->state = VLAB_STATE_RUNNING;
	drain_events(inst);
	return 0;
}

struct id_match {
	char prefix[32];
	size_t len;
};

static int has_id(const char *line, const void *arg)
{
	const struct id_match *m = arg;
	return !strncmp(line, m->prefix, m->len);
}

int vlab_instance_request(struct vlab_instance *inst, const char *req, const char **resp,
			  int timeout_ms, struct vlab_err *err)
{
	if (inst->state != VLAB_STATE_RUNNING)
		return vlab_err_set(err, EINVAL, "%s is %s, not running", inst->spec.name,
				    vlab_state_name(inst->state));
	if (strchr(req, '\n'))
		return vlab_err_set(err, EINVAL, "request has a newline");
	struct id_match m;
	unsigned long id = ++inst->next_id;
	m.len = (size_t)snprintf(m.prefix, sizeof(m.prefix), "%lu ", id);
	size_t len = m.len + strlen(req) + 1;
	char *msg = malloc(len + 1);
	if (!msg)
		return vlab_err_set(err, ENOMEM, "request");
	snprintf(msg, len + 1, "%s%s\n", m.prefix, req);
	int r = vlab_write_all(inst->control_fd, msg, len, timeout_ms, err);
	free(msg);
	if (r < 0)
		return vlab_err_prefix(err, "%s: send request", inst->spec.name);
	char *line;
	if (wait_control(inst, timeout_ms, has_id, &m, &line, err) < 0)
		return -1;
	char *copy = strdup(line + m.len);
	if (!copy)
		return vlab_err_set(err, ENOMEM, "response");
	free(inst->resp);
	inst->resp = copy;
	*resp = copy;
	return 0;
}

int vlab_instance_stop(struct vlab_instance *inst, int grace_ms, struct vlab_err *err)
{
	(void)err;
	if (inst->pid <= 0) {
		drain_events(inst);
		return 0;
	}
	inst->state = VLAB_STATE_STOPPING;
	if (grace_ms > 0 && kill(inst->pid, SIGTERM) == 0) {
		uint64_t deadline = vlab_now_ns() + (uint64_t)grace_ms * 1000000ull;
		while (!reap(inst, 0)) {
			uint64_t now = vlab_now_ns();
			if (now >= deadline)
				break;
			struct pollfd pfd = {.fd = inst->pidfd, .events = POLLIN};
			poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
		}
	}
	if (inst->pid > 0) {
		kill(inst->pid, SIGKILL);
		reap(inst, 1);
	}
	return 0;
}

void vlab_instance_free(struct vlab_instance *inst)
{
	if (!inst)
		return;
	vlab_instance_stop(inst, 0, NULL);
	if (inst->control_fd >= 0)
		close(inst->control_fd);
	if (inst->console_fd >= 0)
		close(inst->console_fd);
	if (inst->event_fd >= 0)
		close(inst->event_fd);
	if (inst->counters)
		munmap(inst->counters, sizeof(struct vlab_counters));
	if (inst->counters_fd >= 0)
		close(inst->counters_fd);
	for (size_t i = 0; i < inst->nattrs; i++) {
		free(inst->attrs[i].key);
		free(inst->attrs[i].value);
	}
	vlab_lines_free(&inst->control_in);
	vlab_lines_free(&inst->event_in);
	vlab_spec_free(&inst->spec);
	free(inst->ready_line);
	free(inst->resp);
	free(inst);
}
