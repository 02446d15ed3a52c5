/* lesson/session.h: what a front end (the TUI, `vlab run --headless`,
 * `vlab check`) uses to work through a lab: open a lab and its workbook,
 * read its steps and questions, run and check steps, answer questions,
 * reveal hints, and follow the instances the lab creates.
 *
 * Process and threading model
 * ---------------------------
 *   front end process (TUI / CLI)              lab-runner process
 *   +------------------------------+  socket  +----------------------------+
 *   | lesson_session (this API)    |<-------->| `vlab __lab-runner`        |
 *   |  - owns the workbook (writes |  pair,   |  - one fresh, sandboxed    |
 *   |    it atomically after every |  SEQ-    |    lua_State for the lab   |
 *   |    change)                   |  PACKET  |  - runs run()/check()/     |
 *   |  - queue of actions          |  + fds   |    expected() one at a time|
 *   |  - console fds, pidfds and   |  (SCM_   |  - owns the instances      |
 *   |    counter pages of every    |  RIGHTS) |    (vlab_instance_*): they |
 *   |    instance, received from   |          |    are its children and    |
 *   |    the runner                |          |    die with it             |
 *   +------------------------------+          +----------------------------+
 *
 * - Lab code never runs in the front end.  The session re-executes vlab as
 *   `vlab __lab-runner`, which loads the lab in a sandbox (see
 *   lesson/sandbox.h) and executes one action at a time.  A runaway lab
 *   cannot freeze the UI: the count hook stops Lua code, the runner's own
 *   alarm ends it when a C function overruns, and the session kills it
 *   (SIGKILL) on a wall-clock watchdog as the last resort.  A killed runner
 *   takes its instances with it (PR_SET_PDEATHSIG); the next action starts a
 *   fresh runner, which first replays the run() of the steps that ran before
 *   (without checks or measurements) so the lab's state comes back.
 * - The front end is single-threaded and so is this API: call it from one
 *   thread.  Only lesson_session_open() (waits for the lab to load, at most
 *   a few seconds), lesson_session_wait() (for headless use) and
 *   lesson_session_free() (stops the runner) block; every other call
 *   returns at once.  Put the descriptors from lesson_session_pollfds() in
 *   your poll() set, call lesson_session_dispatch() when any is readable or
 *   lesson_session_timeout_ms() has elapsed, then drain
 *   lesson_session_next_event() and redraw.
 * - Actions (run, check, answer) are queued and executed in order by the
 *   runner; hints, resets and console input take effect at once.
 * - Instances: when the lab creates one, the runner passes the session a
 *   duplicate of its console socket, a pidfd of its process and its counter
 *   page (memfd, mapped read-only here).  The session reads the consoles
 *   (so a chatty guest never blocks, even headless), keeps a scrollback tail
 *   and reports new bytes as LESSON_EV_CONSOLE; counters can be read live
 *   with vlab_counters_get() at any time; state changes arrive as
 *   LESSON_EV_INSTANCE.  The instance's event channel stays with the runner,
 *   which digests it (phases, attributes, errors) and forwards the result.
 *
 * Ownership: the session owns everything it returns; pointers into it stay
 * valid until the next lesson_session_dispatch() / lesson_session_next_event()
 * / action call unless said otherwise (lab and item descriptions stay valid
 * for the session's life). */
#ifndef VLAB_LESSON_SESSION_H
#define VLAB_LESSON_SESSION_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "engines/counters.h"
#include "engines/engine.h"

/* ---- what a lab is made of (fixed for the session) ---- */

enum lesson_item_kind {
	LESSON_STEP,     /* text + run() + check() */
	LESSON_QUESTION, /* a prompt the student answers */
};

enum lesson_qkind {
	LESSON_Q_NONE,    /* a step */
	LESSON_Q_CHOICE,  /* multiple choice: answer with the choice's number, 1-based */
	LESSON_Q_NUMERIC, /* a number, right within a tolerance */
	LESSON_Q_TEXT,    /* short text, matched as the lab says */
};

struct lesson_item {
	enum lesson_item_kind kind;
	enum lesson_qkind qkind;
	const char *id;    /* unique in the lab; the workbook's key */
	const char *title; /* short; for a question, the prompt's first line */
	const char *text;  /* step text or question prompt: light markup, see docs/lab-api.md */
	double points;     /* what it is worth (0 allowed) */
	size_t nhints;
	const char *const *hints;
	int has_run, has_check; /* steps */
	size_t nchoices;        /* LESSON_Q_CHOICE */
	const char *const *choices;
	const char *unit;  /* LESSON_Q_NUMERIC: "ms", "MiB" ... or "" */
	int timeout_ms;    /* wall-clock limit of one action on this item */
	const char *where; /* "labs/01-first-look.lua:42": where it is declared */
};

struct lesson_lab_info {
	const char *id, *title, *version;
	const char *intro;   /* text shown before the first item, may be "" */
	const char *path;    /* the lab file as opened */
	const char *sha256;  /* of the lab file, hex */
	size_t nitems;
	double max_points;
};

/* ---- the student's progress on one item (from the workbook) ---- */

enum lesson_status {
	LESSON_TODO,    /* not tried yet (or reset) */
	LESSON_RUNNING, /* an action on it is queued or in flight */
	LESSON_PASSED,  /* step: check passed; question: answered right */
	LESSON_FAILED,  /* step: check said no; question: answered wrong */
	LESSON_ERROR,   /* the lab code raised an error (message says where) */
	LESSON_SKIPPED, /* this host cannot run it (message says why) */
};

const char *lesson_status_name(enum lesson_status status);

struct lesson_item_state {
	enum lesson_status status;
	double score;        /* points earned so far */
	const char *message; /* check's message, error, or feedback; "" when none */
	const char *answer;  /* questions: the last answer given, NULL when none */
	unsigned attempts;   /* runs or answers */
	unsigned hints_used; /* hints revealed (hints[0 .. hints_used-1]) */
	uint64_t updated_ns; /* CLOCK_REALTIME of the last change, 0 never */
};

/* ---- instances the lab created ---- */

struct lesson_instance {
	int id;                /* stable for the session, never reused */
	char name[VLAB_NAME_MAX + 1];
	char engine[32];       /* "vm", "container", "unikernel", "host" */
	char backend[32];      /* attribute "backend": "kvm", "tcg", "native"... or "" */
	int emulated;          /* attribute "emulated" is "yes" */
	enum vlab_state state; /* as the runner last saw it */
	int gone;              /* the lab freed it (or the runner died); kept for display */
	pid_t pid;             /* instance process, 0 when none (for /proc readers) */
	uint64_t startup_ns;   /* create() to READY, 0 before READY */
	uint64_t image_bytes;  /* attribute "image_bytes", 0 when unknown */
	char error[VLAB_ERR_MSG];
	int console_fd;        /* owned by the session; -1 when none (write with console_write) */
	int pidfd;             /* owned by the session; readable when the process ended; -1 */
	const struct vlab_counters *counters; /* live, read-only; NULL when none */
	size_t nphases;
	struct vlab_phase phases[VLAB_MAX_PHASES];
	size_t nattrs;
	struct {
		char key[48];
		char value[208];
	} attrs[VLAB_MAX_ATTRS];
};

/* An attribute of inst, NULL when absent. */
const char *lesson_instance_attr(const struct lesson_instance *inst, const char *key);

/* ---- charts the lab draws (vlab.chart, vlab.compare) ---- */

struct lesson_bar {
	const char *label; /* "vm", "container", "host" ... */
	double value;      /* median (or the one value) */
	double min, max;   /* equal to value when there is one run */
	unsigned runs;     /* samples behind it, >= 1 */
	const char *note;  /* "emulated", "skipped: no KVM" ..., "" when none */
};

struct lesson_chart {
	const char *title;
	const char *unit;    /* "ms", "MiB", "MB/s" */
	int lower_is_better; /* 1 for times and sizes */
	size_t nbars;
	const struct lesson_bar *bars;
};

/* ---- events ---- */

enum lesson_event_type {
	LESSON_EV_OUTPUT,    /* text from the lab (vlab.print) or the runtime; item, text */
	LESSON_EV_STARTED,   /* an action began on item (state now RUNNING) */
	LESSON_EV_RESULT,    /* an action on item ended: read lesson_session_state() */
	LESSON_EV_CHART,     /* item, chart */
	LESSON_EV_INSTANCE,  /* instance appeared or changed: instance (its id); text
			      * is its state then ("created", "starting",
			      * "running", "exited", "failed") or "gone" */
	LESSON_EV_CONSOLE,   /* bytes from an instance's console: instance, data, len */
	LESSON_EV_MEASURE,   /* a measurement was recorded: text is its name */
	LESSON_EV_WARNING,   /* something the student should see: text (workbook
			      * kept aside, lab changed since the workbook, runner
			      * restarted...) */
	LESSON_EV_PROGRESS,  /* a long measurement moved on: item, text ("measuring
			      * vm: cpu (3/12)") */
};

struct lesson_event {
	enum lesson_event_type type;
	int item;     /* item index, -1 when none */
	int instance; /* instance id, -1 when none */
	const char *text;
	const char *data; /* LESSON_EV_CONSOLE */
	size_t len;
	const struct lesson_chart *chart; /* LESSON_EV_CHART */
};

/* ---- the session ---- */

struct lesson_session;

struct lesson_session_opts {
	const char *lab;      /* a lab file, or a lab id looked up in the labs folders */
	const char *workbook; /* NULL: $XDG_STATE_HOME/vlab/<lab id>.json */
	int fresh;            /* start a new workbook (the old one is kept aside) */
	int no_workbook;      /* keep progress in memory only (vlab check) */
	int read_only;        /* read the workbook, never write it (vlab grade) */
};

/* Starts a runner, loads the lab, opens (or creates) the workbook.  Blocks
 * until the lab is loaded.  A corrupt workbook is renamed aside (reported
 * as a LESSON_EV_WARNING), never overwritten.  Fails with the lab's own
 * error ("labs/x.lua:12: ...") when the lab does not load. */
int lesson_session_open(const struct lesson_session_opts *opts, struct lesson_session **out,
			struct vlab_err *err);

/* Stops the runner (and with it every instance, cleanly when it can, within
 * a few seconds), closes everything, frees. */
void lesson_session_free(struct lesson_session *s);

const struct lesson_lab_info *lesson_session_lab(const struct lesson_session *s);
const struct lesson_item *lesson_session_item(const struct lesson_session *s, size_t i);
const struct lesson_item_state *lesson_session_state(const struct lesson_session *s, size_t i);
/* Where to resume: the first item neither passed nor skipped (nitems when all are). */
size_t lesson_session_resume_point(const struct lesson_session *s);
/* Points earned so far (sum of item scores). */
double lesson_session_score(const struct lesson_session *s);
/* The workbook file ("" with no_workbook). */
const char *lesson_session_workbook_path(const struct lesson_session *s);

/* Queues run() then check() of step i.  Fails at once (with err) when i is
 * not a step. */
int lesson_session_run(struct lesson_session *s, size_t i, struct vlab_err *err);
/* Queues check() alone (nothing to run again). */
int lesson_session_check(struct lesson_session *s, size_t i, struct vlab_err *err);
/* Queues an answer to question i: choice: its number ("2"); numeric: a
 * number ("12.5"); text: the text.  Recorded in the workbook at once. */
int lesson_session_answer(struct lesson_session *s, size_t i, const char *answer,
			  struct vlab_err *err);
/* Lab authors' self-test (vlab check): queues question i answered with the
 * lab's own answer key, so the result says whether the key is accepted.
 * Not recorded as an attempt. */
int lesson_session_answer_key(struct lesson_session *s, size_t i, struct vlab_err *err);
/* Reveals the next hint of item i and records it; returns it, or NULL (err
 * set) when none is left. */
const char *lesson_session_hint(struct lesson_session *s, size_t i, struct vlab_err *err);
/* Forgets item i's result in the workbook (answers, status, hints used). */
int lesson_session_reset(struct lesson_session *s, size_t i, struct vlab_err *err);
/* Abandons what is queued and in flight: kills the runner and its
 * instances.  The next action starts a fresh runner. */
int lesson_session_cancel(struct lesson_session *s, struct vlab_err *err);
/* Index of the item whose action is in flight, -1 when idle. */
int lesson_session_busy(const struct lesson_session *s);
/* Actions queued or in flight. */
size_t lesson_session_pending(const struct lesson_session *s);

/* Writes to an instance's console (keystrokes into a VM serial console or
 * a container shell).  May write less than len when the guest is slow:
 * returns bytes written, or -1 with err. */
ssize_t lesson_session_console_write(struct lesson_session *s, int instance, const void *buf,
				     size_t len, struct vlab_err *err);
/* The last bytes (at most 64 KiB) of an instance's console, oldest first,
 * copied into buf; returns how many. */
size_t lesson_session_console_tail(const struct lesson_session *s, int instance, char *buf,
				   size_t len);

size_t lesson_session_instance_count(const struct lesson_session *s);
/* Instance number i (0 .. count-1, in creation order), NULL past the end. */
const struct lesson_instance *lesson_session_instance_at(const struct lesson_session *s, size_t i);
/* The instance with this id, NULL when unknown. */
const struct lesson_instance *lesson_session_instance(const struct lesson_session *s, int id);

/* ---- event loop ---- */

/* Fills fds (up to max) with the descriptors to poll for POLLIN; returns
 * how many were needed (may exceed max: call again with more room). */
size_t lesson_session_pollfds(const struct lesson_session *s, struct pollfd *fds, size_t max);
/* Milliseconds until dispatch() must run even without input (the
 * watchdog), -1 when nothing is pending. */
int lesson_session_timeout_ms(const struct lesson_session *s);
/* Reads what is ready (never blocks), enforces the watchdog, moves queued
 * actions on, and queues events.  -1 only when the session itself failed
 * (the workbook cannot be written: err says why; the UI should say so). */
int lesson_session_dispatch(struct lesson_session *s, struct vlab_err *err);
/* Takes the next event; 1 when ev was filled, 0 when none.  ev's pointers
 * stay valid until the next call. */
int lesson_session_next_event(struct lesson_session *s, struct lesson_event *ev);
/* Headless: dispatches until nothing is queued or in flight, or timeout_ms
 * passes (-1: no limit), calling on_event (may be NULL) for every event. */
int lesson_session_wait(struct lesson_session *s, int timeout_ms,
			void (*on_event)(const struct lesson_event *ev, void *arg), void *arg,
			struct vlab_err *err);

#endif
