/* cli/cmd_check.c: `vlab check LAB`: the lab author's lint: the lab loads
 * and its declarations are sound (checked as they are made: unique ids,
 * numeric points, answers within choices...), which engines this host
 * offers it, then every step run headless with a report per step. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/lessoncli.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "lesson/session.h"

static void engines_report(void)
{
	struct vlab_hostcaps caps;
	int probed = 0;
	static const char *const names[] = {"vm", "container", "unikernel", "host"};
	printf("Engines on this host:\n");
	for (int i = 0; i < 4; i++) {
		struct vlab_avail a = {0};
		const struct vlab_engine *e = vlab_engine_find(names[i]);
		if (e) {
			e->probe(&a);
		} else {
			/* Not built in: say so, and what the doctor thinks of the host. */
			if (!probed++)
				vlab_hostcaps_probe(&caps, VLAB_CAPS_MEASURE_KVM);
			if (i == 1)
				vlab_avail_container(&caps, &a);
			else if (i == 0)
				vlab_avail_vm(&caps, &a);
			else
				vlab_avail_unikernel(&caps, &a);
			char host[sizeof(a.reason)];
			snprintf(host, sizeof(host), "%s", a.reason);
			snprintf(a.reason, sizeof(a.reason), "not part of this vlab build yet (host: %s)",
				 host);
			a.level = VLAB_AVAIL_NO;
		}
		printf("  %-10s %-9s %-10s %s\n", names[i], vlab_avail_level_name(a.level),
		       a.backend, a.reason);
	}
	printf("Steps that need an engine this host lacks are reported as skipped, with the "
	       "reason.\n\n");
}

int cmd_check(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"load-only", no_argument, NULL, 'l'}, {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},      {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int load_only = 0, quiet = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hVq", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': load_only = 1; break;
		case 'q': quiet = 1; break;
		case 'h': cli_cmd_help(cmd); return VLAB_EXIT_OK;
		case 'V': printf("vlab %s\n", VLAB_VERSION); return VLAB_EXIT_OK;
		default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, optind >= argc ? "which lab?" : "one lab at a time");
	const char *lab = argv[optind];

	/* 1. It loads, and what it declares. */
	struct lesson_session_opts so = {.lab = lab, .no_workbook = 1};
	struct lesson_session *s;
	struct vlab_err err = {0};
	if (lesson_session_open(&so, &s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return err.code == ENOENT ? VLAB_EXIT_USAGE : VLAB_EXIT_BADINPUT;
	}
	const struct lesson_lab_info *li = lesson_session_lab(s);
	size_t steps = 0, questions = 0, nocheck = 0;
	for (size_t i = 0; i < li->nitems; i++) {
		const struct lesson_item *it = lesson_session_item(s, i);
		if (it->kind == LESSON_STEP) {
			steps++;
			nocheck += !it->has_check;
		} else {
			questions++;
		}
	}
	char id[64];
	snprintf(id, sizeof(id), "%s", li->id);
	printf("%s: loads: lab '%s' version %s, %zu steps, %zu questions, %g points\n",
	       li->path, li->id, li->version, steps, questions, li->max_points);
	if (nocheck)
		printf("  note: %zu step%s without a check pass when their run() completes\n",
		       nocheck, nocheck == 1 ? "" : "s");
	lesson_session_free(s);
	if (load_only)
		return VLAB_EXIT_OK;

	/* 2. What this host offers, then 3. every step, headless. */
	engines_report();
	struct lessoncli_opts o = {.lab = lab, .no_workbook = 1, .quiet = quiet, .answer_key = 1};
	struct lessoncli_tally t;
	int rc = lessoncli_run_tally(&o, &t);
	if (rc == VLAB_EXIT_OK)
		printf("\nvlab check: %s is fine here (%zu steps and answer keys passed, %zu skipped "
		       "on this host)\n",
		       id, t.passed, t.skipped);
	else
		printf("\nvlab check: %s has problems: %zu failed, %zu errors\n", id, t.failed,
		       t.errors);
	return rc;
}
