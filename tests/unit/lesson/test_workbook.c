/* tests/unit/lesson/test_workbook.c: the workbook file: round trip, atomic
 * replace, malformed files refused with line and column, set aside without
 * overwriting, and kill -9 at random moments of a writer in a loop: the
 * file is always the complete old or the complete new version. */
#include "tests/vtest.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/clock.h"
#include "lesson/workbook.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vlab-test-workbook-%d", (int)getpid());
	mkdir(dir, 0700);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t count_files(const char *prefix)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/rt.json", dir);
	struct vlab_err err = {0};
	json_t *wb = lesson_workbook_new("lab-1", "A lab", "3", "/labs/lab-1.lua", "abc123");
	json_t *it = lesson_workbook_item(wb, "q1", 1);
	json_object_set_new(it, "answer", json_string("d\xc3\xa9j\xc3\xa0 \"vu\"\n"));
	json_object_set_new(it, "status", json_string("passed"));
	json_object_set_new(it, "score", json_real(1.5));
	json_object_set_new(json_object_get(wb, "measurements"), "startup.vm",
			    json_pack("{s:f, s:s}", "value", 6241.5, "unit", "ms"));
	assert_int_equal(lesson_workbook_save(path, wb, &err), 0);
	json_t *back;
	assert_int_equal(lesson_workbook_load(path, &back, &err), 1);
	assert_true(json_equal(wb, back));
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "lab"), "id")),
			    "lab-1");
	assert_string_equal(json_string_value(json_object_get(back, "vlab_version")), VLAB_VERSION);
	json_decref(back);
	json_decref(wb);
	/* A missing file is no error: nothing there yet. */
	snprintf(path, sizeof(path), "%s/none.json", dir);
	assert_int_equal(lesson_workbook_load(path, &back, &err), 0);
	assert_null(back);
}

static void test_atomic_replace(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/atomic.json", dir);
	struct vlab_err err = {0};
	json_t *a = lesson_workbook_new("a", "A", "1", "x", "s");
	json_t *b = lesson_workbook_new("a", "A", "2", "x", "s");
	assert_int_equal(lesson_workbook_save(path, a, &err), 0);
	struct stat st1, st2;
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(lesson_workbook_save(path, b, &err), 0);
	assert_int_equal(stat(path, &st2), 0);
	/* A new file was renamed over the old one (never written in place). */
	assert_true(st1.st_ino != st2.st_ino);
	json_t *back;
	assert_int_equal(lesson_workbook_load(path, &back, &err), 1);
	assert_true(json_equal(back, b));
	json_decref(back);
	/* No temporary file is left behind. */
	assert_int_equal(count_files(".atomic.json.tmp-"), 0);
	/* A stale one from a dead writer is swept on the next load. */
	char stale[400];
	snprintf(stale, sizeof(stale), "%s/.atomic.json.tmp-999999999", dir);
	write_file(stale, "{half");
	assert_int_equal(lesson_workbook_load(path, &back, &err), 1);
	json_decref(back);
	assert_int_equal(count_files(".atomic.json.tmp-"), 0);
	/* The folder is created when missing. */
	snprintf(path, sizeof(path), "%s/deeper/still/wb.json", dir);
	assert_int_equal(lesson_workbook_save(path, a, &err), 0);
	json_decref(a);
	json_decref(b);
}

static void expect_bad(const char *name, const char *text, const char *needle)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text);
	struct vlab_err err = {0};
	json_t *wb = NULL;
	assert_int_equal(lesson_workbook_load(path, &wb, &err), -1);
	assert_null(wb);
	assert_int_equal(err.code, EBADMSG);
	if (!strstr(err.msg, needle) || !strstr(err.msg, path))
		fail_msg("%s: '%s' lacks '%s' or the path", name, err.msg, needle);
}

static void test_corrupt(void **state)
{
	(void)state;
	expect_bad("trunc.json", "{\"format\": \"vlab-workbook/1\",\n \"lab\": {\"id\": \"x\"", ":2:");
	expect_bad("empty.json", "", ":1:");
	expect_bad("array.json", "[1, 2]", "not a JSON object");
	expect_bad("format.json", "{\"format\": \"other/1\"}", "format is other/1");
	expect_bad("nolab.json", "{\"format\": \"vlab-workbook/1\", \"items\": {}}", "lab.id");
	expect_bad("items.json", "{\"format\": \"vlab-workbook/1\", \"lab\": {\"id\": \"x\"}, \"items\": []}",
		   "items");
	expect_bad("score.json",
		   "{\"format\": \"vlab-workbook/1\", \"lab\": {\"id\": \"x\"}, \"items\": {\"s\": "
		   "{\"score\": \"ten\"}}}",
		   "items.s.score");
	expect_bad("dup.json",
		   "{\"format\": \"vlab-workbook/1\", \"format\": \"vlab-workbook/1\", \"lab\": {}}",
		   "duplicate");
	expect_bad("nul.json", "{\"format\": \"vlab-workbook/1\"\0}", ":1:");

	/* Set aside: renamed, content intact, never replaced. */
	char path[300], aside[400], aside2[400];
	snprintf(path, sizeof(path), "%s/trunc.json", dir);
	struct vlab_err err = {0};
	assert_int_equal(lesson_workbook_set_aside(path, "corrupt", aside, sizeof(aside), &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	FILE *f = fopen(aside, "r");
	assert_non_null(f);
	char buf[100] = "";
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 10);
	fclose(f);
	assert_non_null(strstr(buf, "vlab-workbook/1"));
	write_file(path, "second");
	assert_int_equal(lesson_workbook_set_aside(path, "corrupt", aside2, sizeof(aside2), &err), 0);
	assert_string_not_equal(aside, aside2);
	assert_int_equal(access(aside, F_OK), 0);
	assert_int_equal(access(aside2, F_OK), 0);
}

/* The writer: versions k, k+1, ... each with a payload that says k
 * throughout, as fast as it can. */
static void writer(const char *path, int max)
{
	json_t *old;
	long k = 0;
	if (lesson_workbook_load(path, &old, NULL) == 1) {
		k = (long)json_integer_value(json_object_get(old, "k"));
		json_decref(old);
	}
	for (int n = 0; max < 0 || n < max; n++) {
		k++;
		json_t *wb = lesson_workbook_new("kill", "kill -9", "1", "x", "s");
		json_t *payload = json_array();
		for (int i = 0; i < 3000; i++)
			json_array_append_new(payload, json_integer(k));
		json_object_set_new(wb, "k", json_integer(k));
		json_object_set_new(wb, "payload", payload);
		if (lesson_workbook_save(path, wb, NULL) < 0)
			_exit(2);
		json_decref(wb);
	}
	_exit(0);
}

static void test_kill9(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/kill.json", dir);
	srand((unsigned)time(NULL));
	/* How long a fresh writer takes for a few versions here (fsync speed
	 * and sanitizers vary): kills land anywhere within that. */
	uint64_t t0 = vlab_now_ns();
	pid_t probe = fork();
	assert_true(probe >= 0);
	if (probe == 0)
		writer(path, 4);
	assert_int_equal(waitpid(probe, NULL, 0), probe);
	long span_us = (long)((vlab_now_ns() - t0) / 1000), min_span = span_us;
	unlink(path);
	long last = 0;
	int seen_versions = 0;
	int round;
	for (round = 0; round < 400 && (round < 100 || seen_versions < 10); round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			writer(path, -1);
		long us = rand() % (span_us + 1);
		struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		json_t *wb = NULL;
		struct vlab_err err = {0};
		int r = lesson_workbook_load(path, &wb, &err);
		if (r == 0 && !seen_versions) {
			span_us += span_us / 4; /* killed before its first save: wait longer */
			continue;
		}
		if (r != 1)
			fail_msg("round %d: the workbook does not load: %s", round, err.msg);
		long k = (long)json_integer_value(json_object_get(wb, "k"));
		json_t *payload = json_object_get(wb, "payload");
		assert_int_equal(json_array_size(payload), 3000);
		size_t i;
		json_t *v;
		json_array_foreach(payload, i, v)
		{
			if (json_integer_value(v) != k)
				fail_msg("round %d: version %ld holds a piece of version %lld", round, k,
					 (long long)json_integer_value(v));
		}
		assert_true(k >= last);
		/* Keep about two rounds in three producing a new version, whatever
		 * this machine's speed today. */
		if (k > last) {
			seen_versions++;
			if (span_us - span_us / 8 >= min_span)
				span_us -= span_us / 8;
		} else if (span_us < 2000000) {
			span_us += span_us / 4;
		}
		last = k;
		json_decref(wb);
	}
	printf("kill -9: %d rounds, killed within %ld us of starting at the end, %d new versions "
	       "seen, last version %ld\n",
	       round, span_us, seen_versions, last);
	assert_true(seen_versions > 10);
	/* Loading swept the temporary files of the killed writers. */
	assert_int_equal(count_files(".kill.json.tmp-"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_atomic_replace),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_kill9),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
