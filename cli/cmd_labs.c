/* cli/cmd_labs.c: `vlab labs`: the labs found (shipped and the student's
 * own) with the student's progress in each. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "lesson/catalog.h"

int cmd_labs(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': cli_cmd_help(cmd); return VLAB_EXIT_OK;
		case 'V': printf("vlab %s\n", VLAB_VERSION); return VLAB_EXIT_OK;
		default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "no arguments expected");
	struct lesson_catalog_entry *v;
	size_t n;
	struct vlab_err err = {0};
	if (lesson_catalog_scan(&v, &n, &err) < 0) {
		fprintf(stderr, "vlab labs: %s\n", err.msg);
		return VLAB_EXIT_INTERNAL;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			struct lesson_catalog_entry *e = &v[i];
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:f, s:b, s:i, s:f, "
					     "s:s, s:s}",
					     "path", e->path, "id", e->id, "title", e->title, "own",
					     e->own, "items", (int)e->nitems, "steps", (int)e->nsteps,
					     "questions", (int)e->nquestions, "max_points", e->max_points,
					     "started", e->started, "done", (int)e->done, "score",
					     e->score, "workbook", e->workbook, "error", e->error));
		}
		json_dumpf(a, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(a);
	} else if (!n) {
		printf("No labs found (shipped labs folder, or $XDG_DATA_HOME/vlab/labs).\n");
	} else {
		printf("%-22s %-44s %-7s %s\n", "LAB", "TITLE", "ITEMS", "PROGRESS");
		for (size_t i = 0; i < n; i++) {
			struct lesson_catalog_entry *e = &v[i];
			if (!e->id[0]) {
				printf("%-22s (does not load: %s)\n", e->path, e->error);
				continue;
			}
			char prog[96];
			if (e->started)
				snprintf(prog, sizeof(prog), "%zu/%zu done, %g/%g points", e->done,
					 e->nitems, e->score, e->max_points);
			else
				snprintf(prog, sizeof(prog), "not started");
			printf("%-22s %-44.44s %-7zu %s%s\n", e->id, e->title, e->nitems, prog,
			       e->own ? " (your own)" : "");
			if (e->error[0])
				printf("%-22s   ! %s\n", "", e->error);
		}
		printf("\nStart one with `vlab run LAB`.\n");
	}
	free(v);
	return VLAB_EXIT_OK;
}
