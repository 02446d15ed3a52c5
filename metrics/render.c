/* metrics/render.c: table, JSON (jansson) and CSV renderings of a
 * benchmark result. */
#include "metrics/render.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int metrics_format_parse(const char *name, enum metrics_format *out, struct vlab_err *err)
{
	if (!strcmp(name, "table"))
		*out = METRICS_FORMAT_TABLE;
	else if (!strcmp(name, "json"))
		*out = METRICS_FORMAT_JSON;
	else if (!strcmp(name, "csv"))
		*out = METRICS_FORMAT_CSV;
	else
		return vlab_err_set(err, EINVAL, "unknown format '%s' (table, json or csv)", name);
	return 0;
}

char *metrics_fmt_value(double v, char *buf, size_t len)
{
	double a = fabs(v);
	int decimals = a >= 1000	    ? 0
		       : a >= 100	    ? 1
		       : a >= 10	    ? 2
		       : a >= 0.1 || a == 0 ? 3
		       : a >= 0.01	    ? 4
		       : a >= 0.001	    ? 5
					    : -1;
	if (decimals < 0)
		snprintf(buf, len, "%.3g", v);
	else
		snprintf(buf, len, "%.*f", decimals, v);
	return buf;
}

/* A ratio: "x2625", "x12.5", "x1.04", "x0.25". */
static char *fmt_ratio(double r, char *buf, size_t len)
{
	snprintf(buf, len, "x%.*f", r >= 100 ? 0 : r >= 10 ? 1 : 2, r);
	return buf;
}

/* ---- the order of rows: by kind, then as first met ---- */

struct key_ref {
	const char *key;
	const struct metrics_row *row; /* the first column's row: label, unit */
};

static struct key_ref *row_order(const struct metrics_result *res, size_t *count)
{
	size_t n = 0, cap = 0;
	struct key_ref *keys = NULL;
	/* Rank 2k: the rows of kind k; 2k+1: its "... to READY" remainder,
	 * which ends the phases whatever the engines named them. */
	for (int rank = 0; rank < 2 * METRICS_KINDS; rank++)
		for (size_t c = 0; c < res->ncols; c++)
			for (size_t r = 0; r < res->cols[c].nrows; r++) {
				const struct metrics_row *row = &res->cols[c].rows[r];
				int last = !strcmp(row->key, "startup.ready");
				if ((int)row->kind * 2 + last != rank)
					continue;
				size_t i;
				for (i = 0; i < n && strcmp(keys[i].key, row->key); i++)
					;
				if (i < n)
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 32;
					struct key_ref *k = realloc(keys, cap * sizeof(*k));
					if (!k) {
						free(keys);
						return NULL;
					}
					keys = k;
				}
				keys[n].key = row->key;
				keys[n].row = row;
				n++;
			}
	*count = n;
	return keys ? keys : calloc(1, sizeof(*keys));
}

/* ---- table ---- */

#define CELL 40

static void cell_main(const struct metrics_result *res, const struct metrics_column *col,
		      const struct metrics_row *row, char *buf)
{
	char v[32];
	if (!row) {
		snprintf(buf, CELL, "%s", col->available ? "-" : "");
		return;
	}
	metrics_fmt_value(row->s.median, v, sizeof(v));
	double ratio = metrics_ratio(res, col, row);
	if (isnan(ratio) || ratio == 1.0 || !strcmp(col->engine, "host")) {
		snprintf(buf, CELL, "%s", v);
	} else {
		char r[32];
		snprintf(buf, CELL, "%s %s", v, fmt_ratio(ratio, r, sizeof(r)));
	}
}

static void cell_range(const struct metrics_row *row, char *buf)
{
	char a[32], b[32];
	if (!row)
		buf[0] = '\0';
	else
		snprintf(buf, CELL, "%s..%s", metrics_fmt_value(row->s.min, a, sizeof(a)),
			 metrics_fmt_value(row->s.max, b, sizeof(b)));
}

static void cell_p99(const struct metrics_row *row, char *buf)
{
	char a[32];
	if (!row || !row->s.has_p99)
		buf[0] = '\0';
	else
		snprintf(buf, CELL, "p99 %s", metrics_fmt_value(row->s.p99, a, sizeof(a)));
}

static const char *kind_title(int kind)
{
	switch (kind) {
	case METRICS_STARTUP:
		return "Startup";
	case METRICS_IMAGE:
		return "Image size";
	case METRICS_FOOTPRINT:
		return "Memory footprint";
	case METRICS_CPU:
		return "CPU";
	case METRICS_MEM:
		return "Memory throughput (STREAM)";
	case METRICS_DISK:
		return "Disk I/O";
	case METRICS_NET:
		return "Network (UDP echo: one request in flight)";
	default:
		return "KVM exits per second, by reason, during each workload";
	}
}

static void render_table(FILE *out, const struct metrics_result *res)
{
	size_t nkeys = 0;
	struct key_ref *keys = row_order(res, &nkeys);
	size_t labw = 24, w[16];
	size_t ncols = res->ncols < 16 ? res->ncols : 16;
	char buf[CELL];
	for (size_t k = 0; keys && k < nkeys; k++) {
		size_t l = strlen(keys[k].row->label);
		if (l + 2 > labw)
			labw = l + 2;
	}
	for (size_t c = 0; c < ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		w[c] = strlen(col->title);
		if (strlen(col->backend) > w[c])
			w[c] = strlen(col->backend);
		if (w[c] < 11)
			w[c] = 11;
		for (size_t k = 0; keys && k < nkeys; k++) {
			const struct metrics_row *row = metrics_column_find(col, keys[k].key);
			cell_main(res, col, row, buf);
			if (strlen(buf) > w[c])
				w[c] = strlen(buf);
			cell_range(row, buf);
			if (strlen(buf) > w[c])
				w[c] = strlen(buf);
			cell_p99(row, buf);
			if (strlen(buf) > w[c])
				w[c] = strlen(buf);
		}
	}
	fprintf(out,
		"vlab bench: median of %u runs (after %u warm-up), min..max below it; "
		"xN = the median relative to the host's\n",
		res->runs, res->warmup);
	fprintf(out, "machine: %s; %s\n\n", res->machine, res->when);
	fprintf(out, "%-*s %-7s", (int)labw, "", "");
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, "  %-*s", (int)w[c], res->cols[c].title);
	fprintf(out, "\n%-*s %-7s", (int)labw, "", "");
	for (size_t c = 0; c < ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		fprintf(out, "  %-*s", (int)w[c],
			!col->available		       ? "unavailable"
			: col->error[0] && !col->nrows ? "failed"
						       : col->backend);
	}
	fprintf(out, "\n");
	int last_kind = -1;
	for (size_t k = 0; keys && k < nkeys; k++) {
		const struct metrics_row *ref = keys[k].row;
		if ((int)ref->kind != last_kind) {
			last_kind = (int)ref->kind;
			fprintf(out, "%s\n", kind_title(last_kind));
		}
		int any_p99 = 0;
		fprintf(out, "  %-*s %-7s", (int)labw - 2, ref->label, ref->unit);
		for (size_t c = 0; c < ncols; c++) {
			const struct metrics_row *row =
			    metrics_column_find(&res->cols[c], keys[k].key);
			any_p99 |= row && row->s.has_p99;
			cell_main(res, &res->cols[c], row, buf);
			fprintf(out, "  %-*s", (int)w[c], buf);
		}
		fprintf(out, "\n%-*s %-7s", (int)labw, "", "");
		for (size_t c = 0; c < ncols; c++) {
			cell_range(metrics_column_find(&res->cols[c], keys[k].key), buf);
			fprintf(out, "  %-*s", (int)w[c], buf);
		}
		fprintf(out, "\n");
		if (any_p99) {
			fprintf(out, "%-*s %-7s", (int)labw, "", "");
			for (size_t c = 0; c < ncols; c++) {
				cell_p99(metrics_column_find(&res->cols[c], keys[k].key), buf);
				fprintf(out, "  %-*s", (int)w[c], buf);
			}
			fprintf(out, "\n");
		}
	}
	if (!nkeys)
		fprintf(out, "(no figures)\n");
	/* What the cells cannot say. */
	int header = 0;
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		const char *what = !col->available ? "unavailable"
				   : col->error[0] ? (col->nrows ? "not all measured" : "failed")
						   : NULL;
		if ((what || col->reason[0]) && !header++)
			fprintf(out, "\nNotes:\n");
		if (!col->available)
			fprintf(out, "  %s: unavailable: %s\n", col->engine, col->reason);
		else if (col->reason[0])
			fprintf(out, "  %s (%s): %s\n", col->engine, col->backend, col->reason);
		if (col->available && what)
			fprintf(out, "  %s: %s: %s\n", col->engine, what, col->error);
		for (size_t r = 0; r < col->nrows; r++) {
			if (!col->rows[r].note[0])
				continue;
			if (!header++)
				fprintf(out, "\nNotes:\n");
			fprintf(out, "  %s %s: %s\n", col->engine, col->rows[r].key,
				col->rows[r].note);
		}
	}
	free(keys);
}

/* ---- JSON ---- */

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *row_json(const struct metrics_result *res, const struct metrics_column *col,
			const struct metrics_row *row)
{
	json_t *samples = json_array();
	for (size_t i = 0; i < row->nsamples && i < 64; i++)
		json_array_append_new(samples, json_real(row->samples[i]));
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "key",
	    row->key, "kind", metrics_kind_name(row->kind), "label", row->label, "unit", row->unit,
	    "better",
	    row->better > 0   ? "higher"
	    : row->better < 0 ? "lower"
			      : "neither",
	    "n", (json_int_t)row->s.n, "min", json_real(row->s.min), "median",
	    json_real(row->s.median), "max", json_real(row->s.max), "mean", json_real(row->s.mean),
	    "p99", row->s.has_p99 ? json_real(row->s.p99) : json_null(), "ratio_to_host",
	    num_or_null(metrics_ratio(res, col, row)), "samples", samples, "note", row->note);
}

static char *render_json(const struct metrics_result *res, struct vlab_err *err)
{
	json_t *cols = json_array();
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		json_t *rows = json_array();
		for (size_t r = 0; r < col->nrows; r++)
			json_array_append_new(rows, row_json(res, col, &col->rows[r]));
		json_array_append_new(
		    cols,
		    json_pack("{s:s, s:s, s:b, s:b, s:s, s:s, s:o, s:o}", "engine", col->engine,
			      "title", col->title, "available", col->available, "emulated",
			      col->emulated, "backend", col->backend, "reason", col->reason,
			      "error", col->error[0] ? json_string(col->error) : json_null(),
			      "metrics", rows));
	}
	json_t *doc = json_pack("{s:i, s:s, s:i, s:i, s:s, s:s, s:o}", "vlab_bench", 1, "version",
				VLAB_VERSION, "runs", (int)res->runs, "warmup", (int)res->warmup,
				"machine", res->machine, "when", res->when, "engines", cols);
	char *text =
	    doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
		: NULL;
	json_decref(doc);
	if (!text) {
		vlab_err_set(err, ENOMEM, "benchmark JSON");
		return NULL;
	}
	/* The caller frees with free(): hand over a malloc'd copy. */
	size_t l = strlen(text);
	char *copy = malloc(l + 2);
	if (copy) {
		memcpy(copy, text, l);
		copy[l] = '\n';
		copy[l + 1] = '\0';
	} else {
		vlab_err_set(err, ENOMEM, "benchmark JSON");
	}
	free(text);
	return copy;
}

/* ---- CSV (RFC 4180: fields with a comma, quote or newline are quoted) ---- */

static void csv_field(FILE *out, const char *s, int last)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

static void csv_num(FILE *out, double v, int valid)
{
	if (valid && isfinite(v))
		fprintf(out, "%.10g", v);
	fputc(',', out);
}

static void render_csv(FILE *out, const struct metrics_result *res)
{
	fputs("engine,title,key,kind,label,unit,n,min,median,max,mean,p99,ratio_to_host,note\n",
	      out);
	for (size_t c = 0; c < res->ncols; c++) {
		const struct metrics_column *col = &res->cols[c];
		if (!col->available || col->error[0]) {
			csv_field(out, col->engine, 0);
			csv_field(out, col->title, 0);
			csv_field(out, col->available ? "error" : "unavailable", 0);
			fputs(",,,,,,,,,,", out);
			csv_field(out, col->error[0] ? col->error : col->reason, 1);
		}
		for (size_t r = 0; r < col->nrows; r++) {
			const struct metrics_row *row = &col->rows[r];
			csv_field(out, col->engine, 0);
			csv_field(out, col->title, 0);
			csv_field(out, row->key, 0);
			csv_field(out, metrics_kind_name(row->kind), 0);
			csv_field(out, row->label, 0);
			csv_field(out, row->unit, 0);
			fprintf(out, "%zu,", row->s.n);
			csv_num(out, row->s.min, 1);
			csv_num(out, row->s.median, 1);
			csv_num(out, row->s.max, 1);
			csv_num(out, row->s.mean, 1);
			csv_num(out, row->s.p99, row->s.has_p99);
			csv_num(out, metrics_ratio(res, col, row), 1);
			csv_field(out, row->note, 1);
		}
	}
}

char *metrics_render(const struct metrics_result *res, enum metrics_format fmt,
		     struct vlab_err *err)
{
	if (fmt == METRICS_FORMAT_JSON)
		return render_json(res, err);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		vlab_err_set(err, errno, "render the benchmark");
		return NULL;
	}
	if (fmt == METRICS_FORMAT_CSV)
		render_csv(out, res);
	else
		render_table(out, res);
	if (fclose(out) != 0 || !text) {
		free(text);
		vlab_err_set(err, ENOMEM, "render the benchmark");
		return NULL;
	}
	return text;
}
