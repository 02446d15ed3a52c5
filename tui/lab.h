/* tui/lab.h: what the TUI needs from an open lab, as one ops table.
 *
 * The panels never call the lesson runtime directly: they read items,
 * instances, charts and output through this interface, and start work
 * (run, check) that completes asynchronously (the lab's fds are polled by
 * the one loop, then pump() collects what happened).  tui/lab_session.c
 * implements it over the lesson runtime's session API. */
#ifndef VLAB_TUI_LAB_H
#define VLAB_TUI_LAB_H

#include <stddef.h>

#include "core/err.h"
#include "engines/engine.h"
#include "tui/chart.h"

enum tui_item_kind { TUI_ITEM_STEP, TUI_ITEM_QUESTION };
enum tui_question_kind { TUI_Q_CHOICE, TUI_Q_NUMERIC, TUI_Q_TEXT };

enum tui_item_state {
	TUI_ITEM_TODO,
	TUI_ITEM_BUSY,     /* run or check in flight */
	TUI_ITEM_RAN,      /* actions done, not checked yet */
	TUI_ITEM_PASSED,   /* check passed */
	TUI_ITEM_FAILED,   /* check failed, or run raised an error */
	TUI_ITEM_ANSWERED, /* a question with a saved answer */
};

#define TUI_MAX_CHOICES 12

/* One step or question, as shown.  Strings are owned by the lab and valid
 * until the next call into it. */
struct tui_item {
	enum tui_item_kind kind;
	const char *title;
	const char *text; /* markup, tui/text.h */
	double points;
	enum tui_item_state state;
	const char *message; /* the last run/check message or error, "" none */
	int has_run, has_check;
	size_t nhints, hints_shown;
	const char *console; /* instance the student may type into, NULL none */
	/* questions */
	enum tui_question_kind qkind;
	size_t nchoices;
	const char *choice[TUI_MAX_CHOICES];
	const char *answer; /* saved answer, "" none */
	const char *unit;   /* numeric questions: "ms", "" none */
};

struct tui_lab;

struct tui_lab_ops {
	const char *(*title)(struct tui_lab *lab);
	size_t (*count)(struct tui_lab *lab);
	/* The item the student was at when they left (resume). */
	size_t (*resume_at)(struct tui_lab *lab);
	/* Records that the student is now at item i. */
	void (*seen)(struct tui_lab *lab, size_t i);
	int (*item)(struct tui_lab *lab, size_t i, struct tui_item *out);
	const char *(*hint)(struct tui_lab *lab, size_t i, size_t k);
	/* Reveals the next hint of item i (recorded in the workbook). */
	int (*reveal_hint)(struct tui_lab *lab, size_t i, struct vlab_err *err);
	/* Start item i's actions / check; they complete asynchronously. */
	int (*run)(struct tui_lab *lab, size_t i, struct vlab_err *err);
	int (*check)(struct tui_lab *lab, size_t i, struct vlab_err *err);
	/* Saves an answer (immediately, in the workbook). */
	int (*answer)(struct tui_lab *lab, size_t i, const char *answer, struct vlab_err *err);
	/* Work in flight (a run or check): a short phrase, NULL when idle. */
	const char *(*busy)(struct tui_lab *lab);
	/* Descriptors to poll for the lab's progress; returns how many. */
	size_t (*fds)(struct tui_lab *lab, int *fds, size_t max);
	/* Collects progress without blocking; returns 1 when something changed. */
	int (*pump)(struct tui_lab *lab);
	/* The instances the lab created (borrowed, valid until next pump). */
	size_t (*instances)(struct tui_lab *lab, struct vlab_instance *const **out);
	/* Charts of the measurements so far (borrowed). */
	size_t (*charts)(struct tui_lab *lab, const struct tui_chart **out);
	/* Next line the lab printed (vlab.print), NULL when none is pending. */
	const char *(*output)(struct tui_lab *lab);
	/* Stops every instance cleanly and closes the lab. */
	void (*close)(struct tui_lab *lab);
};

struct tui_lab {
	const struct tui_lab_ops *ops;
};

/* A lab found on disk, for the picker. */
struct tui_lab_info {
	char path[4096];
	char id[64];
	char title[128];
	size_t items;       /* steps and questions */
	size_t done;        /* completed by this student */
	char minutes[16];   /* estimated length ("45 min"), "" unknown */
	int user;           /* from the student's own folder */
	char error[256];    /* why it cannot be opened, "" when fine */
};

/* Reads a lab's title, length and the student's progress (no side
 * effects).  Implemented with the lab runtime. */
int tui_lab_describe(const char *path, struct tui_lab_info *info, struct vlab_err *err);

/* Opens the lab at path with the student's workbook. */
int tui_lab_open(const char *path, struct tui_lab **out, struct vlab_err *err);

#endif
