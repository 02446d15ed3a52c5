/* cli/lessoncli.h: running a lab without a terminal UI, shared by `vlab
 * run --headless` and `vlab check`: every step's run and check in order,
 * questions answered from a map, everything printed as it happens. */
#ifndef VLAB_CLI_LESSONCLI_H
#define VLAB_CLI_LESSONCLI_H

#include <jansson.h>
#include <stddef.h>

struct lessoncli_opts {
	const char *lab;
	const char *workbook; /* NULL: the default one */
	int fresh;            /* start a new workbook */
	int no_workbook;      /* keep nothing (vlab check) */
	int quiet;            /* only results, not the lab's output */
	int console;          /* also print instance consoles */
	const char *only;     /* run one item (its id) */
	json_t *answers;      /* id -> answer text, may be NULL */
	int answer_key;       /* answer questions with the lab's own key (vlab check) */
	const char *prefix;   /* printed before each line ("" when NULL) */
};

struct lessoncli_tally {
	size_t passed, failed, errors, skipped, unanswered;
	double score, max;
};

/* Runs the lab as asked; returns a vlab exit status (0: nothing failed). */
int lessoncli_run(const struct lessoncli_opts *o);
/* The same, filling t (for vlab check's summary). */
int lessoncli_run_tally(const struct lessoncli_opts *o, struct lessoncli_tally *t);

/* Prints a chart as text bars. */
struct lesson_chart;
void lessoncli_print_chart(const struct lesson_chart *c, const char *prefix);

#endif
