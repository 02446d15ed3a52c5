/* lesson/runner.c: the lab runner process: loads one lab in a fresh
 * sandbox and executes the front end's actions one at a time.
 *
 * Messages (JSON objects over lesson/ipc.h), front end -> runner:
 *   {"op":"init", "measurements":{name:{value,unit}}}   the workbook's
 *   {"op":"run", "seq":N, "item":I, "check":bool, "replay":bool}
 *   {"op":"check", "seq":N, "item":I}
 *   {"op":"answer", "seq":N, "item":I, "answer":"..."}
 *   {"op":"reply", ...}                     the answer to an "ask"
 *   {"op":"quit"}                           stop instances, exit
 * runner -> front end:
 *   {"t":"lab", "lab":{...}, "sha256":"..."} once loaded (see api_lab.c)
 *   {"t":"fatal", "message":"file:line: ..."} the lab does not load
 *   {"t":"begin", "seq", "item"}
 *   {"t":"print"|"chart"|"record"|"instance"|"progress", "item", ...} while
 *                                           it runs
 *   {"t":"ask", "what":"console", "id"}     wants a console's tail
 *   {"t":"done", "seq", "item", "status":"passed|failed|error|skipped",
 *    "message", "score", ["expected"]}
 *
 * Limits per action: the sandbox's count hook (instructions, deadline);
 * runner_guard.c's alarm for time spent inside one C function, which
 * reports the lab position and exits (the instances die with the runner);
 * RLIMIT_CPU as the last backstop. */
#include "lesson/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <lauxlib.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/paths.h"
#include "lesson/api.h"
#include "lesson/ipc.h"
#include "lesson/sandbox.h"

#define LOAD_TIMEOUT_MS 5000


struct runner {
	int fd;
	struct lesson_sandbox *sb;
	lua_State *L;
	struct lesson_api api;
	int lab;         /* stack index of the lab table */
	json_t *desc;    /* the lab's description */
	json_t *pending; /* messages that arrived while waiting for a reply */
	struct lesson_ipc_rx rx;
	int dead;        /* the front end is gone */
};


static void send_msg(struct runner *r, json_t *m, const int *fds, size_t nfds)
{
	if (r->dead)
		return;
	if (lesson_ipc_send(r->fd, m, fds, nfds, -1, NULL) < 0)
		r->dead = 1;
}

static void host_emit(void *arg, json_t *msg, const int *fds, size_t nfds)
{
	send_msg(arg, msg, fds, nfds);
}

static json_t *host_ask(void *arg, json_t *msg)
{
	struct runner *r = arg;
	send_msg(r, msg, NULL, 0);
	while (!r->dead) {
		json_t *m;
		int fds[LESSON_IPC_MAXFDS];
		size_t nfds;
		if (lesson_ipc_recv(r->fd, &r->rx, &m, fds, &nfds, 10000, NULL) <= 0)
			return NULL;
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		const char *op = json_string_value(json_object_get(m, "op"));
		if (op && !strcmp(op, "reply"))
			return m;
		json_array_append_new(r->pending, m);
	}
	return NULL;
}

static void arm(struct runner *r, int seq, int item, int timeout_ms)
{
	lesson_sandbox_arm(r->sb, 0, vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull);
	lesson_runner_guard_arm(seq, item, timeout_ms);
}

static void disarm(struct runner *r)
{
	lesson_runner_guard_disarm();
	lesson_sandbox_disarm(r->sb);
}

/* ---- actions ---- */

static json_t *item_desc(struct runner *r, int i)
{
	return json_array_get(json_object_get(r->desc, "items"), (size_t)i);
}

/* Calls item[field](state) if it is a function.  Returns 1 when called
 * and fine (results left on the stack: ok, msg), 0 when absent, -1 with
 * err on error. */
static int call_field(struct runner *r, int item, const char *field, struct vlab_err *err)
{
	lua_State *L = r->L;
	if (lua_getfield(L, item, field) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return 0;
	}
	lua_getfield(L, LUA_REGISTRYINDEX, "lesson.state");
	return lesson_sandbox_pcall(r->sb, 1, 2, err) < 0 ? -1 : 1;
}

static void finish(struct runner *r, int seq, int item, const char *status, const char *message,
		   double score, json_t *extra)
{
	json_t *m = json_pack("{s:s, s:i, s:i, s:s, s:o, s:f}", "t", "done", "seq", seq, "item",
			      item, "status", status, "message",
			      lesson_json_text(message, strlen(message)), "score", score);
	if (extra)
		json_object_update(m, extra);
	send_msg(r, m, NULL, 0);
	json_decref(m);
}

static void error_status(struct runner *r, struct vlab_err *err, const char **status,
			 char *msg, size_t len)
{
	if (r->api.skipped) {
		*status = "skipped";
		snprintf(msg, len, "%s", r->api.skip_reason);
	} else {
		*status = "error";
		snprintf(msg, len, "%s", err->msg);
	}
}

static void do_step(struct runner *r, int seq, int i, int run, int check, int replay)
{
	lua_State *L = r->L;
	json_t *d = item_desc(r, i);
	double points = json_number_value(json_object_get(d, "points"));
	int timeout = (int)json_integer_value(json_object_get(d, "timeout_ms"));
	struct vlab_err err = {0};
	char msg[VLAB_ERR_MSG] = "";
	const char *status = "passed";

	lesson_lab_push_item(L, r->lab, i);
	int item = lua_gettop(L);
	lesson_api_begin(L, i, replay);
	arm(r, seq, i, timeout);
	int c = 0;
	if (run) {
		c = call_field(r, item, "run", &err);
		if (c < 0)
			error_status(r, &err, &status, msg, sizeof(msg));
		else if (r->api.skipped) /* skipped, the error caught by the lab */
			status = "skipped", snprintf(msg, sizeof(msg), "%s", r->api.skip_reason);
		lua_settop(L, item);
	}
	if (c >= 0 && check && !r->api.skipped) {
		c = call_field(r, item, "check", &err);
		if (c < 0) {
			error_status(r, &err, &status, msg, sizeof(msg));
		} else if (c == 0) {
			if (!run)
				status = "failed", snprintf(msg, sizeof(msg),
							    "this step has no check: run it");
		} else {
			int ok = lua_toboolean(L, -2);
			if (!lua_isnil(L, -1))
				snprintf(msg, sizeof(msg), "%s", luaL_tolstring(L, -1, NULL));
			else if (!ok)
				snprintf(msg, sizeof(msg), "the check did not pass");
			status = r->api.skipped ? "skipped" : ok ? "passed" : "failed";
			if (r->api.skipped)
				snprintf(msg, sizeof(msg), "%s", r->api.skip_reason);
		}
		lua_settop(L, item);
	}
	disarm(r);
	lua_settop(L, item - 1);
	finish(r, seq, i, status, msg, !strcmp(status, "passed") ? points : 0, NULL);
}

/* The answer the lab itself holds right for question i (on the stack as
 * item), or NULL with why when it has none to offer (a pattern only, or a
 * measurement not made). */
static const char *answer_key(lua_State *L, int item, char *buf, size_t len, const char **why,
			      struct vlab_err *err)
{
	lua_getfield(L, item, "qkind");
	const char *kind = lua_tostring(L, -1);
	lua_pop(L, 1);
	*why = NULL;
	if (kind && !strcmp(kind, "choice")) {
		lua_getfield(L, item, "right");
		lua_pushnil(L);
		int pick = lua_next(L, -2) ? (int)lua_tointeger(L, -2) : 0;
		lua_settop(L, item);
		snprintf(buf, len, "%d", pick);
		return buf;
	}
	if (kind && !strcmp(kind, "numeric")) {
		double v;
		if (lua_getfield(L, item, "expected") == LUA_TFUNCTION) {
			lua_getfield(L, LUA_REGISTRYINDEX, "lesson.measurements");
			lua_getfield(L, LUA_REGISTRYINDEX, "lesson.state");
			if (lesson_sandbox_pcall(lesson_sandbox_of(L), 2, 1, err) < 0)
				return NULL;
			if (!lua_isnumber(L, -1)) {
				lua_settop(L, item);
				*why = "its expected value needs measurements this run did not make";
				return NULL;
			}
		} else {
			lua_pop(L, 1);
			lua_getfield(L, item, "answer");
		}
		v = lua_tonumber(L, -1);
		lua_settop(L, item);
		snprintf(buf, len, "%.17g", v);
		return buf;
	}
	if (lua_getfield(L, item, "accept") == LUA_TTABLE && lua_geti(L, -1, 1) == LUA_TSTRING) {
		snprintf(buf, len, "%s", lua_tostring(L, -1));
		lua_settop(L, item);
		return buf;
	}
	lua_settop(L, item);
	*why = "it accepts a pattern only";
	return NULL;
}

/* vlab check's self-test: the lab's own answer key must score. */
static void do_answer_key(struct runner *r, int seq, int i)
{
	lua_State *L = r->L;
	json_t *d = item_desc(r, i);
	double points = json_number_value(json_object_get(d, "points"));
	int timeout = (int)json_integer_value(json_object_get(d, "timeout_ms"));
	struct vlab_err err = {0};
	char key[128], msg[VLAB_ERR_MSG + 200] = "";
	const char *why;
	lesson_lab_push_item(L, r->lab, i);
	int item = lua_gettop(L);
	lesson_api_begin(L, i, 0);
	arm(r, seq, i, timeout);
	const char *a = answer_key(L, item, key, sizeof(key), &why, &err);
	int correct = 0, has_exp = 0, rc = 0;
	double expected = 0;
	if (a)
		rc = lesson_question_score(L, a, &correct, &expected, &has_exp, msg, sizeof(msg),
					   &err);
	disarm(r);
	lua_settop(L, r->lab);
	if (!a && !why) {
		finish(r, seq, i, "error", err.msg, 0, NULL);
	} else if (!a) {
		snprintf(msg, sizeof(msg), "answer key not tried: %s", why);
		finish(r, seq, i, "skipped", msg, 0, NULL);
	} else if (rc < 0) {
		finish(r, seq, i, "error", err.msg, 0, NULL);
	} else {
		char m2[sizeof(msg) + 160];
		snprintf(m2, sizeof(m2), "the lab's own answer '%s' %s", a,
			 correct ? "is accepted" : "is REJECTED: check the question's answer fields");
		finish(r, seq, i, correct ? "passed" : "failed", m2, correct ? points : 0, NULL);
	}
}

static void do_answer(struct runner *r, int seq, int i, const char *answer)
{
	lua_State *L = r->L;
	json_t *d = item_desc(r, i);
	double points = json_number_value(json_object_get(d, "points"));
	int timeout = (int)json_integer_value(json_object_get(d, "timeout_ms"));
	struct vlab_err err = {0};
	char msg[VLAB_ERR_MSG] = "";
	lesson_lab_push_item(L, r->lab, i);
	lesson_api_begin(L, i, 0);
	arm(r, seq, i, timeout);
	int correct = 0, has_exp = 0;
	double expected = 0;
	int rc = lesson_question_score(L, answer, &correct, &expected, &has_exp, msg, sizeof(msg),
				       &err);
	disarm(r);
	lua_settop(L, r->lab);
	json_t *extra = has_exp && isfinite(expected) ? json_pack("{s:f}", "expected", expected)
						      : NULL;
	if (rc < 0)
		finish(r, seq, i, "error", err.msg, 0, NULL);
	else
		finish(r, seq, i, correct ? "passed" : "failed", msg, correct ? points : 0, extra);
	json_decref(extra);
}

/* Handles one message; returns 1 on quit. */
static int handle(struct runner *r, json_t *m)
{
	const char *op = json_string_value(json_object_get(m, "op"));
	int seq = (int)json_integer_value(json_object_get(m, "seq"));
	json_t *ji = json_object_get(m, "item");
	int i = (int)json_integer_value(ji);
	size_t n = json_array_size(json_object_get(r->desc, "items"));
	if (!op)
		return 0;
	if (!strcmp(op, "quit"))
		return 1;
	if (!strcmp(op, "init")) {
		lesson_api_set_measurements(r->L, json_object_get(m, "measurements"));
		json_t *base = json_object_get(m, "instance_base");
		if (json_is_integer(base) && json_integer_value(base) > r->api.next_instance)
			r->api.next_instance = (int)json_integer_value(base);
		return 0;
	}
	if (!json_is_integer(ji) || i < 0 || (size_t)i >= n) {
		finish(r, seq, i, "error", "no such item", 0, NULL);
		return 0;
	}
	const char *kind = json_string_value(json_object_get(item_desc(r, i), "kind"));
	int is_step = kind && !strcmp(kind, "step");
	if (!strcmp(op, "run") && is_step) {
		do_step(r, seq, i, 1, json_is_true(json_object_get(m, "check")),
			json_is_true(json_object_get(m, "replay")));
	} else if (!strcmp(op, "check") && is_step) {
		do_step(r, seq, i, 0, 1, 0);
	} else if (!strcmp(op, "answer_key") && !is_step) {
		do_answer_key(r, seq, i);
	} else if (!strcmp(op, "answer") && !is_step) {
		const char *a = json_string_value(json_object_get(m, "answer"));
		do_answer(r, seq, i, a ? a : "");
	} else {
		finish(r, seq, i, "error", "this action does not apply to this item", 0, NULL);
	}
	return 0;
}

/* "file:N" where N is the last line with code of the chunk at idx. */
static void chunk_end(lua_State *L, int idx, const char *name, char *buf, size_t len)
{
	lua_Debug ar;
	int last = 1;
	lua_pushvalue(L, idx);
	if (lua_getinfo(L, ">L", &ar)) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pop(L, 1);
			if (lua_tointeger(L, -1) > last)
				last = (int)lua_tointeger(L, -1);
		}
		lua_pop(L, 1);
	}
	snprintf(buf, len, "%s:%d", name, last);
}

static int load_lab(struct runner *r, const char *path, struct vlab_err *err)
{
	char sha[65] = "";
	if (lesson_sandbox_loadfile(r->sb, path, path, sha, err) < 0)
		return -1;
	char end[VLAB_PATH_MAX + 16];
	chunk_end(r->L, -1, path, end, sizeof(end));
	lesson_api_begin(r->L, -1, 0);
	arm(r, -1, -1, LOAD_TIMEOUT_MS);
	int rc = lesson_sandbox_pcall(r->sb, 0, 1, err);
	disarm(r);
	if (rc < 0)
		return -1;
	r->desc = lesson_lab_describe(r->L, end, err);
	if (!r->desc)
		return -1;
	r->lab = lua_gettop(r->L);
	json_t *m = json_pack("{s:s, s:O, s:s, s:s}", "t", "lab", "lab", r->desc, "sha256", sha,
			      "path", path);
	send_msg(r, m, NULL, 0);
	json_decref(m);
	return 0;
}

int lesson_runner_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"lab", required_argument, NULL, 'l'},
		{"parent", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *lab = NULL;
	pid_t parent = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'l')
			lab = optarg;
		else if (c == 'p')
			parent = (pid_t)atoi(optarg);
		else
			return 2;
	}
	int type = 0;
	socklen_t tl = sizeof(type);
	if (!lab || getsockopt(LESSON_RUNNER_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr, "vlab __lab-runner is started by vlab itself, not by hand\n");
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (parent && getppid() != parent))
		return 1;
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	signal(SIGPIPE, SIG_IGN);

	struct runner r = {.fd = LESSON_RUNNER_FD};
	struct vlab_err err = {0};
	int status = 0;
	lesson_ipc_rx_init(&r.rx);
	r.pending = json_array();
	r.api.host.arg = &r;
	r.api.host.emit = host_emit;
	r.api.host.ask = host_ask;
	if (lesson_sandbox_new(0, &r.sb, &err) < 0)
		goto fatal;
	lesson_runner_guard_install(r.sb);
	r.L = lesson_sandbox_state(r.sb);
	lesson_api_open(r.L, &r.api);
	if (load_lab(&r, lab, &err) < 0)
		goto fatal;
	for (int quit = 0; !quit && !r.dead;) {
		json_t *m;
		if (json_array_size(r.pending)) {
			m = json_incref(json_array_get(r.pending, 0));
			json_array_remove(r.pending, 0);
		} else {
			int fds[LESSON_IPC_MAXFDS];
			size_t nfds;
			if (lesson_ipc_recv(r.fd, &r.rx, &m, fds, &nfds, -1, &err) <= 0)
				break;
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
		}
		quit = handle(&r, m);
		json_decref(m);
	}
	goto out;
fatal: {
	json_t *m = json_pack("{s:s, s:o}", "t", "fatal", "message",
			      lesson_json_text(err.msg, strlen(err.msg)));
	send_msg(&r, m, NULL, 0);
	json_decref(m);
	status = 1;
}
out:
	if (r.L)
		lesson_api_close_instances(r.L);
	lesson_sandbox_free(r.sb);
	json_decref(r.desc);
	json_decref(r.pending);
	lesson_ipc_rx_free(&r.rx);
	return status;
}
