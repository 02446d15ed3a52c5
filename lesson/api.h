/* lesson/api.h: the `vlab` table lab code sees (docs/lab-api.md).
 *
 *   api_lab.c       vlab.lab, vlab.step, vlab.question: declarations and
 *                   their validation; answers checked against a question
 *   api_instance.c  vlab.vm / container / unikernel / host: instances as
 *                   userdata over engines/engine.h
 *   api_misc.c      vlab.print, chart, record, measurements, compare, skip,
 *                   available, engines, sleep
 *   api_bench.c     vlab.bench: the metrics layer's side-by-side runs
 *
 * The binding holds no engine logic: options go to the engine as spec
 * key/values, which the engine validates; agent requests go through
 * vlab_instance_request().  Whatever the front end must know (output,
 * charts, measurements, instances and their descriptors) leaves through
 * the host's emit() as a JSON message (vocabulary in lesson/runner.c), so
 * the same binding runs in the lab runner and in tests. */
#ifndef VLAB_LESSON_API_H
#define VLAB_LESSON_API_H

#include <jansson.h>
#include <lua.h>

#include "core/err.h"

struct lesson_api_host {
	void *arg;
	/* A message for the front end, with descriptors to pass (the host
	 * duplicates them; the caller keeps its own).  Not consumed. */
	void (*emit)(void *arg, json_t *msg, const int *fds, size_t nfds);
	/* A question to the front end, answered by a reply (new reference),
	 * or NULL when there is no answer. */
	json_t *(*ask)(void *arg, json_t *msg);
};

/* Per-state context (one per lab run), kept in the Lua registry. */
struct lesson_api {
	struct lesson_api_host host;
	int item;         /* index of the item whose action runs, -1 none */
	int replaying;    /* re-running an earlier step's run(): no records */
	int skipped;      /* vlab.skip() was called in this action */
	char skip_reason[512];
	int next_instance;
	void *live; /* instances not closed yet (api_instance.c) */
};

/* Installs the global `vlab` (and print = vlab.print) in L, with api as
 * its context (api must outlive L). */
void lesson_api_open(lua_State *L, struct lesson_api *api);
/* The context of L. */
struct lesson_api *lesson_api_of(lua_State *L);

/* Starts / ends one action on item: clears the skip flag. */
void lesson_api_begin(lua_State *L, int item, int replaying);

/* Emits a message through the host. */
void lesson_api_emit(lua_State *L, json_t *msg, const int *fds, size_t nfds);

/* Replaces the measurements lab code sees (vlab.measurements(), expected())
 * with obj: {"name": {"value": 1.5, "unit": "ms"}, ...}. */
void lesson_api_set_measurements(lua_State *L, json_t *obj);

/* ---- declarations (api_lab.c) ---- */

/* Metatables of the tables vlab.lab{} and vlab.step{} / vlab.question{}
 * return (protected: lab code cannot change or read them). */
#define LESSON_LAB_MT "lesson.lab"
#define LESSON_ITEM_MT "lesson.item"


/* (lesson/lab_read.c) Checks the value on top of the stack is a lab made by
 * vlab.lab{} and describes it as JSON (ids, titles, texts, points, hints, kinds, choices,
 * where).  -1 with "file:line: ..." in err when not. */
json_t *lesson_lab_describe(lua_State *L, const char *chunkname, struct vlab_err *err);

/* Pushes item i (0-based) of the lab on top of the stack (a table). */
void lesson_lab_push_item(lua_State *L, int lab, int i);

/* Scores answer to the question on top of the stack (as pushed by
 * lesson_lab_push_item); may call its expected() (sandbox armed by the
 * caller).  Fills *correct, a feedback message and, for numeric
 * questions, the expected value.  -1 with err when the question's own
 * code fails. */
int lesson_question_score(lua_State *L, const char *answer, int *correct, double *expected,
			  int *has_expected, char *message, size_t len, struct vlab_err *err);

/* ---- instances (api_instance.c) ---- */
void lesson_api_open_instances(lua_State *L, int vlab);
/* Frees every instance still alive (stops them), emitting their end. */
void lesson_api_close_instances(lua_State *L);
/* The instance behind the userdata at idx, NULL when it is not one. */
struct vlab_instance *lesson_api_instance(lua_State *L, int idx);

/* ---- the rest (api_misc.c) ---- */
void lesson_api_open_misc(lua_State *L, int vlab);
void lesson_api_open_lab(lua_State *L, int vlab);
/* vlab.bench (api_bench.c). */
void lesson_api_open_bench(lua_State *L, int vlab);

#endif
