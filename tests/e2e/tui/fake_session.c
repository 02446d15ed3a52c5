/* tests/e2e/tui/fake_session.c: a scripted stand-in for the lesson session
 * (lesson/session.h, lesson/catalog.h), linked before libvlab.a into
 * build/tests/e2e/tui-fake, so the TUI's own robustness (layout, resize,
 * colours, signals, a flooding console, latency) is tested apart from the
 * Lua runtime.  Its instances are real: host-engine processes started with
 * vlab_instance_*.  Progress is kept in $XDG_STATE_HOME/vlab/fake.progress
 * so a restart resumes.  FAKE_FLOOD=1 makes the instance flood its console. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "core/paths.h"
#include "lesson/catalog.h"
#include "lesson/session.h"
#include "tui/tui.h"

#define NITEMS 4

static const char *const choices[] = {"its own kernel", "the host's kernel"};
static const char *const hints0[] = {"Press r.", "Really: press r."};

static const struct lesson_item items[NITEMS] = {
    {.kind = LESSON_STEP,
     .id = "start",
     .title = "Start an instance",
     .text = "# Start an instance\n\nAn *instance* is a process tree; press `r` to start one "
	     "called **box**.\n\n- it prints to its console\n- you can type into it",
     .points = 1,
     .nhints = 2,
     .hints = hints0,
     .has_run = 1,
     .has_check = 1,
     .unit = "",
     .where = "fake:1"},
    {.kind = LESSON_STEP,
     .id = "measure",
     .title = "Measure startup",
     .text = "Measure how long the instance takes to start, three times.",
     .points = 1,
     .has_run = 1,
     .unit = "",
     .where = "fake:2"},
    {.kind = LESSON_QUESTION,
     .qkind = LESSON_Q_CHOICE,
     .id = "kernel",
     .title = "Which kernel?",
     .text = "Which kernel does a container run on?",
     .points = 1,
     .nchoices = 2,
     .choices = choices,
     .unit = "",
     .where = "fake:3"},
    {.kind = LESSON_QUESTION,
     .qkind = LESSON_Q_NUMERIC,
     .id = "startup",
     .title = "How long?",
     .text = "How many milliseconds did the start take (median)?",
     .points = 1,
     .unit = "ms",
     .where = "fake:4"},
};

struct fake_item {
	struct lesson_item_state st;
	char msg[256];
	char answer[256];
};

struct lesson_session {
	struct lesson_lab_info info;
	char path[VLAB_PATH_MAX], progress[VLAB_PATH_MAX];
	struct fake_item it[NITEMS];
	int busy;	 /* item in flight, -1 */
	uint64_t due_ns; /* when the in-flight action completes */
	int measure_step;
	struct vlab_instance *vi;
	struct lesson_instance li;
	int have_inst;
	struct lesson_event q[64];
	char qtext[64][256];
	char con[65536];
	size_t nq, qhead;
	struct lesson_bar bars[2];
	struct lesson_chart chart;
};

static void save(struct lesson_session *s)
{
	char tmp[VLAB_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->progress);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	for (int i = 0; i < NITEMS; i++)
		fprintf(f, "%d %u %s\n", (int)s->it[i].st.status, s->it[i].st.hints_used,
			s->it[i].answer[0] ? s->it[i].answer : "-");
	fclose(f);
	rename(tmp, s->progress);
}

static void load(struct lesson_session *s)
{
	FILE *f = fopen(s->progress, "r");
	if (!f)
		return;
	for (int i = 0; i < NITEMS; i++) {
		int st;
		unsigned h;
		char a[256];
		if (fscanf(f, "%d %u %255s", &st, &h, a) != 3)
			break;
		s->it[i].st.status = st == LESSON_RUNNING ? LESSON_TODO : (enum lesson_status)st;
		s->it[i].st.hints_used = h;
		if (strcmp(a, "-")) {
			snprintf(s->it[i].answer, sizeof(s->it[i].answer), "%s", a);
			s->it[i].st.answer = s->it[i].answer;
		}
	}
	fclose(f);
}

static void push(struct lesson_session *s, enum lesson_event_type t, int item, const char *text)
{
	if (s->nq == 64)
		return;
	size_t k = (s->qhead + s->nq++) % 64;
	memset(&s->q[k], 0, sizeof(s->q[k]));
	s->q[k].type = t;
	s->q[k].item = item;
	s->q[k].instance = t == LESSON_EV_INSTANCE || t == LESSON_EV_CONSOLE ? 1 : -1;
	snprintf(s->qtext[k], sizeof(s->qtext[k]), "%s", text ? text : "");
	s->q[k].text = s->qtext[k];
}

const char *lesson_status_name(enum lesson_status st)
{
	static const char *n[] = {"todo", "running", "passed", "failed", "error", "skipped"};
	return n[st];
}

int lesson_session_open(const struct lesson_session_opts *o, struct lesson_session **out,
			struct vlab_err *err)
{
	struct lesson_session *s = calloc(1, sizeof(*s));
	if (!s)
		return vlab_err_set(err, ENOMEM, "session");
	snprintf(s->path, sizeof(s->path), "%s", o->lab);
	s->info = (struct lesson_lab_info){.id = "fake",
					   .title = "A fake lab for the TUI tests",
					   .version = "1",
					   .intro = "",
					   .path = s->path,
					   .sha256 = "",
					   .nitems = NITEMS,
					   .max_points = 4};
	char dir[VLAB_PATH_MAX];
	if (vlab_state_dir(dir, sizeof(dir), err) < 0 || vlab_mkdir_p(dir, 0700, err) < 0) {
		free(s);
		return -1;
	}
	snprintf(s->progress, sizeof(s->progress), "%s/fake.progress", dir);
	for (int i = 0; i < NITEMS; i++)
		s->it[i].st.message = s->it[i].msg;
	load(s);
	s->busy = -1;
	*out = s;
	return 0;
}

void lesson_session_free(struct lesson_session *s)
{
	if (!s)
		return;
	if (s->vi) {
		vlab_instance_stop(s->vi, 2000, NULL);
		vlab_instance_free(s->vi);
	}
	free(s);
}

const struct lesson_lab_info *lesson_session_lab(const struct lesson_session *s)
{
	return &s->info;
}
const struct lesson_item *lesson_session_item(const struct lesson_session *s, size_t i)
{
	(void)s;
	return i < NITEMS ? &items[i] : NULL;
}
const struct lesson_item_state *lesson_session_state(const struct lesson_session *s, size_t i)
{
	return i < NITEMS ? &s->it[i].st : NULL;
}
size_t lesson_session_resume_point(const struct lesson_session *s)
{
	size_t i = 0;
	while (i < NITEMS && s->it[i].st.status == LESSON_PASSED)
		i++;
	return i;
}
double lesson_session_score(const struct lesson_session *s)
{
	(void)s;
	return 0;
}
const char *lesson_session_workbook_path(const struct lesson_session *s)
{
	return s->progress;
}

static int start_action(struct lesson_session *s, size_t i, uint64_t ms)
{
	s->busy = (int)i;
	s->it[i].st.status = LESSON_RUNNING;
	s->due_ns = vlab_now_ns() + ms * 1000000ull;
	push(s, LESSON_EV_STARTED, (int)i, NULL);
	return 0;
}

int lesson_session_run(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (i >= NITEMS || items[i].kind != LESSON_STEP)
		return vlab_err_set(err, EINVAL, "item %zu is not a step", i + 1);
	if (s->busy >= 0)
		return vlab_err_set(err, EBUSY, "busy");
	if (i == 0 && !s->vi) {
		struct vlab_spec spec;
		vlab_spec_init(&spec, "host", "box", err);
		const char *flood = getenv("FAKE_FLOOD");
		vlab_spec_set(
		    &spec, "sh",
		    flood && *flood
			? "echo booting >&2; echo READY vlab-agent/1 fake; "
			  "while :; do echo 'flood flood flood flood flood flood' >&2; done"
			: "echo booting... >&2; sleep 0.5; echo 'console line 1' >&2; "
			  "echo READY vlab-agent/1 fake; "
			  "while read -r l <&2; do echo \"you typed: $l\" >&2; done",
		    err);
		if (vlab_instance_create(&spec, &s->vi, err) < 0 ||
		    vlab_instance_start(s->vi, err) < 0)
			return -1;
		vlab_spec_free(&spec);
		vlab_fd_nonblock(vlab_instance_console_fd(s->vi), 1, NULL);
		s->li = (struct lesson_instance){.id = 1,
						 .name = "box",
						 .engine = "host",
						 .backend = "native",
						 .state = VLAB_STATE_STARTING};
		s->li.pid = vlab_instance_pid(s->vi);
		s->li.console_fd = vlab_instance_console_fd(s->vi);
		s->li.pidfd = vlab_instance_pidfd(s->vi);
		s->li.counters = vlab_instance_counters(s->vi);
		s->have_inst = 1;
		push(s, LESSON_EV_INSTANCE, -1, NULL);
	}
	s->measure_step = 0;
	return start_action(s, i, i == 1 ? 1500 : 800);
}

int lesson_session_check(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (s->busy >= 0)
		return vlab_err_set(err, EBUSY, "busy");
	return start_action(s, i, 100);
}

int lesson_session_answer(struct lesson_session *s, size_t i, const char *a, struct vlab_err *err)
{
	if (i >= NITEMS || items[i].kind != LESSON_QUESTION)
		return vlab_err_set(err, EINVAL, "not a question");
	snprintf(s->it[i].answer, sizeof(s->it[i].answer), "%s", a);
	s->it[i].st.answer = s->it[i].answer;
	s->it[i].st.status = (i == 2 && !strcmp(a, "2")) || i == 3 ? LESSON_PASSED : LESSON_FAILED;
	save(s);
	push(s, LESSON_EV_RESULT, (int)i, NULL);
	return 0;
}

const char *lesson_session_hint(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	if (i >= NITEMS || s->it[i].st.hints_used >= items[i].nhints) {
		vlab_err_set(err, ENOENT, "no more hints");
		return NULL;
	}
	save(s);
	return items[i].hints[s->it[i].st.hints_used++];
}

int lesson_session_reset(struct lesson_session *s, size_t i, struct vlab_err *err)
{
	(void)err;
	memset(&s->it[i], 0, sizeof(s->it[i]));
	s->it[i].st.message = s->it[i].msg;
	save(s);
	return 0;
}
int lesson_session_cancel(struct lesson_session *s, struct vlab_err *err)
{
	(void)err;
	s->busy = -1;
	return 0;
}
int lesson_session_busy(const struct lesson_session *s)
{
	return s->busy;
}
size_t lesson_session_pending(const struct lesson_session *s)
{
	return s->busy >= 0;
}

ssize_t lesson_session_console_write(struct lesson_session *s, int id, const void *buf, size_t len,
				     struct vlab_err *err)
{
	if (id != 1 || !s->vi)
		return vlab_err_set(err, ENOENT, "no instance %d", id);
	ssize_t n = write(vlab_instance_console_fd(s->vi), buf, len);
	if (n < 0)
		return vlab_err_set(err, errno, "console");
	return n;
}
size_t lesson_session_console_tail(const struct lesson_session *s, int id, char *buf, size_t len)
{
	(void)s, (void)id, (void)buf, (void)len;
	return 0;
}
size_t lesson_session_instance_count(const struct lesson_session *s)
{
	return (size_t)s->have_inst;
}
const struct lesson_instance *lesson_session_instance_at(const struct lesson_session *s, size_t i)
{
	return i == 0 && s->have_inst ? &s->li : NULL;
}
const struct lesson_instance *lesson_session_instance(const struct lesson_session *s, int id)
{
	return id == 1 && s->have_inst ? &s->li : NULL;
}
const char *lesson_instance_attr(const struct lesson_instance *li, const char *k)
{
	(void)li, (void)k;
	return NULL;
}

size_t lesson_session_pollfds(const struct lesson_session *s, struct pollfd *fds, size_t max)
{
	size_t n = 0;
	if (s->vi && max >= 3) {
		fds[n++] = (struct pollfd){.fd = vlab_instance_console_fd(s->vi), .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = vlab_instance_control_fd(s->vi), .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = vlab_instance_pidfd(s->vi), .events = POLLIN};
	}
	return n;
}

int lesson_session_timeout_ms(const struct lesson_session *s)
{
	if (s->busy < 0)
		return -1;
	uint64_t now = vlab_now_ns();
	return now >= s->due_ns ? 0 : (int)((s->due_ns - now) / 1000000ull);
}

static void finish(struct lesson_session *s)
{
	int i = s->busy;
	if (i == 1 && s->measure_step < 3) {
		char m[32];
		snprintf(m, sizeof(m), "startup run %d", ++s->measure_step);
		push(s, LESSON_EV_MEASURE, i, m);
		s->due_ns = vlab_now_ns() + 400000000ull;
		return;
	}
	if (i == 1) {
		s->bars[0] = (struct lesson_bar){"host", 0.9, 0.8, 1.3, 3, ""};
		s->bars[1] = (struct lesson_bar){"box", 3.1, 2.5, 4.0, 3, ""};
		s->chart = (struct lesson_chart){"startup", "ms", 1, 2, s->bars};
		push(s, LESSON_EV_CHART, i, NULL);
		s->q[(s->qhead + s->nq - 1) % 64].chart = &s->chart;
	}
	s->it[i].st.status = LESSON_PASSED;
	snprintf(s->it[i].msg, sizeof(s->it[i].msg), "%s",
		 i == 0 ? "box is running" : "measured 3 runs");
	s->busy = -1;
	save(s);
	push(s, LESSON_EV_OUTPUT, i, i == 0 ? "box started" : "startup measured");
	push(s, LESSON_EV_RESULT, i, NULL);
}

int lesson_session_dispatch(struct lesson_session *s, struct vlab_err *err)
{
	(void)err;
	if (s->vi) {
		int fd = vlab_instance_console_fd(s->vi);
		for (int k = 0; k < 4 && s->nq < 60; k++) {
			ssize_t n = read(fd, s->con, sizeof(s->con));
			if (n <= 0)
				break;
			push(s, LESSON_EV_CONSOLE, -1, NULL);
			struct lesson_event *e = &s->q[(s->qhead + s->nq - 1) % 64];
			/* Each console event owns a copy until taken. */
			char *copy = malloc((size_t)n);
			if (!copy)
				break;
			memcpy(copy, s->con, (size_t)n);
			e->data = copy;
			e->len = (size_t)n;
		}
		if (s->li.state == VLAB_STATE_STARTING &&
		    vlab_instance_wait_ready(s->vi, 1, NULL) == 0) {
			s->li.state = VLAB_STATE_RUNNING;
			s->li.startup_ns = vlab_instance_startup_ns(s->vi);
			push(s, LESSON_EV_INSTANCE, -1, NULL);
		}
		vlab_instance_pump(s->vi, NULL);
		if (vlab_instance_state(s->vi) == VLAB_STATE_EXITED &&
		    s->li.state != VLAB_STATE_EXITED) {
			s->li.state = VLAB_STATE_EXITED;
			push(s, LESSON_EV_INSTANCE, -1, NULL);
		}
	}
	if (s->busy >= 0 && vlab_now_ns() >= s->due_ns)
		finish(s);
	return 0;
}

static char *last_data;

int lesson_session_next_event(struct lesson_session *s, struct lesson_event *ev)
{
	free(last_data);
	last_data = NULL;
	if (!s->nq)
		return 0;
	*ev = s->q[s->qhead];
	if (ev->type == LESSON_EV_CONSOLE)
		last_data = (char *)ev->data;
	s->qhead = (s->qhead + 1) % 64;
	s->nq--;
	return 1;
}

int lesson_session_wait(struct lesson_session *s, int t,
			void (*cb)(const struct lesson_event *, void *), void *arg,
			struct vlab_err *err)
{
	(void)s, (void)t, (void)cb, (void)arg;
	return vlab_err_set(err, ENOSYS, "not in the fake");
}

int lesson_catalog_scan(struct lesson_catalog_entry **out, size_t *n, struct vlab_err *err)
{
	struct lesson_catalog_entry *e = calloc(2, sizeof(*e));
	if (!e)
		return vlab_err_set(err, ENOMEM, "catalog");
	snprintf(e[0].path, sizeof(e[0].path), "fake.lua");
	snprintf(e[0].id, sizeof(e[0].id), "fake");
	snprintf(e[0].title, sizeof(e[0].title), "A fake lab for the TUI tests");
	e[0].nitems = NITEMS;
	e[0].nsteps = 2;
	e[0].nquestions = 2;
	snprintf(e[1].path, sizeof(e[1].path), "broken.lua");
	snprintf(e[1].title, sizeof(e[1].title), "broken");
	snprintf(e[1].error, sizeof(e[1].error), "broken.lua:3: unexpected symbol near 'x'");
	e[1].own = 1;
	*out = e;
	*n = 2;
	return 0;
}

int lesson_catalog_find(const char *name, char *path, size_t len, struct vlab_err *err)
{
	(void)err;
	snprintf(path, len, "%s", name);
	return 0;
}

int main(int argc, char **argv)
{
	struct tui_opts o = {.lab = argc > 1 ? argv[1] : NULL};
	return tui_main(&o);
}
