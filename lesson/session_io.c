/* lesson/session_io.c: the session's event loop side: the runner's
 * messages (runner.c lists them), the watchdog, and the event queue front
 * ends drain (instances and consoles: session_inst.c). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "lesson/runner.h"
#include "lesson/session_int.h"

/* ---- events ---- */

struct sevent *session_push_raw(struct lesson_session *s, enum lesson_event_type type, int item,
			       int instance)
{
	if (s->nevents == s->capevents) {
		size_t cap = s->capevents ? s->capevents * 2 : 32;
		struct sevent *e = realloc(s->events, cap * sizeof(*e));
		if (!e)
			return NULL;
		s->events = e;
		s->capevents = cap;
	}
	struct sevent *e = &s->events[s->nevents++];
	memset(e, 0, sizeof(*e));
	e->ev.type = type;
	e->ev.item = item;
	e->ev.instance = instance;
	return e;
}

void session_push(struct lesson_session *s, enum lesson_event_type type, int item, int instance,
		  const char *text)
{
	struct sevent *e = session_push_raw(s, type, item, instance);
	if (e && text)
		e->text = strdup(text);
}

static void free_sevent(struct sevent *e)
{
	free(e->text);
	free(e->data);
	free(e->bars);
	json_decref(e->chart_json);
	memset(e, 0, sizeof(*e));
}

int lesson_session_next_event(struct lesson_session *s, struct lesson_event *ev)
{
	free_sevent(&s->current);
	if (!s->nevents)
		return 0;
	s->current = s->events[0];
	memmove(s->events, s->events + 1, (s->nevents - 1) * sizeof(*s->events));
	s->nevents--;
	struct sevent *c = &s->current;
	*ev = c->ev;
	ev->text = c->text;
	ev->data = c->data;
	ev->chart = c->chart_json ? &c->chart : NULL;
	if (c->chart_json)
		c->chart.bars = c->bars;
	return 1;
}

static double num_or_nan(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void push_chart(struct lesson_session *s, int item, json_t *chart)
{
	json_t *bars = json_object_get(chart, "bars");
	size_t n = json_array_size(bars);
	struct sevent *e = session_push_raw(s, LESSON_EV_CHART, item, -1);
	if (!e)
		return;
	e->bars = calloc(n ? n : 1, sizeof(*e->bars));
	if (!e->bars) {
		s->nevents--;
		return;
	}
	e->chart_json = json_incref(chart);
	const char *t = json_string_value(json_object_get(chart, "title"));
	const char *u = json_string_value(json_object_get(chart, "unit"));
	e->chart.title = t ? t : "";
	e->chart.unit = u ? u : "";
	e->chart.lower_is_better = json_is_true(json_object_get(chart, "lower_is_better"));
	e->chart.nbars = n;
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_array_get(bars, i);
		const char *l = json_string_value(json_object_get(b, "label"));
		const char *note = json_string_value(json_object_get(b, "note"));
		e->bars[i].label = l ? l : "";
		e->bars[i].note = note ? note : "";
		e->bars[i].value = num_or_nan(json_object_get(b, "value"));
		e->bars[i].min = num_or_nan(json_object_get(b, "min"));
		e->bars[i].max = num_or_nan(json_object_get(b, "max"));
		e->bars[i].runs = (unsigned)json_integer_value(json_object_get(b, "runs"));
	}
}

/* ---- the runner ---- */

static void describe_status(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
}

/* Reaps the runner (after its socket closed or it was killed); returns how it ended. */
static void reap_runner(struct lesson_session *s, char *how, size_t len)
{
	int st = 0;
	snprintf(how, len, "ended");
	if (s->runner > 0) {
		pid_t r;
		do
			r = waitpid(s->runner, &st, 0);
		while (r < 0 && errno == EINTR);
		if (r == s->runner)
			describe_status(st, how, len);
	}
	s->runner = 0;
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	lesson_ipc_rx_free(&s->rx);
	lesson_ipc_rx_init(&s->rx);
	if (s->ran_here)
		memset(s->ran_here, 0, s->info.nitems * sizeof(*s->ran_here));
	session_instances_gone(s);
}

void session_stop_runner(struct lesson_session *s, int graceful)
{
	if (s->sock < 0 && s->runner <= 0)
		return;
	if (graceful && s->sock >= 0) {
		json_t *q = json_pack("{s:s}", "op", "quit");
		lesson_ipc_send(s->sock, q, NULL, 0, 1000, NULL);
		json_decref(q);
		/* It stops its instances (a grace period each), then exits. */
		uint64_t deadline = vlab_now_ns() + 8000ull * 1000000ull;
		while (vlab_now_ns() < deadline) {
			json_t *m;
			int fds[LESSON_IPC_MAXFDS];
			size_t nfds;
			int r = lesson_ipc_recv(s->sock, &s->rx, &m, fds, &nfds, 200, NULL);
			if (r < 0)
				break;
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
			json_decref(m);
		}
	}
	if (s->runner > 0)
		kill(s->runner, SIGKILL);
	char how[128];
	reap_runner(s, how, sizeof(how));
}

int session_spawn_runner(struct lesson_session *s, json_t **lab, struct vlab_err *err)
{
	*lab = NULL;
	if (lesson_runner_spawn(s->lab_path, &s->runner, &s->sock, err) < 0)
		return -1;
	json_t *m = NULL;
	int fds[LESSON_IPC_MAXFDS];
	size_t nfds = 0;
	int r = lesson_ipc_recv(s->sock, &s->rx, &m, fds, &nfds, LOAD_WAIT_MS, err);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	const char *t = m ? json_string_value(json_object_get(m, "t")) : NULL;
	if (r == 1 && t && !strcmp(t, "lab")) {
		*lab = m;
		return 0;
	}
	char how[128];
	if (r == 1 && t && !strcmp(t, "fatal")) {
		vlab_err_set(err, 0, "%s", json_string_value(json_object_get(m, "message")));
		err->code = EBADMSG;
	} else if (r == 0) {
		vlab_err_set(err, ETIMEDOUT, "%s: the lab did not load within %d s", s->lab_path,
			     LOAD_WAIT_MS / 1000);
	}
	json_decref(m);
	kill(s->runner, SIGKILL);
	reap_runner(s, how, sizeof(how));
	if (r < 0)
		vlab_err_set(err, ECHILD, "%s: the lab runner stopped while loading the lab (%s)",
			     s->lab_path, how);
	return -1;
}

static void reply_console(struct lesson_session *s, json_t *m)
{
	int id = (int)json_integer_value(json_object_get(m, "id"));
	char *buf = malloc(CONSOLE_RING);
	size_t n = 0;
	struct sinst *si = session_find_inst(s, id);
	if (buf && si) {
		session_read_console(s, si);
		n = lesson_session_console_tail(s, id, buf, CONSOLE_RING);
	}
	json_t *r = json_pack("{s:s, s:o}", "op", "reply", "data",
			      lesson_json_text(buf ? buf : "", n));
	free(buf);
	lesson_ipc_send(s->sock, r, NULL, 0, 2000, NULL);
	json_decref(r);
}

static void on_message(struct lesson_session *s, json_t *m, int *fds, size_t nfds)
{
	const char *t = json_string_value(json_object_get(m, "t"));
	json_t *ji = json_object_get(m, "item");
	int item = json_is_integer(ji) ? (int)json_integer_value(ji) : -1;
	if (item >= (int)s->info.nitems)
		item = -1;
	if (!t)
		t = "";
	if (!strcmp(t, "instance")) {
		session_on_instance(s, m, fds, nfds);
		return;
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (!strcmp(t, "print")) {
		session_push(s, LESSON_EV_OUTPUT, item, -1,
			     json_string_value(json_object_get(m, "text")));
	} else if (!strcmp(t, "progress")) {
		session_push(s, LESSON_EV_PROGRESS, item, -1,
			     json_string_value(json_object_get(m, "text")));
	} else if (!strcmp(t, "begin")) {
		session_push(s, LESSON_EV_STARTED, item, -1, NULL);
	} else if (!strcmp(t, "chart")) {
		push_chart(s, item, json_object_get(m, "chart"));
	} else if (!strcmp(t, "record")) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *unit = json_string_value(json_object_get(m, "unit"));
		if (name && !s->read_only)
			session_record(s, item, name, json_number_value(json_object_get(m, "value")),
				       unit ? unit : "");
	} else if (!strcmp(t, "ask")) {
		reply_console(s, m);
	} else if (!strcmp(t, "done")) {
		int seq = (int)json_integer_value(json_object_get(m, "seq"));
		if (!s->busy || seq != s->inflight.seq)
			return;
		struct action a = s->inflight;
		s->busy = 0;
		s->inflight.answer = NULL;
		const char *st = json_string_value(json_object_get(m, "status"));
		const char *msg = json_string_value(json_object_get(m, "message"));
		session_item_result(s, &a, st ? st : "error", msg ? msg : "",
				    json_number_value(json_object_get(m, "score")));
		free(a.answer);
		if (json_is_true(json_object_get(m, "fatal"))) {
			/* The runner ends right after this (its alarm): take it down
			 * now, so its instances are seen gone at once. */
			char how[128];
			if (s->runner > 0)
				kill(s->runner, SIGKILL);
			reap_runner(s, how, sizeof(how));
		}
	}
}

/* The runner's socket closed: it died (or was killed). */
static void runner_gone(struct lesson_session *s)
{
	char how[128], msg[400];
	if (s->runner > 0)
		kill(s->runner, SIGKILL);
	reap_runner(s, how, sizeof(how));
	if (s->busy) {
		struct action a = s->inflight;
		s->busy = 0;
		s->inflight.answer = NULL;
		snprintf(msg, sizeof(msg), "%s: the lab runner stopped while this ran (%s)",
			 s->items[a.item].where, how);
		session_item_result(s, &a, "error", msg, 0);
		free(a.answer);
	}
	session_push(s, LESSON_EV_WARNING, -1, -1,
		     "The lab runner stopped; its instances are gone. The next step you run "
		     "starts a fresh one (re-running the earlier steps' actions).");
}

void session_kick(struct lesson_session *s)
{
	while (!s->busy && s->nqueue) {
		struct vlab_err err = {0};
		if (s->sock < 0 && session_ensure_runner(s, &err) < 0) {
			/* Nothing can run: every queued action fails with the reason. */
			while (s->nqueue) {
				struct action a = s->queue[0];
				memmove(s->queue, s->queue + 1, --s->nqueue * sizeof(*s->queue));
				session_item_result(s, &a, "error", err.msg, 0);
				free(a.answer);
			}
			return;
		}
		struct action a = s->queue[0];
		memmove(s->queue, s->queue + 1, --s->nqueue * sizeof(*s->queue));
		a.seq = ++s->seq;
		json_t *m;
		if (a.op == ACT_ANSWER)
			m = json_pack("{s:s, s:i, s:i, s:s}", "op", "answer", "seq", a.seq, "item",
				      (int)a.item, "answer", a.answer ? a.answer : "");
		else if (a.op == ACT_KEY)
			m = json_pack("{s:s, s:i, s:i}", "op", "answer_key", "seq", a.seq, "item",
				      (int)a.item);
		else
			m = json_pack("{s:s, s:i, s:i, s:b, s:b}", "op",
				      a.op == ACT_RUN ? "run" : "check", "seq", a.seq, "item",
				      (int)a.item, "check", a.check, "replay", a.replay);
		int r = lesson_ipc_send(s->sock, m, NULL, 0, 2000, &err);
		json_decref(m);
		s->inflight = a;
		s->busy = 1;
		int limit = s->items[a.item].timeout_ms > 0 ? s->items[a.item].timeout_ms : 120000;
		s->deadline_ns = vlab_now_ns() + (uint64_t)(limit + 2000 + WATCHDOG_GRACE_MS) * 1000000ull;
		if (r < 0)
			runner_gone(s);
	}
}

static void watchdog(struct lesson_session *s)
{
	if (!s->busy || vlab_now_ns() < s->deadline_ns)
		return;
	char how[128], msg[600];
	struct action a = s->inflight;
	s->busy = 0;
	s->inflight.answer = NULL;
	if (s->runner > 0)
		kill(s->runner, SIGKILL);
	reap_runner(s, how, sizeof(how));
	snprintf(msg, sizeof(msg),
		 "%s: stopped: '%s' did not finish within its time limit (%d s); the lab "
		 "runner and its instances were stopped",
		 s->items[a.item].where, s->items[a.item].title, s->items[a.item].timeout_ms / 1000);
	session_item_result(s, &a, "error", msg, 0);
	free(a.answer);
}

int lesson_session_dispatch(struct lesson_session *s, struct vlab_err *err)
{
	(void)err;
	for (int n = 0; s->sock >= 0 && n < 256; n++) {
		json_t *m;
		int fds[LESSON_IPC_MAXFDS];
		size_t nfds;
		int r = lesson_ipc_recv(s->sock, &s->rx, &m, fds, &nfds, 0, NULL);
		if (r == 0)
			break;
		if (r < 0) {
			runner_gone(s);
			break;
		}
		on_message(s, m, fds, nfds);
		json_decref(m);
	}
	for (size_t i = 0; i < s->ninst; i++) {
		struct sinst *si = s->inst[i];
		session_read_console(s, si);
		if (si->pub.pidfd >= 0) {
			struct pollfd p = {.fd = si->pub.pidfd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0) {
				close(si->pub.pidfd);
				si->pub.pidfd = -1;
				si->pub.pid = 0;
				if (si->pub.state != VLAB_STATE_FAILED)
					si->pub.state = VLAB_STATE_EXITED;
				session_push(s, LESSON_EV_INSTANCE, -1, si->pub.id,
					     vlab_state_name(si->pub.state));
			}
		}
	}
	watchdog(s);
	session_kick(s);
	return 0;
}

size_t lesson_session_pollfds(const struct lesson_session *s, struct pollfd *fds, size_t max)
{
	size_t n = 0;
#define ADD(f)                                                                                     \
	do {                                                                                       \
		if ((f) >= 0) {                                                                    \
			if (n < max)                                                               \
				fds[n] = (struct pollfd){.fd = (f), .events = POLLIN};             \
			n++;                                                                       \
		}                                                                                  \
	} while (0)
	ADD(s->sock);
	for (size_t i = 0; i < s->ninst; i++) {
		ADD(s->inst[i]->pub.console_fd);
		ADD(s->inst[i]->pub.pidfd);
	}
#undef ADD
	return n;
}

int lesson_session_timeout_ms(const struct lesson_session *s)
{
	if (!s->busy)
		return -1;
	uint64_t now = vlab_now_ns();
	return now >= s->deadline_ns ? 0 : (int)((s->deadline_ns - now + 999999) / 1000000);
}

int lesson_session_wait(struct lesson_session *s, int timeout_ms,
			void (*on_event)(const struct lesson_event *ev, void *arg), void *arg,
			struct vlab_err *err)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		if (lesson_session_dispatch(s, err) < 0)
			return -1;
		struct lesson_event ev;
		while (lesson_session_next_event(s, &ev))
			if (on_event)
				on_event(&ev, arg);
		if (!s->busy && !s->nqueue)
			return 0;
		int ms = lesson_session_timeout_ms(s);
		if (deadline) {
			uint64_t now = vlab_now_ns();
			if (now >= deadline)
				return vlab_err_set(err, ETIMEDOUT, "the lab is still busy");
			int left = (int)((deadline - now + 999999) / 1000000);
			if (ms < 0 || left < ms)
				ms = left;
		}
		struct pollfd fds[64];
		size_t n = lesson_session_pollfds(s, fds, 64);
		poll(fds, n > 64 ? 64 : n, ms < 0 || ms > 1000 ? 1000 : ms);
	}
}
