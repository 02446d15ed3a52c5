/* lesson/report.c: a grade as text, JSON, TAP (version 13, which Debian's
 * prove reads), JUnit XML (classname = the lab, name = the item) or
 * Gradescope's results.json. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lesson/grade.h"
#include "lesson/ipc.h"

static const char *word(enum lesson_status st)
{
	switch (st) {
	case LESSON_PASSED: return "PASS";
	case LESSON_FAILED: return "FAIL";
	case LESSON_ERROR: return "ERROR";
	case LESSON_SKIPPED: return "SKIP";
	default: return "TODO";
	}
}

static const char *status_word(enum lesson_status st)
{
	return st == LESSON_TODO ? "not done" : lesson_status_name(st);
}

static double percent(const struct lesson_grade *g)
{
	return g->max > 0 ? 100.0 * g->score / g->max : 100.0;
}

static void text_report(FILE *f, const struct lesson_grade *g)
{
	fprintf(f, "Lab %s: %s (version %s)\n", g->lab_id, g->lab_title, g->lab_version);
	fprintf(f, "Workbook %s (student %s, last change %s, vlab %s)\n", g->workbook,
		g->student[0] ? g->student : "?", g->updated[0] ? g->updated : "?",
		g->wb_vlab_version[0] ? g->wb_vlab_version : "?");
	if (g->lab_changed)
		fprintf(f, "Note: the workbook was made with another version of the lab file.\n");
	fprintf(f, "\n");
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_grade_item *it = &g->items[i];
		fprintf(f, "  [%-5s] %5g/%-5g %s: %s\n", word(it->status), it->score, it->points,
			it->id, it->title);
		if (it->answered)
			fprintf(f, "%18sanswer: %s\n", "", it->answer);
		if (it->message[0])
			fprintf(f, "%18s%s\n", "", it->message);
	}
	fprintf(f, "\nScore: %g/%g (%.1f%%): %zu passed, %zu failed, %zu errors, %zu skipped, %zu not "
		   "done\n",
		g->score, g->max, percent(g), g->passed, g->failed, g->errors, g->skipped, g->todo);
}

static json_t *jtext(const char *s)
{
	return lesson_json_text(s, strlen(s));
}

static json_t *json_report(const struct lesson_grade *g)
{
	json_t *items = json_array();
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_grade_item *it = &g->items[i];
		json_t *o = json_pack("{s:o, s:s, s:o, s:s, s:f, s:f, s:o, s:i, s:i}", "id",
				      jtext(it->id), "kind", it->is_step ? "step" : "question",
				      "title", jtext(it->title), "status", status_word(it->status),
				      "score", it->score, "max_score", it->points, "message",
				      jtext(it->message), "hints_used", (int)it->hints_used,
				      "attempts", (int)it->attempts);
		json_object_set_new(o, "answer", it->answered ? jtext(it->answer) : json_null());
		json_array_append_new(items, o);
	}
	return json_pack("{s:s, s:{s:o, s:o, s:o, s:s}, s:{s:o, s:o, s:o, s:o, s:b}, s:f, s:f, "
			 "s:f, s:{s:i, s:i, s:i, s:i, s:i}, s:o}",
			 "format", "vlab-grade/1", "lab", "id", jtext(g->lab_id), "title",
			 jtext(g->lab_title), "version", jtext(g->lab_version), "sha256",
			 g->lab_sha256, "workbook", "path", jtext(g->workbook), "student",
			 jtext(g->student), "updated", jtext(g->updated), "vlab_version",
			 jtext(g->wb_vlab_version), "lab_changed", g->lab_changed, "score", g->score,
			 "max_score", g->max, "percent", percent(g), "counts", "passed",
			 (int)g->passed, "failed", (int)g->failed, "errors", (int)g->errors,
			 "skipped", (int)g->skipped, "not_done", (int)g->todo, "items", items);
}

/* TAP descriptions: no '#' (it starts a directive) and no newline. */
static void tap_desc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '#')
			fputs("\\#", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void yaml_str(FILE *f, const char *key, const char *value)
{
	json_t *j = jtext(value);
	char *s = json_dumps(j, JSON_ENCODE_ANY);
	fprintf(f, "  %s: %s\n", key, s ? s : "\"\"");
	free(s);
	json_decref(j);
}

static void tap_report(FILE *f, const struct lesson_grade *g)
{
	fprintf(f, "TAP version 13\n1..%zu\n", g->n);
	fprintf(f, "# lab %s (version %s), workbook %s\n", g->lab_id, g->lab_version, g->workbook);
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_grade_item *it = &g->items[i];
		int ok = it->status == LESSON_PASSED || it->status == LESSON_SKIPPED;
		fprintf(f, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
		tap_desc(f, it->id);
		fputs(": ", f);
		tap_desc(f, it->title);
		if (it->status == LESSON_SKIPPED) {
			fputs(" # SKIP ", f);
			tap_desc(f, it->message);
		}
		fputc('\n', f);
		fprintf(f, "  ---\n");
		yaml_str(f, "status", status_word(it->status));
		fprintf(f, "  score: %g\n  max_score: %g\n", it->score, it->points);
		if (it->message[0])
			yaml_str(f, "message", it->message);
		if (it->answered)
			yaml_str(f, "answer", it->answer);
		fprintf(f, "  ...\n");
	}
	fprintf(f, "# score %g/%g (%.1f%%)\n", g->score, g->max, percent(g));
}

/* XML text: escaped, and without the control characters XML 1.0 forbids. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				fputc('?', f);
			else
				fputc(c, f);
		}
	}
}

static void junit_report(FILE *f, const struct lesson_grade *g)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"vlab grade\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "skipped=\"%zu\">\n",
		g->n, g->failed + g->todo, g->errors, g->skipped);
	fprintf(f, "  <testsuite name=\"");
	xml_text(f, g->lab_id);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n", g->n,
		g->failed + g->todo, g->errors, g->skipped);
	fprintf(f, "    <properties>\n");
	fprintf(f, "      <property name=\"score\" value=\"%g\"/>\n", g->score);
	fprintf(f, "      <property name=\"max_score\" value=\"%g\"/>\n", g->max);
	fprintf(f, "      <property name=\"workbook\" value=\"");
	xml_text(f, g->workbook);
	fprintf(f, "\"/>\n      <property name=\"student\" value=\"");
	xml_text(f, g->student);
	fprintf(f, "\"/>\n    </properties>\n");
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_grade_item *it = &g->items[i];
		fprintf(f, "    <testcase classname=\"");
		xml_text(f, g->lab_id);
		fprintf(f, "\" name=\"");
		xml_text(f, it->id);
		fputs(": ", f);
		xml_text(f, it->title);
		fprintf(f, "\" time=\"0\">\n");
		const char *tag = it->status == LESSON_ERROR     ? "error"
				  : it->status == LESSON_SKIPPED ? "skipped"
				  : it->status == LESSON_PASSED  ? NULL
								 : "failure";
		if (tag) {
			fprintf(f, "      <%s message=\"", tag);
			xml_text(f, it->message[0] ? it->message : status_word(it->status));
			fprintf(f, "\"%s/>\n", !strcmp(tag, "skipped") ? "" : " type=\"vlab\"");
		}
		fprintf(f, "      <system-out>score %g/%g", it->score, it->points);
		if (it->answered) {
			fputs("; answer: ", f);
			xml_text(f, it->answer);
		}
		fprintf(f, "</system-out>\n    </testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
}

static json_t *gradescope_report(const struct lesson_grade *g)
{
	json_t *tests = json_array();
	for (size_t i = 0; i < g->n; i++) {
		const struct lesson_grade_item *it = &g->items[i];
		char name[320], out[VLAB_ERR_MSG + 400], num[16];
		snprintf(name, sizeof(name), "%s: %s", it->id, it->title);
		snprintf(num, sizeof(num), "%zu", i + 1);
		snprintf(out, sizeof(out), "%s%s%s%s%s", status_word(it->status),
			 it->message[0] ? ": " : "", it->message, it->answered ? "\nanswer: " : "",
			 it->answered ? it->answer : "");
		json_array_append_new(
			tests, json_pack("{s:o, s:s, s:f, s:f, s:s, s:o, s:s}", "name", jtext(name),
					 "number", num, "score", it->score, "max_score", it->points,
					 "status", it->status == LESSON_PASSED ? "passed" : "failed",
					 "output", jtext(out), "visibility", "visible"));
	}
	char summary[512];
	snprintf(summary, sizeof(summary), "%s: %g/%g points (%zu passed, %zu failed, %zu errors, "
					   "%zu skipped, %zu not done)%s",
		 g->lab_title, g->score, g->max, g->passed, g->failed, g->errors, g->skipped, g->todo,
		 g->lab_changed ? "; the workbook was made with another version of the lab" : "");
	return json_pack("{s:f, s:o, s:s, s:s, s:o}", "score", g->score, "output", jtext(summary),
			 "visibility", "visible", "stdout_visibility", "hidden", "tests", tests);
}

int lesson_report_write(FILE *out, const struct lesson_grade *g, enum lesson_format fmt,
			struct vlab_err *err)
{
	json_t *j = NULL;
	switch (fmt) {
	case LESSON_FMT_TEXT: text_report(out, g); break;
	case LESSON_FMT_TAP: tap_report(out, g); break;
	case LESSON_FMT_JUNIT: junit_report(out, g); break;
	case LESSON_FMT_JSON: j = json_report(g); break;
	case LESSON_FMT_GRADESCOPE: j = gradescope_report(g); break;
	}
	if (j) {
		if (json_dumpf(j, out, JSON_INDENT(2)) < 0) {
			json_decref(j);
			return vlab_err_set(err, EIO, "write the report");
		}
		fputc('\n', out);
		json_decref(j);
	}
	if (fflush(out) != 0 || ferror(out))
		return vlab_err_set(err, errno ? errno : EIO, "write the report");
	return 0;
}
