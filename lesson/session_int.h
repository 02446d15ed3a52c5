/* lesson/session_int.h: the session's insides, shared by session.c (the
 * lab, the workbook, actions), session_io.c (the runner's messages, the
 * event queue, the watchdog) and session_inst.c (instances, consoles).  Not for front ends. */
#ifndef VLAB_LESSON_SESSION_INT_H
#define VLAB_LESSON_SESSION_INT_H

#include <jansson.h>

#include "core/paths.h"
#include "lesson/ipc.h"
#include "lesson/session.h"

#define CONSOLE_RING (64u << 10)
#define WATCHDOG_GRACE_MS 5000 /* after the action's own limit + the runner's alarm */
#define LOAD_WAIT_MS 10000

enum action_op { ACT_RUN, ACT_CHECK, ACT_ANSWER, ACT_KEY };

struct action {
	enum action_op op;
	size_t item;
	int replay; /* re-run an earlier step's run() to restore state */
	int check;
	int grading; /* answer re-scored by the grader: no attempt counted */
	char *answer;
	int seq;
};

struct sinst {
	struct lesson_instance pub;
	void *map; /* counters page, read-only */
	char *ring; /* console tail */
	size_t ring_start, ring_len;
};

struct sevent {
	struct lesson_event ev;
	char *text;
	char *data;
	json_t *chart_json;
	struct lesson_chart chart;
	struct lesson_bar *bars;
};

struct lesson_session {
	char lab_path[VLAB_PATH_MAX];
	char wb_path[VLAB_PATH_MAX];
	int no_workbook, read_only;

	/* The runner. */
	pid_t runner;
	int sock;
	struct lesson_ipc_rx rx;
	int *ran_here; /* per item: its run() ran in this runner */

	/* The lab, from the first runner's description. */
	json_t *desc;
	struct lesson_lab_info info;
	struct lesson_item *items;
	struct lesson_item_state *states;
	unsigned *pending; /* per item: actions queued or in flight */

	json_t *wb;

	struct action *queue;
	size_t nqueue, capqueue;
	struct action inflight;
	int busy;
	uint64_t deadline_ns;
	int seq;

	struct sevent *events;
	size_t nevents, capevents;
	struct sevent current; /* the last one handed out */

	struct sinst **inst;
	size_t ninst;
};

/* session.c */
/* Queues answer to question i to be re-scored without counting an attempt
 * or touching the workbook (the grader). */
int lesson_session_regrade(struct lesson_session *s, size_t i, const char *answer,
			   struct vlab_err *err);
/* o[key] as a string, or def; *field replaced by a copy of value. */
const char *session_jstr(json_t *o, const char *key, const char *def);
void session_set_owned(const char **field, const char *value);
/* Starts a runner and takes (first time) or checks (later) the lab. */
int session_start_runner(struct lesson_session *s, struct vlab_err *err);
/* A runner is there (started when not), with the workbook's measurements. */
int session_ensure_runner(struct lesson_session *s, struct vlab_err *err);
enum lesson_status session_status_parse(const char *name);

/* session_book.c */
/* Opens (or starts) the workbook of s as o says and reads the items'
 * states from it. */
int session_open_workbook(struct lesson_session *s, const struct lesson_session_opts *o,
			  struct vlab_err *err);
int session_save(struct lesson_session *s, struct vlab_err *err);
/* The same, or a warning event saying why not. */
void session_save_or_warn(struct lesson_session *s);
/* A result or a measurement from the runner, into the states and the
 * workbook. */
void session_item_result(struct lesson_session *s, const struct action *a, const char *status,
			 const char *message, double score);
void session_record(struct lesson_session *s, int item, const char *name, double value,
		    const char *unit);

/* session_io.c */
/* Spawns a runner and waits for its lab message (*lab, caller frees). */
int session_spawn_runner(struct lesson_session *s, json_t **lab, struct vlab_err *err);
void session_stop_runner(struct lesson_session *s, int graceful);
void session_push(struct lesson_session *s, enum lesson_event_type type, int item, int instance,
		  const char *text);
void session_kick(struct lesson_session *s);
void session_drop_instances(struct lesson_session *s);
struct sevent *session_push_raw(struct lesson_session *s, enum lesson_event_type type, int item,
				int instance);

/* session_inst.c */
struct sinst *session_find_inst(const struct lesson_session *s, int id);
/* Reads what the console has (bounded), into the tail and CONSOLE events. */
void session_read_console(struct lesson_session *s, struct sinst *si);
/* An "instance" message with its descriptors (taken over or closed). */
void session_on_instance(struct lesson_session *s, json_t *m, int *fds, size_t nfds);
/* The runner ended: every instance it had is gone. */
void session_instances_gone(struct lesson_session *s);

#endif
