/* cli/cmd_grade.c: `vlab grade LAB --workbook W | --batch DIR`: scores
 * workbooks without a person watching (see lesson/grade.h for how). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/paths.h"
#include "lesson/grade.h"

static int exit_for(const struct vlab_err *err)
{
	switch (err->code) {
	case EBADMSG:
	case ESTALE:
		return VLAB_EXIT_BADINPUT;
	case ENOENT:
	case EISDIR:
		return VLAB_EXIT_USAGE;
	default:
		return VLAB_EXIT_INTERNAL;
	}
}

static int write_report(const char *path, const struct lesson_grade *g, enum lesson_format fmt,
			struct vlab_err *err)
{
	if (!path)
		return lesson_report_write(stdout, g, fmt, err);
	char tmp[VLAB_PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return vlab_err_set(err, errno, "write %s", tmp);
	int r = lesson_report_write(f, g, fmt, err);
	if (fclose(f) != 0 && r == 0)
		r = vlab_err_set(err, errno, "write %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = vlab_err_set(err, errno, "rename %s", tmp);
	if (r < 0)
		remove(tmp);
	return r;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && !strcmp(s + a - b, suffix);
}

/* CSV field: quoted when it needs to be. */
static void csv(FILE *f, const char *s, int last)
{
	if (strpbrk(s, ",\"\n\r")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

struct batch {
	const char *lab;
	const char *outdir;
	enum lesson_format fmt;
	int rerun;
	FILE *summary;
	size_t graded, bad;
};

static void grade_one(struct batch *b, const char *path, const char *name)
{
	struct lesson_grade g;
	struct vlab_err err = {0};
	char out[VLAB_PATH_MAX * 2], num[64];
	if (lesson_grade_workbook(b->lab, path, b->rerun, &g, &err) < 0) {
		fprintf(stderr, "vlab grade: %s\n", err.msg);
		b->bad++;
		csv(b->summary, path, 0);
		for (int i = 0; i < 9; i++)
			csv(b->summary, "", 0);
		csv(b->summary, err.msg, 1);
		return;
	}
	snprintf(out, sizeof(out), "%s/%s.%s", b->outdir, name, lesson_format_ext(b->fmt));
	if (write_report(out, &g, b->fmt, &err) < 0) {
		fprintf(stderr, "vlab grade: %s\n", err.msg);
		b->bad++;
	} else {
		b->graded++;
	}
	csv(b->summary, path, 0);
	csv(b->summary, g.student, 0);
	snprintf(num, sizeof(num), "%g", g.score);
	csv(b->summary, num, 0);
	snprintf(num, sizeof(num), "%g", g.max);
	csv(b->summary, num, 0);
	snprintf(num, sizeof(num), "%.1f", g.max > 0 ? 100.0 * g.score / g.max : 100.0);
	csv(b->summary, num, 0);
	size_t counts[4] = {g.passed, g.failed + g.errors, g.skipped, g.todo};
	for (int i = 0; i < 4; i++) {
		snprintf(num, sizeof(num), "%zu", counts[i]);
		csv(b->summary, num, 0);
	}
	csv(b->summary, g.lab_changed ? "yes" : "no", 0);
	csv(b->summary, "", 1);
	lesson_grade_free(&g);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json in dir, and in its immediate subfolders (one per student). */
static int batch(struct batch *b, const char *dir)
{
	char sumpath[VLAB_PATH_MAX + 32];
	struct vlab_err err = {0};
	if (vlab_mkdir_p(b->outdir, 0755, &err) < 0) {
		fprintf(stderr, "vlab grade: %s\n", err.msg);
		return VLAB_EXIT_INTERNAL;
	}
	snprintf(sumpath, sizeof(sumpath), "%s/summary.csv", b->outdir);
	b->summary = fopen(sumpath, "w");
	if (!b->summary) {
		fprintf(stderr, "vlab grade: write %s: %s\n", sumpath, strerror(errno));
		return VLAB_EXIT_INTERNAL;
	}
	fprintf(b->summary, "workbook,student,score,max_score,percent,passed,failed,skipped,"
			    "not_done,lab_changed,error\n");
	char **names = NULL;
	size_t n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char p[VLAB_PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) < 0)
			continue;
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!v)
			break;
		names = v;
		if (S_ISREG(st.st_mode) && has_suffix(e->d_name, ".json"))
			names[n++] = strdup(e->d_name);
		else if (S_ISDIR(st.st_mode) && strcmp(p, b->outdir)) {
			DIR *sd = opendir(p);
			for (struct dirent *f; sd && (f = readdir(sd));) {
				if (f->d_name[0] == '.' || !has_suffix(f->d_name, ".json"))
					continue;
				char **w = realloc(names, (n + 1) * sizeof(*w));
				if (!w)
					break;
				names = w;
				char sub[VLAB_PATH_MAX];
				snprintf(sub, sizeof(sub), "%s/%s", e->d_name, f->d_name);
				names[n++] = strdup(sub);
			}
			if (sd)
				closedir(sd);
		}
	}
	if (d)
		closedir(d);
	else {
		fclose(b->summary);
		fprintf(stderr, "vlab grade: %s: %s\n", dir, strerror(errno));
		return VLAB_EXIT_USAGE;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		char path[VLAB_PATH_MAX * 2], name[VLAB_PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		for (char *c = name; *c; c++)
			if (*c == '/')
				*c = '-';
		grade_one(b, path, name);
		free(names[i]);
	}
	free(names);
	fclose(b->summary);
	printf("graded %zu workbook%s, %zu could not be graded; reports and summary.csv in %s\n",
	       b->graded, b->graded == 1 ? "" : "s", b->bad, b->outdir);
	return b->bad ? VLAB_EXIT_BADINPUT : VLAB_EXIT_OK;
}

int cmd_grade(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"workbook", required_argument, NULL, 'w'}, {"batch", required_argument, NULL, 'b'},
		{"format", required_argument, NULL, 'f'},   {"output", required_argument, NULL, 'o'},
		{"output-dir", required_argument, NULL, 'd'}, {"rerun", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *workbook = NULL, *dir = NULL, *output = NULL, *outdir = "grades";
	enum lesson_format fmt = LESSON_FMT_TEXT;
	int rerun = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': workbook = optarg; break;
		case 'b': dir = optarg; break;
		case 'o': output = optarg; break;
		case 'd': outdir = optarg; break;
		case 'r': rerun = 1; break;
		case 'f':
			if (lesson_format_parse(optarg, &fmt) < 0)
				return cli_usage_error(cmd, "unknown format '%s' (text, json, tap, "
							    "junit, gradescope)",
						       optarg);
			break;
		case 'h': cli_cmd_help(cmd); return VLAB_EXIT_OK;
		case 'V': printf("vlab %s\n", VLAB_VERSION); return VLAB_EXIT_OK;
		default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, optind >= argc ? "which lab?" : "one lab at a time");
	if (!workbook == !dir)
		return cli_usage_error(cmd, "give --workbook FILE or --batch DIR");
	const char *lab = argv[optind];
	if (dir) {
		struct batch b = {.lab = lab, .outdir = outdir, .fmt = fmt, .rerun = rerun};
		return batch(&b, dir);
	}
	struct lesson_grade g;
	struct vlab_err err = {0};
	if (lesson_grade_workbook(lab, workbook, rerun, &g, &err) < 0) {
		fprintf(stderr, "vlab grade: %s\n", err.msg);
		return exit_for(&err);
	}
	int r = write_report(output, &g, fmt, &err);
	lesson_grade_free(&g);
	if (r < 0) {
		fprintf(stderr, "vlab grade: %s\n", err.msg);
		return VLAB_EXIT_INTERNAL;
	}
	return VLAB_EXIT_OK;
}
