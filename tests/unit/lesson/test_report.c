/* tests/unit/lesson/test_report.c: every report format of a grade, checked
 * with a parser: JSON and Gradescope results.json with jansson against
 * their schema, JUnit XML with libxml2, TAP line by line (the e2e test
 * also feeds it to prove), text for its score line.  Titles and answers
 * carry characters each format must escape. */
#include "tests/vtest.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>

#include "lesson/grade.h"

static void item(struct lesson_grade *g, const char *id, const char *title, int step, double pts,
		 enum lesson_status st, const char *msg, const char *answer)
{
	struct lesson_grade_item *it = &g->items[g->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->id, sizeof(it->id), "%s", id);
	snprintf(it->title, sizeof(it->title), "%s", title);
	it->is_step = step;
	it->points = pts;
	it->status = st;
	it->score = st == LESSON_PASSED ? pts : 0;
	snprintf(it->message, sizeof(it->message), "%s", msg);
	if (answer) {
		it->answered = 1;
		snprintf(it->answer, sizeof(it->answer), "%s", answer);
	}
	g->max += pts;
	g->score += it->score;
	switch (st) {
	case LESSON_PASSED: g->passed++; break;
	case LESSON_FAILED: g->failed++; break;
	case LESSON_ERROR: g->errors++; break;
	case LESSON_SKIPPED: g->skipped++; break;
	default: g->todo++; break;
	}
}

static struct lesson_grade_item items[8];

static void make(struct lesson_grade *g)
{
	memset(g, 0, sizeof(*g));
	g->items = items;
	snprintf(g->lab_id, sizeof(g->lab_id), "01-first-look");
	snprintf(g->lab_title, sizeof(g->lab_title), "A first look <at> \"engines\" & co");
	snprintf(g->lab_version, sizeof(g->lab_version), "2");
	snprintf(g->lab_sha256, sizeof(g->lab_sha256), "%064d", 0);
	snprintf(g->workbook, sizeof(g->workbook), "/tmp/w & b.json");
	snprintf(g->student, sizeof(g->student), "ada");
	item(g, "start-host", "Start the host # baseline", 1, 2, LESSON_PASSED, "ok", NULL);
	item(g, "start-vm", "Boot the <VM>", 1, 3, LESSON_SKIPPED,
	     "the vm engine cannot run here: no KVM", NULL);
	item(g, "q-kernel", "Which kernel?", 0, 1, LESSON_FAILED, "Not quite.", "its \"own\" & <more>");
	item(g, "q-startup", "Startup in ms", 0, 1.5, LESSON_PASSED, "Right.", "12.5");
	item(g, "broken", "A step whose check raised", 1, 1, LESSON_ERROR,
	     "labs/x.lua:12: attempt to index a nil value\nsecond line\x01", NULL);
	item(g, "q-text", "Not answered", 0, 1, LESSON_TODO, "not answered", NULL);
}

static char *render(const struct lesson_grade *g, enum lesson_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct vlab_err err = {0};
	assert_int_equal(lesson_report_write(f, g, fmt, &err), 0);
	fclose(f);
	return buf;
}

static void test_json(void **state)
{
	(void)state;
	struct lesson_grade g;
	make(&g);
	char *text = render(&g, LESSON_FMT_JSON);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("JSON report does not parse: %d:%d %s", je.line, je.column, je.text);
	assert_string_equal(json_string_value(json_object_get(j, "format")), "vlab-grade/1");
	assert_true(json_number_value(json_object_get(j, "score")) == 3.5);
	assert_true(json_number_value(json_object_get(j, "max_score")) == 9.5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "lab"), "title")),
			    g.lab_title);
	json_t *its = json_object_get(j, "items");
	assert_int_equal(json_array_size(its), 6);
	double sum = 0;
	size_t i;
	json_t *it;
	json_array_foreach(its, i, it)
	{
		assert_true(json_is_string(json_object_get(it, "id")));
		assert_true(json_is_number(json_object_get(it, "score")));
		assert_true(json_is_number(json_object_get(it, "max_score")));
		assert_true(json_number_value(json_object_get(it, "score")) <=
			    json_number_value(json_object_get(it, "max_score")));
		sum += json_number_value(json_object_get(it, "score"));
	}
	assert_true(sum == 3.5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(its, 2), "answer")),
			    "its \"own\" & <more>");
	assert_true(json_is_null(json_object_get(json_array_get(its, 5), "answer")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(its, 5), "status")),
			    "not done");
	json_decref(j);
	free(text);
}

static void test_gradescope(void **state)
{
	(void)state;
	struct lesson_grade g;
	make(&g);
	char *text = render(&g, LESSON_FMT_GRADESCOPE);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("results.json does not parse: %d:%d %s", je.line, je.column, je.text);
	/* The results.json schema: top-level score, output, visibility; tests
	 * with name, score, max_score, status, output, visibility. */
	assert_true(json_is_number(json_object_get(j, "score")));
	assert_true(json_number_value(json_object_get(j, "score")) == 3.5);
	assert_true(json_is_string(json_object_get(j, "output")));
	static const char *const vis[] = {"hidden", "after_due_date", "after_published", "visible"};
	const char *v = json_string_value(json_object_get(j, "visibility"));
	int ok = 0;
	for (int k = 0; k < 4; k++)
		ok |= v && !strcmp(v, vis[k]);
	assert_true(ok);
	json_t *tests = json_object_get(j, "tests");
	assert_int_equal(json_array_size(tests), 6);
	size_t i;
	json_t *t;
	const char *allowed[] = {"name", "number", "score", "max_score", "status", "output",
				 "visibility", "tags", "name_format", "output_format"};
	json_array_foreach(tests, i, t)
	{
		const char *k;
		json_t *val;
		json_object_foreach(t, k, val)
		{
			int known = 0;
			for (size_t a = 0; a < sizeof(allowed) / sizeof(allowed[0]); a++)
				known |= !strcmp(k, allowed[a]);
			if (!known)
				fail_msg("test %zu has a key results.json does not define: %s", i, k);
		}
		assert_true(json_is_string(json_object_get(t, "name")));
		assert_true(json_is_number(json_object_get(t, "score")));
		assert_true(json_is_number(json_object_get(t, "max_score")));
		const char *st = json_string_value(json_object_get(t, "status"));
		assert_true(st && (!strcmp(st, "passed") || !strcmp(st, "failed")));
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(tests, 0), "status")),
			    "passed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(tests, 2), "status")),
			    "failed");
	json_decref(j);
	free(text);
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

static char *prop(xmlNode *n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static void test_junit(void **state)
{
	(void)state;
	struct lesson_grade g;
	make(&g);
	char *text = render(&g, LESSON_FMT_JUNIT);
	xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), "junit.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		fail_msg("JUnit XML does not parse:\n%s", text);
	xmlNode *root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "testsuites");
	xmlNode *suite = child(root, "testsuite");
	assert_non_null(suite);
	char *p = prop(suite, "tests");
	assert_string_equal(p, "6");
	xmlFree(p);
	p = prop(suite, "failures");
	assert_string_equal(p, "2"); /* failed + not done */
	xmlFree(p);
	p = prop(suite, "errors");
	assert_string_equal(p, "1");
	xmlFree(p);
	p = prop(suite, "skipped");
	assert_string_equal(p, "1");
	xmlFree(p);
	int cases = 0, failures = 0, errors = 0, skipped = 0;
	for (xmlNode *c = suite->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "testcase"))
			continue;
		cases++;
		char *cls = prop(c, "classname"), *name = prop(c, "name");
		assert_string_equal(cls, "01-first-look");
		assert_non_null(name);
		if (cases == 2)
			assert_string_equal(name, "start-vm: Boot the <VM>");
		xmlFree(cls);
		xmlFree(name);
		failures += child(c, "failure") != NULL;
		errors += child(c, "error") != NULL;
		skipped += child(c, "skipped") != NULL;
	}
	assert_int_equal(cases, 6);
	assert_int_equal(failures, 2);
	assert_int_equal(errors, 1);
	assert_int_equal(skipped, 1);
	/* The score is a property. */
	xmlNode *props = child(suite, "properties");
	assert_non_null(props);
	int found = 0;
	for (xmlNode *c = props->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		char *n = prop(c, "name"), *v = prop(c, "value");
		if (!strcmp(n, "score")) {
			assert_string_equal(v, "3.5");
			found = 1;
		}
		xmlFree(n);
		xmlFree(v);
	}
	assert_true(found);
	xmlFreeDoc(doc);
	free(text);
}

static void test_tap(void **state)
{
	(void)state;
	struct lesson_grade g;
	make(&g);
	char *text = render(&g, LESSON_FMT_TAP);
	assert_true(!strncmp(text, "TAP version 13\n1..6\n", 20));
	int oks = 0, notoks = 0, skips = 0, n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7)) {
			n++;
			int num = atoi(line + (line[0] == 'o' ? 3 : 7));
			assert_int_equal(num, n);
			if (line[0] == 'o')
				oks++;
			else
				notoks++;
			char *hash = strstr(line, " # ");
			if (hash) {
				assert_non_null(strstr(hash, "# SKIP"));
				skips++;
			}
			/* A '#' in a title is escaped, never a directive. */
			if (n == 1)
				assert_non_null(strstr(line, "host \\# baseline"));
		} else {
			/* Everything else is a comment, YAML (indented), or the plan. */
			assert_true(line[0] == '#' || line[0] == ' ' || !strncmp(line, "TAP", 3) ||
				    !strncmp(line, "1..", 3));
		}
	}
	assert_int_equal(n, 6);
	assert_int_equal(oks, 3); /* passed, passed, skipped */
	assert_int_equal(notoks, 3);
	assert_int_equal(skips, 1);
	free(text);
}

static void test_text(void **state)
{
	(void)state;
	struct lesson_grade g;
	make(&g);
	char *text = render(&g, LESSON_FMT_TEXT);
	assert_non_null(strstr(text, "Score: 3.5/9.5 (36.8%)"));
	assert_non_null(strstr(text, "[SKIP ]"));
	assert_non_null(strstr(text, "answer: 12.5"));
	free(text);
}

static void test_formats(void **state)
{
	(void)state;
	enum lesson_format f;
	assert_int_equal(lesson_format_parse("gradescope", &f), 0);
	assert_int_equal(f, LESSON_FMT_GRADESCOPE);
	assert_int_equal(lesson_format_parse("junit", &f), 0);
	assert_string_equal(lesson_format_ext(f), "xml");
	assert_int_equal(lesson_format_parse("yaml", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),  cmocka_unit_test(test_gradescope),
		cmocka_unit_test(test_junit), cmocka_unit_test(test_tap),
		cmocka_unit_test(test_text),  cmocka_unit_test(test_formats),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return r;
}
