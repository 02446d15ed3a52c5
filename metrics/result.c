/* metrics/result.c: benchmark results: columns, rows, ratios. */
#include "metrics/result.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[METRICS_KINDS] = {
    "startup", "image", "footprint", "cpu", "mem", "disk", "net", "exits",
};

const char *metrics_kind_name(enum metrics_kind kind)
{
	return (unsigned)kind < METRICS_KINDS ? kind_names[kind] : "?";
}

int metrics_kinds_parse(const char *list, unsigned *mask, struct vlab_err *err)
{
	*mask = 0;
	if (!list || !*list)
		return vlab_err_set(err, EINVAL,
				    "no metric named (choose from startup, image, "
				    "footprint, cpu, mem, disk, net, all)");
	const char *p = list;
	while (*p) {
		size_t l = strcspn(p, ",");
		int found = 0;
		if (l == 3 && !strncmp(p, "all", 3)) {
			*mask |= METRICS_ALL;
			found = 1;
		}
		for (int k = 0; !found && k < METRICS_EXITS; k++)
			if (strlen(kind_names[k]) == l && !strncmp(p, kind_names[k], l)) {
				*mask |= 1u << k;
				found = 1;
			}
		if (!found)
			return vlab_err_set(err, EINVAL,
					    "unknown metric '%.*s' (choose from startup, image, "
					    "footprint, cpu, mem, disk, net, all)",
					    (int)l, p);
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

struct metrics_result *metrics_result_new(unsigned runs, unsigned warmup, struct vlab_err *err)
{
	struct metrics_result *res = calloc(1, sizeof(*res));
	if (!res) {
		vlab_err_set(err, ENOMEM, "benchmark result");
		return NULL;
	}
	res->runs = runs;
	res->warmup = warmup;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(res->when, sizeof(res->when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	metrics_describe_machine(res->machine, sizeof(res->machine));
	return res;
}

void metrics_result_free(struct metrics_result *res)
{
	if (!res)
		return;
	for (size_t c = 0; c < res->ncols; c++) {
		for (size_t r = 0; r < res->cols[c].nrows; r++)
			free(res->cols[c].rows[r].samples);
		free(res->cols[c].rows);
	}
	free(res->cols);
	free(res);
}

struct metrics_column *metrics_result_add_column(struct metrics_result *res, const char *engine,
						 struct vlab_err *err)
{
	struct metrics_column *cols = realloc(res->cols, (res->ncols + 1) * sizeof(*cols));
	if (!cols) {
		vlab_err_set(err, ENOMEM, "benchmark column %s", engine);
		return NULL;
	}
	res->cols = cols;
	struct metrics_column *col = &cols[res->ncols++];
	memset(col, 0, sizeof(*col));
	snprintf(col->engine, sizeof(col->engine), "%s", engine);
	snprintf(col->title, sizeof(col->title), "%s", engine);
	return col;
}

struct metrics_row *metrics_column_add(struct metrics_column *col, const char *key,
				       enum metrics_kind kind, const char *label, const char *unit,
				       enum metrics_better better, const double *samples, size_t n,
				       size_t warmup, struct vlab_err *err)
{
	struct metrics_summary s;
	if (metrics_summarize(samples, n, warmup, &s, err) < 0) {
		vlab_err_prefix(err, "%s on %s", key, col->engine);
		return NULL;
	}
	if (col->nrows == col->cap) {
		size_t cap = col->cap ? 2 * col->cap : 16;
		struct metrics_row *rows = realloc(col->rows, cap * sizeof(*rows));
		if (!rows) {
			vlab_err_set(err, ENOMEM, "%s on %s", key, col->engine);
			return NULL;
		}
		col->rows = rows;
		col->cap = cap;
	}
	double *copy = malloc((n - warmup) * sizeof(double));
	if (!copy) {
		vlab_err_set(err, ENOMEM, "%s on %s", key, col->engine);
		return NULL;
	}
	memcpy(copy, samples + warmup, (n - warmup) * sizeof(double));
	struct metrics_row *row = &col->rows[col->nrows++];
	memset(row, 0, sizeof(*row));
	snprintf(row->key, sizeof(row->key), "%s", key);
	row->kind = kind;
	snprintf(row->label, sizeof(row->label), "%s", label);
	snprintf(row->unit, sizeof(row->unit), "%s", unit);
	row->better = better;
	row->s = s;
	row->samples = copy;
	row->nsamples = n - warmup;
	return row;
}

const struct metrics_row *metrics_column_find(const struct metrics_column *col, const char *key)
{
	for (size_t i = 0; i < col->nrows; i++)
		if (!strcmp(col->rows[i].key, key))
			return &col->rows[i];
	return NULL;
}

const struct metrics_column *metrics_result_find(const struct metrics_result *res,
						 const char *engine)
{
	for (size_t i = 0; i < res->ncols; i++)
		if (!strcmp(res->cols[i].engine, engine))
			return &res->cols[i];
	return NULL;
}

double metrics_ratio(const struct metrics_result *res, const struct metrics_column *col,
		     const struct metrics_row *row)
{
	const struct metrics_column *host = metrics_result_find(res, "host");
	if (!host)
		return NAN;
	if (host == col)
		return 1.0;
	const struct metrics_row *base = metrics_column_find(host, row->key);
	if (!base || base->s.median == 0)
		return NAN;
	return row->s.median / base->s.median;
}

void metrics_describe_machine(char *buf, size_t len)
{
	char model[128] = "unknown CPU", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *v = strchr(line, ':');
			if (v) {
				v++;
				while (*v == ' ')
					v++;
				v[strcspn(v, "\n")] = '\0';
				snprintf(model, sizeof(model), "%s", v);
			}
			break;
		}
	if (f)
		fclose(f);
	struct utsname u;
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long mem_mib = (long)(sysconf(_SC_PHYS_PAGES) / 1024 * (sysconf(_SC_PAGESIZE) / 1024) / 1);
	snprintf(buf, len, "%s, %ld CPU%s, %ld MiB RAM, Linux %s", model, cpus,
		 cpus == 1 ? "" : "s", mem_mib, u.release);
}
