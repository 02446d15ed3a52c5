/* cli/cmd_bench.c: `vlab bench`: the engines side by side, one table (or
 * JSON, or CSV), progress on stderr. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/units.h"
#include "metrics/render.h"
#include "metrics/run.h"

#define MAX_ENGINES 8

static volatile sig_atomic_t cancelled;

static void on_sigint(int sig)
{
	(void)sig;
	cancelled = 1;
	signal(SIGINT, SIG_DFL); /* a second ^C ends vlab at once */
}

struct progress {
	int tty;
	char last[64];
};

static void show_progress(void *arg, const char *engine, const char *step, unsigned done,
			  unsigned total)
{
	struct progress *p = arg;
	char what[64];
	snprintf(what, sizeof(what), "%s %s", engine, step);
	if (p->tty) {
		fprintf(stderr, "\r\033[Kvlab bench: %s: %s (%u/%u)", engine, step, done, total);
	} else if (strcmp(what, p->last) != 0) {
		fprintf(stderr, "vlab bench: %s: %s (step %u of %u)\n", engine, step, done, total);
		snprintf(p->last, sizeof(p->last), "%s", what);
	}
	fflush(stderr);
}

/* "vm,container" -> targets; at most MAX_ENGINES, no repeats. */
static int parse_engines(const struct vlab_cmd *cmd, char *list, struct metrics_target *t,
			 size_t *n)
{
	*n = 0;
	for (char *save = NULL, *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(t[i].engine, e))
				return cli_usage_error(cmd, "--engines: '%s' is named twice", e);
		if (*n == MAX_ENGINES)
			return cli_usage_error(cmd, "--engines: at most %d engines", MAX_ENGINES);
		t[(*n)++] = (struct metrics_target){.engine = e};
	}
	if (!*n)
		return cli_usage_error(cmd, "--engines: name at least one engine");
	return 0;
}

int cmd_bench(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"engines", required_argument, NULL, 'e'}, {"metrics", required_argument, NULL, 'm'},
		{"runs", required_argument, NULL, 'r'},    {"warmup", required_argument, NULL, 'w'},
		{"format", required_argument, NULL, 'f'},  {"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char engines[256] = "vm,container,unikernel,host";
	const char *output = NULL;
	struct metrics_config cfg = {.kinds = METRICS_ALL, .runs = 5, .warmup = 1};
	enum metrics_format fmt = METRICS_FORMAT_TABLE;
	struct vlab_err err = {0};
	int quiet = 0, c;
	uint64_t v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":e:m:r:w:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (strlen(optarg) >= sizeof(engines))
				return cli_usage_error(cmd, "--engines: list too long");
			snprintf(engines, sizeof(engines), "%s", optarg);
			break;
		case 'm':
			if (metrics_kinds_parse(optarg, &cfg.kinds, &err) < 0)
				return cli_usage_error(cmd, "--metrics: %s", err.msg);
			break;
		case 'r':
			if (vlab_parse_uint(optarg, METRICS_MIN_SAMPLES, 1000, &v, "--runs", &err) < 0)
				return cli_usage_error(cmd, "%s (a single run is not a figure)",
						       err.msg);
			cfg.runs = (unsigned)v;
			break;
		case 'w':
			if (vlab_parse_uint(optarg, 0, 100, &v, "--warmup", &err) < 0)
				return cli_usage_error(cmd, "%s", err.msg);
			cfg.warmup = v ? (unsigned)v : METRICS_NO_WARMUP;
			break;
		case 'f':
			if (metrics_format_parse(optarg, &fmt, &err) < 0)
				return cli_usage_error(cmd, "--format: %s", err.msg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cli_cmd_help(cmd);
			return VLAB_EXIT_OK;
		case ':':
			return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	struct metrics_target targets[MAX_ENGINES];
	size_t ntargets;
	if (parse_engines(cmd, engines, targets, &ntargets) != 0)
		return VLAB_EXIT_USAGE;
	cfg.targets = targets;
	cfg.ntargets = ntargets;

	struct progress prog = {.tty = isatty(STDERR_FILENO)};
	if (!quiet) {
		cfg.progress = show_progress;
		cfg.progress_arg = &prog;
	}
	cfg.cancel = &cancelled;
	struct sigaction sa = {.sa_handler = on_sigint}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);

	struct metrics_result *res = NULL;
	int rc = metrics_run(&cfg, &res, &err);
	sigaction(SIGINT, &old, NULL);
	if (!quiet && prog.tty)
		fprintf(stderr, "\r\033[K");
	if (rc < 0) {
		fprintf(stderr, "vlab bench: %s\n", err.msg);
		return err.code == EINVAL ? VLAB_EXIT_USAGE : VLAB_EXIT_INTERNAL;
	}
	char *text = metrics_render(res, fmt, &err);
	if (!text) {
		fprintf(stderr, "vlab bench: %s\n", err.msg);
		metrics_result_free(res);
		return VLAB_EXIT_INTERNAL;
	}
	FILE *out = output ? fopen(output, "w") : stdout;
	if (!out) {
		fprintf(stderr, "vlab bench: cannot write %s: %m\n", output);
		free(text);
		metrics_result_free(res);
		return VLAB_EXIT_INTERNAL;
	}
	fputs(text, out);
	if (output && fclose(out) != 0) {
		fprintf(stderr, "vlab bench: writing %s failed: %m\n", output);
		free(text);
		metrics_result_free(res);
		return VLAB_EXIT_INTERNAL;
	}
	free(text);

	int ran = 0, failed = 0;
	for (size_t i = 0; i < res->ncols; i++) {
		ran += res->cols[i].available;
		failed |= res->cols[i].available && res->cols[i].error[0];
	}
	metrics_result_free(res);
	if (cancelled) {
		fprintf(stderr, "vlab bench: interrupted; the figures above are those measured\n");
		return VLAB_EXIT_FAIL;
	}
	return !ran ? VLAB_EXIT_UNSUPPORTED : failed ? VLAB_EXIT_FAIL : VLAB_EXIT_OK;
}
