/* cli/cmd_run.c: `vlab run LAB`: the TUI, or with --headless every step's
 * actions and checks in order, printed as they happen, with answers to the
 * questions taken from --answer / --answers. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/lessoncli.h"
#include "lesson/session.h"
#include "tui/tui.h"

struct answers {
	json_t *map; /* id -> answer text */
};

static int add_answer(struct answers *a, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -1;
	char id[128];
	snprintf(id, sizeof(id), "%.*s", (int)(eq - kv), kv);
	json_object_set_new(a->map, id, json_string(eq + 1));
	return 0;
}

static int load_answers(struct answers *a, const char *path, char *why, size_t len)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j || !json_is_object(j)) {
		snprintf(why, len, "%s:%d:%d: %s", path, je.line, je.column,
			 j ? "not a JSON object of id: answer" : je.text);
		json_decref(j);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v)
	{
		char num[64];
		if (json_is_string(v))
			json_object_set(a->map, k, v);
		else if (json_is_number(v)) {
			snprintf(num, sizeof(num), "%.17g", json_number_value(v));
			json_object_set_new(a->map, k, json_string(num));
		} else {
			snprintf(why, len, "%s: the answer to '%s' is not a string or a number", path,
				 k);
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	return 0;
}

/* --reset ID: forgets one item's result in the workbook (or every item's
 * with "all"), so the student can do it again. */
static int reset_item(const char *lab, const char *workbook, const char *id)
{
	struct lesson_session_opts so = {.lab = lab, .workbook = workbook};
	struct lesson_session *s;
	struct vlab_err err = {0};
	if (lesson_session_open(&so, &s, &err) < 0) {
		fprintf(stderr, "vlab run: %s\n", err.msg);
		return err.code == EBADMSG ? VLAB_EXIT_BADINPUT : VLAB_EXIT_USAGE;
	}
	const struct lesson_lab_info *li = lesson_session_lab(s);
	int found = 0, rc = VLAB_EXIT_OK;
	for (size_t i = 0; i < li->nitems && rc == VLAB_EXIT_OK; i++) {
		const struct lesson_item *it = lesson_session_item(s, i);
		if (strcmp(id, "all") && strcmp(id, it->id))
			continue;
		found = 1;
		if (lesson_session_reset(s, i, &err) < 0) {
			fprintf(stderr, "vlab run: %s\n", err.msg);
			rc = VLAB_EXIT_INTERNAL;
		} else {
			printf("reset %s: %s\n", it->id, it->title);
		}
	}
	if (!found) {
		fprintf(stderr, "vlab run: no item '%s' in %s\n", id, li->id);
		rc = VLAB_EXIT_USAGE;
	}
	lesson_session_free(s);
	return rc;
}

int cmd_run(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"headless", no_argument, NULL, 'H'}, {"workbook", required_argument, NULL, 'w'},
		{"fresh", no_argument, NULL, 'f'},    {"answer", required_argument, NULL, 'a'},
		{"answers", required_argument, NULL, 'A'}, {"only", required_argument, NULL, 'o'},
		{"console", no_argument, NULL, 'c'},  {"quiet", no_argument, NULL, 'q'},
		{"reset", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},     {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int headless = 0, c;
	const char *reset = NULL;
	struct lessoncli_opts o = {0};
	struct answers ans = {.map = json_object()};
	char why[1024];
	int rc = VLAB_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			headless = 1;
			break;
		case 'w':
			o.workbook = optarg;
			break;
		case 'f':
			o.fresh = 1;
			break;
		case 'a':
			if (add_answer(&ans, optarg) < 0) {
				rc = cli_usage_error(cmd, "--answer takes ID=ANSWER, not '%s'", optarg);
				goto out;
			}
			break;
		case 'A':
			if (load_answers(&ans, optarg, why, sizeof(why)) < 0) {
				fprintf(stderr, "vlab run: %s\n", why);
				rc = VLAB_EXIT_BADINPUT;
				goto out;
			}
			break;
		case 'o':
			o.only = optarg;
			break;
		case 'R':
			reset = optarg;
			break;
		case 'c':
			o.console = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			cli_cmd_help(cmd);
			rc = VLAB_EXIT_OK;
			goto out;
		case 'V':
			printf("vlab %s\n", VLAB_VERSION);
			rc = VLAB_EXIT_OK;
			goto out;
		default:
			rc = cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = cli_usage_error(cmd, optind >= argc ? "which lab? (`vlab labs` lists them)"
							 : "one lab at a time");
		goto out;
	}
	if (reset) {
		rc = reset_item(argv[optind], o.workbook, reset);
		goto out;
	}
	if (!headless) {
		struct tui_opts t = {.lab = argv[optind], .workbook = o.workbook, .fresh = o.fresh};
		rc = tui_main(&t);
		goto out;
	}
	o.lab = argv[optind];
	o.answers = ans.map;
	rc = lessoncli_run(&o);
out:
	json_decref(ans.map);
	return rc;
}
