/* lesson/session.c: the front end's side of a lab (see session.h): the
 * lab's items and the actions queued for the runner.  The workbook is in
 * session_book.c; the runner's messages, instances and events in
 * session_io.c and session_inst.c. */
#include "lesson/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "lesson/catalog.h"
#include "lesson/session_int.h"
#include "lesson/workbook.h"

static const char *const status_names[] = {"todo", "running", "passed",
					   "failed", "error", "skipped"};

const char *lesson_status_name(enum lesson_status st)
{
	return (unsigned)st < sizeof(status_names) / sizeof(status_names[0]) ? status_names[st] : "?";
}

enum lesson_status session_status_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(name, status_names[i]) && i != LESSON_RUNNING)
			return (enum lesson_status)i;
	return LESSON_TODO;
}

const char *session_jstr(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

void session_set_owned(const char **field, const char *value)
{
	free((char *)*field);
	*field = value ? strdup(value) : NULL;
}

/* ---- the lab's items, from the runner's description ---- */

static const char *const *string_list(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	const char **v = calloc(*n + 1, sizeof(char *));
	for (size_t i = 0; v && i < *n; i++)
		v[i] = json_string_value(json_array_get(a, i)) ? json_string_value(json_array_get(a, i))
							       : "";
	if (!v)
		*n = 0;
	return v;
}

static int build_items(struct lesson_session *s, const char *sha, struct vlab_err *err)
{
	json_t *d = s->desc;
	json_t *items = json_object_get(d, "items");
	size_t n = json_array_size(items);
	s->info.id = session_jstr(d, "id", "");
	s->info.title = session_jstr(d, "title", "");
	s->info.version = session_jstr(d, "version", "1");
	s->info.intro = session_jstr(d, "intro", "");
	s->info.path = s->lab_path;
	json_object_set_new(d, "sha256", json_string(sha));
	s->info.sha256 = session_jstr(d, "sha256", "");
	s->info.nitems = n;
	s->items = calloc(n, sizeof(*s->items));
	s->states = calloc(n, sizeof(*s->states));
	s->pending = calloc(n, sizeof(*s->pending));
	s->ran_here = calloc(n, sizeof(*s->ran_here));
	if (!s->items || !s->states || !s->pending || !s->ran_here)
		return vlab_err_set(err, ENOMEM, "lab items");
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(items, i);
		struct lesson_item *it = &s->items[i];
		int step = !strcmp(session_jstr(o, "kind", "step"), "step");
		it->kind = step ? LESSON_STEP : LESSON_QUESTION;
		const char *qk = session_jstr(o, "qkind", "");
		it->qkind = step ? LESSON_Q_NONE
			  : !strcmp(qk, "choice")  ? LESSON_Q_CHOICE
			  : !strcmp(qk, "numeric") ? LESSON_Q_NUMERIC
						   : LESSON_Q_TEXT;
		it->id = session_jstr(o, "id", "");
		it->title = session_jstr(o, "title", "");
		it->text = session_jstr(o, "text", "");
		it->points = json_number_value(json_object_get(o, "points"));
		it->hints = string_list(json_object_get(o, "hints"), &it->nhints);
		it->choices = string_list(json_object_get(o, "choices"), &it->nchoices);
		it->has_run = json_is_true(json_object_get(o, "run"));
		it->has_check = json_is_true(json_object_get(o, "check"));
		it->unit = session_jstr(o, "unit", "");
		it->timeout_ms = (int)json_integer_value(json_object_get(o, "timeout_ms"));
		it->where = session_jstr(o, "where", "");
		s->info.max_points += it->points;
		s->states[i].message = strdup("");
	}
	return 0;
}

/* The measurements as the runner wants them. */
static void send_init(struct lesson_session *s)
{
	if (s->sock < 0)
		return;
	json_t *m = json_object_get(s->wb, "measurements");
	/* Instance ids stay unique across runners. */
	int base = 0;
	for (size_t i = 0; i < lesson_session_instance_count(s); i++)
		if (lesson_session_instance_at(s, i)->id > base)
			base = lesson_session_instance_at(s, i)->id;
	/* The student's answers so far: labs compare predictions with
	 * measurements (vlab.answer). */
	json_t *answers = json_object();
	const char *id;
	json_t *it;
	json_object_foreach(json_object_get(s->wb, "items"), id, it)
	{
		json_t *a = json_object_get(it, "answer");
		if (json_is_string(a))
			json_object_set(answers, id, a);
	}
	json_t *msg = json_pack("{s:s, s:O, s:i, s:o}", "op", "init", "measurements",
				m ? m : json_object(), "instance_base", base, "answers", answers);
	lesson_ipc_send(s->sock, msg, NULL, 0, 2000, NULL);
	json_decref(msg);
}

int lesson_session_open(const struct lesson_session_opts *o, struct lesson_session **out,
			struct vlab_err *err)
{
	/* A vlab killed earlier may have left its instances' cgroups, lab
	 * network or scratch disks behind: cleared once per process. */
	static int swept;
	if (!swept++)
		vlab_sweep_all(NULL);
	struct lesson_session *s = calloc(1, sizeof(*s));
	if (!s)
		return vlab_err_set(err, ENOMEM, "session");
	s->sock = -1;
	s->no_workbook = o->no_workbook;
	s->read_only = o->read_only;
	lesson_ipc_rx_init(&s->rx);
	if (lesson_catalog_find(o->lab, s->lab_path, sizeof(s->lab_path), err) < 0 ||
	    session_start_runner(s, err) < 0 || session_open_workbook(s, o, err) < 0) {
		lesson_session_free(s);
		return -1;
	}
	send_init(s);
	*out = s;
	return 0;
}

void lesson_session_free(struct lesson_session *s)
{
	if (!s)
		return;
	session_stop_runner(s, 1);
	session_drop_instances(s);
	for (size_t i = 0; i < s->nqueue; i++)
		free(s->queue[i].answer);
	free(s->queue);
	free(s->inflight.answer);
	struct lesson_event ev;
	while (lesson_session_next_event(s, &ev))
		;
	lesson_session_next_event(s, &ev); /* frees the last one handed out */
	free(s->events);
	for (size_t i = 0; s->items && i < s->info.nitems; i++) {
		free((void *)s->items[i].hints);
		free((void *)s->items[i].choices);
		free((char *)s->states[i].message);
		free((char *)s->states[i].answer);
	}
	free(s->items);
	free(s->states);
	free(s->pending);
	free(s->ran_here);
	json_decref(s->desc);
	json_decref(s->wb);
	lesson_ipc_rx_free(&s->rx);
	free(s);
}

const struct lesson_lab_info *lesson_session_lab(const struct lesson_session *s)
{
	return &s->info;
}

const struct lesson_item *lesson_session_item(const struct lesson_session *s, size_t i)
{
	return i < s->info.nitems ? &s->items[i] : NULL;
}

const struct lesson_item_state *lesson_session_state(const struct lesson_session *s, size_t i)
{
	static struct lesson_item_state running;
	if (i >= s->info.nitems)
		return NULL;
	if (!s->pending[i])
		return &s->states[i];
	running = s->states[i];
	running.status = LESSON_RUNNING;
	return &running;
}

size_t lesson_session_resume_point(const struct lesson_session *s)
{
	for (size_t i = 0; i < s->info.nitems; i++)
		if (s->states[i].status != LESSON_PASSED && s->states[i].status != LESSON_SKIPPED)
			return i;
	return s->info.nitems;
}

double lesson_session_score(const struct lesson_session *s)
{
	double sum = 0;
	for (size_t i = 0; i < s->info.nitems; i++)
		sum += s->states[i].score;
	return sum;
}

const char *lesson_session_workbook_path(const struct lesson_session *s)
{
	return s->no_workbook && !s->read_only ? "" : s->wb_path;
}

int lesson_session_busy(const struct lesson_session *s)
{
	return s->busy ? (int)s->inflight.item : -1;
}

size_t lesson_session_pending(const struct lesson_session *s)
{
	return s->nqueue + (s->busy ? 1 : 0);
}

/* ---- actions ---- */

static int enqueue(struct lesson_session *s, const struct action *a, struct vlab_err *err)
{
	if (s->nqueue == s->capqueue) {
		size_t cap = s->capqueue ? s->capqueue * 2 : 8;
		struct action *q = realloc(s->queue, cap * sizeof(*q));
		if (!q)
			return vlab_err_set(err, ENOMEM, "queue");
		s->queue = q;
		s->capqueue = cap;
	}
	s->queue[s->nqueue] = *a;
	if (a->answer && !(s->queue[s->nqueue].answer = strdup(a->answer)))
		return vlab_err_set(err, ENOMEM, "answer");
	s->nqueue++;
	s->pending[a->item]++;
	return 0;
}

static int check_index(const struct lesson_session *s, size_t i, enum lesson_item_kind kind,
		       struct vlab_err *err)
{
	if (i >= s->info.nitems)
		return vlab_err_set(err, EINVAL, "no item %zu (the lab has %zu)", i, s->info.nitems);
	if (s->items[i].kind != kind)
		return vlab_err_set(err, EINVAL, "'%s' is not a %s", s->items[i].id,
				    kind == LESSON_STEP ? "step" : "question");
	return 0;
}

int session_start_runner(struct lesson_session *s, struct vlab_err *err)
{
	json_t *lab;
	if (session_spawn_runner(s, &lab, err) < 0)
		return -1;
	const char *sha = session_jstr(lab, "sha256", "");
	int r = 0;
	if (!s->desc) {
		s->desc = json_incref(json_object_get(lab, "lab"));
		r = build_items(s, sha, err);
	} else if (strcmp(sha, s->info.sha256)) {
		session_stop_runner(s, 0);
		r = vlab_err_set(err, ESTALE, "%s changed since it was opened: open the lab again",
				 s->lab_path);
	}
	json_decref(lab);
	return r;
}

int session_ensure_runner(struct lesson_session *s, struct vlab_err *err)
{
	if (s->sock >= 0)
		return 0;
	if (session_start_runner(s, err) < 0)
		return -1;
	send_init(s);
	return 0;
}

static int queue_step(struct lesson_session *s, size_t i, int run, struct vlab_err *err)
{
	if (check_index(s, i, LESSON_STEP, err) < 0 || session_ensure_runner(s, err) < 0)
		return -1;
	/* A fresh runner has none of the lab's state: replay the run() of the
	 * earlier steps that ran before, in order. */
	for (size_t j = 0; j < i; j++) {
		int queued = 0;
		for (size_t k = 0; k < s->nqueue; k++)
			queued |= s->queue[k].item == j && s->queue[k].op == ACT_RUN;
		queued |= s->busy && s->inflight.item == j && s->inflight.op == ACT_RUN;
		if (s->items[j].kind != LESSON_STEP || !s->items[j].has_run || s->ran_here[j] ||
		    queued ||
		    (s->states[j].status != LESSON_PASSED && s->states[j].status != LESSON_FAILED))
			continue;
		struct action r = {.op = ACT_RUN, .item = j, .replay = 1};
		if (enqueue(s, &r, err) < 0)
			return -1;
	}
	struct action a = {.op = run ? ACT_RUN : ACT_CHECK, .item = i, .check = 1};
	if (enqueue(s, &a, err) < 0)
		return -1;
	session_kick(s);
	return 0;
}

int lesson_session_run(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	return queue_step(s, i, 1, err);
}

int lesson_session_check(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	return queue_step(s, i, 0, err);
}

int lesson_session_regrade(struct lesson_session *s, size_t i, const char *answer,
			   struct vlab_err *err)
{
	if (check_index(s, i, LESSON_QUESTION, err) < 0 || session_ensure_runner(s, err) < 0)
		return -1;
	struct action a = {.op = ACT_ANSWER, .item = i, .answer = (char *)answer, .grading = 1};
	if (enqueue(s, &a, err) < 0)
		return -1;
	session_kick(s);
	return 0;
}

int lesson_session_answer_key(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (check_index(s, i, LESSON_QUESTION, err) < 0 || session_ensure_runner(s, err) < 0)
		return -1;
	struct action a = {.op = ACT_KEY, .item = i, .grading = 1};
	if (enqueue(s, &a, err) < 0)
		return -1;
	session_kick(s);
	return 0;
}

int lesson_session_answer(struct lesson_session *s, size_t i, const char *answer,
			  struct vlab_err *err)
{
	if (check_index(s, i, LESSON_QUESTION, err) < 0)
		return -1;
	if (!answer || strlen(answer) > 1000 || strchr(answer, '\n'))
		return vlab_err_set(err, EINVAL, "an answer is one line of at most 1000 characters");
	if (session_ensure_runner(s, err) < 0)
		return -1;
	/* Saved before it is scored: a crash loses nothing typed. */
	char now[32];
	lesson_iso8601(vlab_wall_ns(), now);
	json_t *it = lesson_workbook_item(s->wb, s->items[i].id, 1);
	json_object_set_new(it, "answer", json_string(answer));
	json_object_set_new(it, "updated", json_string(now));
	session_set_owned(&s->states[i].answer, answer);
	session_save_or_warn(s);
	struct action a = {.op = ACT_ANSWER, .item = i, .answer = (char *)answer};
	if (enqueue(s, &a, err) < 0)
		return -1;
	session_kick(s);
	return 0;
}

const char *lesson_session_hint(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (i >= s->info.nitems) {
		vlab_err_set(err, EINVAL, "no item %zu", i);
		return NULL;
	}
	struct lesson_item_state *st = &s->states[i];
	if (st->hints_used >= s->items[i].nhints) {
		vlab_err_set(err, ENOENT, s->items[i].nhints ? "no more hints" : "no hints here");
		return NULL;
	}
	st->hints_used++;
	json_t *it = lesson_workbook_item(s->wb, s->items[i].id, 1);
	json_object_set_new(it, "hints_used", json_integer(st->hints_used));
	session_save_or_warn(s);
	return s->items[i].hints[st->hints_used - 1];
}

int lesson_session_reset(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (i >= s->info.nitems)
		return vlab_err_set(err, EINVAL, "no item %zu", i);
	json_object_del(json_object_get(s->wb, "items"), s->items[i].id);
	struct lesson_item_state *st = &s->states[i];
	st->status = LESSON_TODO;
	st->score = 0;
	st->attempts = st->hints_used = 0;
	st->updated_ns = 0;
	session_set_owned(&st->message, "");
	session_set_owned(&st->answer, NULL);
	if (session_save(s, err) < 0)
		return -1;
	session_push(s, LESSON_EV_RESULT, (int)i, -1, NULL);
	return 0;
}

int lesson_session_cancel(struct lesson_session *s, struct vlab_err *err)
{
	(void)err;
	for (size_t k = 0; k < s->nqueue; k++) {
		s->pending[s->queue[k].item]--;
		session_push(s, LESSON_EV_RESULT, (int)s->queue[k].item, -1, NULL);
		free(s->queue[k].answer);
	}
	s->nqueue = 0;
	if (s->busy) {
		struct action a = s->inflight;
		s->busy = 0;
		session_item_result(s, &a, "error", "cancelled: the lab runner and its instances "
						    "were stopped",
				    0);
		free(a.answer);
		s->inflight.answer = NULL;
	}
	session_stop_runner(s, 0);
	return 0;
}
