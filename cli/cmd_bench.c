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
	for (char *save = NULL, *e = strtok_r(list, ",", &save); e;
	     e = strtok_r(NULL, ",", &save)) {
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

/* --opt ENGINE.KEY=VALUE, collected into one spec per engine. */
struct engine_opts {
	char engine[16];
	struct vlab_spec spec;
};

static int add_opt(const struct vlab_cmd *cmd, const char *arg, struct engine_opts *opts,
		   size_t *nopts)
{
	struct vlab_err err = {0};
	const char *dot = strchr(arg, '.');
	size_t el = dot ? (size_t)(dot - arg) : 0;
	if (!dot || !el || el >= sizeof(opts[0].engine) || !strchr(dot, '='))
		return cli_usage_error(cmd, "--opt: '%s' is not ENGINE.KEY=VALUE", arg);
	size_t k;
	for (k = 0; k < *nopts; k++)
		if (strlen(opts[k].engine) == el && !strncmp(opts[k].engine, arg, el))
			break;
	if (k == *nopts) {
		if (*nopts == MAX_ENGINES)
			return cli_usage_error(cmd, "--opt: options for too many engines");
		snprintf(opts[k].engine, sizeof(opts[k].engine), "%.*s", (int)el, arg);
		/* The spec only carries options; its name is a placeholder. */
		if (vlab_spec_init(&opts[k].spec, opts[k].engine, "opts", &err) < 0)
			return cli_usage_error(cmd, "--opt: %s", err.msg);
		(*nopts)++;
	}
	if (vlab_spec_set_kv(&opts[k].spec, dot + 1, &err) < 0)
		return cli_usage_error(cmd, "--opt: %s", err.msg);
	return 0;
}

/* Writes the rendering to output (stdout when NULL). */
static int emit(const struct metrics_result *res, enum metrics_format fmt, const char *output)
{
	struct vlab_err err = {0};
	char *text = metrics_render(res, fmt, &err);
	if (!text) {
		fprintf(stderr, "vlab bench: %s\n", err.msg);
		return -1;
	}
	FILE *out = output ? fopen(output, "w") : stdout;
	int ok = out != NULL;
	if (out) {
		ok = fputs(text, out) >= 0;
		ok &= output ? fclose(out) == 0 : fflush(out) == 0;
	}
	if (!ok)
		fprintf(stderr, "vlab bench: cannot write %s: %m\n",
			output ? output : "the output");
	free(text);
	return ok ? 0 : -1;
}

static int bench(const struct vlab_cmd *cmd, int argc, char **argv, struct engine_opts *opts,
		 size_t *nopts)
{
	static const struct option longopts[] = {
	    {"engines", required_argument, NULL, 'e'}, {"metrics", required_argument, NULL, 'm'},
	    {"runs", required_argument, NULL, 'r'},    {"warmup", required_argument, NULL, 'w'},
	    {"format", required_argument, NULL, 'f'},  {"output", required_argument, NULL, 'o'},
	    {"opt", required_argument, NULL, 'O'},     {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	       {"save-json", required_argument, NULL, 'J'},
	    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
	};
	char engines[256] = "vm,container,unikernel,host";
	const char *output = NULL, *save_json = NULL;
	struct metrics_config cfg = {.kinds = METRICS_ALL, .runs = 5, .warmup = 1};
	enum metrics_format fmt = METRICS_FORMAT_TABLE;
	struct vlab_err err = {0};
	int quiet = 0, c;
	uint64_t v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":e:m:r:w:f:o:qhV", longopts, NULL)) != -1) {
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
			if (vlab_parse_uint(optarg, METRICS_MIN_SAMPLES, 1000, &v, "--runs", &err) <
			    0)
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
		case 'O':
			if (add_opt(cmd, optarg, opts, nopts) != 0)
				return VLAB_EXIT_USAGE;
			break;
		case 'J':
			save_json = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cli_cmd_help(cmd);
			return VLAB_EXIT_OK;
		case 'V':
			printf("vlab %s\n", VLAB_VERSION);
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
	for (size_t k = 0; k < *nopts; k++) {
		size_t t;
		for (t = 0; t < ntargets && strcmp(targets[t].engine, opts[k].engine); t++)
			;
		if (t == ntargets)
			return cli_usage_error(cmd, "--opt: '%s' is not among --engines",
					       opts[k].engine);
		targets[t].spec = &opts[k].spec;
	}
	cfg.targets = targets;
	cfg.ntargets = ntargets;

	struct progress prog = {.tty = isatty(STDERR_FILENO)};
	if (!quiet) {
		cfg.progress = show_progress;
		cfg.progress_arg = &prog;
	}
	cancelled = 0;
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
	int ran = 0, failed = 0;
	for (size_t i = 0; i < res->ncols; i++) {
		ran += res->cols[i].available;
		failed |= res->cols[i].available && res->cols[i].error[0];
	}
	rc = emit(res, fmt, output);
	if (rc == 0 && save_json)
		rc = emit(res, METRICS_FORMAT_JSON, save_json);
	metrics_result_free(res);
	if (rc < 0)
		return VLAB_EXIT_INTERNAL;
	if (cancelled) {
		fprintf(stderr, "vlab bench: interrupted; the figures above are those measured\n");
		return VLAB_EXIT_FAIL;
	}
	return !ran ? VLAB_EXIT_UNSUPPORTED : failed ? VLAB_EXIT_FAIL : VLAB_EXIT_OK;
}

int cmd_bench(const struct vlab_cmd *cmd, int argc, char **argv)
{
	struct engine_opts opts[MAX_ENGINES];
	size_t nopts = 0;
	int rc = bench(cmd, argc, argv, opts, &nopts);
	for (size_t i = 0; i < nopts; i++)
		vlab_spec_free(&opts[i].spec);
	return rc;
}
