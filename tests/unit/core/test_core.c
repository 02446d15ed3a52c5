/* tests/unit/core/test_core.c: errors, units, the line splitter, paths. */
#include "tests/vtest.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fdio.h"
#include "core/paths.h"
#include "core/proc.h"
#include "core/units.h"

static void test_err_set_and_prefix(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	assert_int_equal(vlab_err_set(&err, ENOENT, "open %s", "x"), -1);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "open x: No such file or directory");
	assert_int_equal(vlab_err_prefix(&err, "load lab %d", 3), -1);
	assert_string_equal(err.msg, "load lab 3: open x: No such file or directory");
	assert_int_equal(err.code, ENOENT);
	vlab_err_clear(&err);
	assert_string_equal(vlab_err_msg(&err), "unknown error");
	assert_int_equal(vlab_err_set(NULL, 1, "ignored"), -1);
}

static void test_parse_size(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	uint64_t v;
	assert_int_equal(vlab_parse_size("4096", &v, "memory", &err), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(vlab_parse_size("64M", &v, "memory", &err), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(vlab_parse_size("2GiB", &v, "memory", &err), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(vlab_parse_size("1k", &v, "memory", &err), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(vlab_parse_size("-1M", &v, "memory", &err), -1);
	assert_non_null(strstr(err.msg, "memory"));
	assert_int_equal(vlab_parse_size("12X", &v, "memory", &err), -1);
	assert_int_equal(vlab_parse_size("12MB junk", &v, "memory", &err), -1);
	assert_int_equal(vlab_parse_size("99999999999T", &v, "memory", &err), -1);
	assert_int_equal(vlab_parse_size("", &v, "memory", &err), -1);
}

static void test_parse_other(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	uint64_t v;
	int b;
	assert_int_equal(vlab_parse_uint("32", 1, 64, &v, "pids", &err), 0);
	assert_int_equal(v, 32);
	assert_int_equal(vlab_parse_uint("65", 1, 64, &v, "pids", &err), -1);
	assert_int_equal(err.code, ERANGE);
	assert_int_equal(vlab_parse_uint("3x", 1, 64, &v, "pids", &err), -1);
	assert_int_equal(vlab_parse_bool("On", &b, "nx", &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(vlab_parse_bool("false", &b, "nx", &err), 0);
	assert_int_equal(b, 0);
	assert_int_equal(vlab_parse_bool("maybe", &b, "nx", &err), -1);
	assert_int_equal(vlab_parse_duration_ns("250ms", &v, "t", &err), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(vlab_parse_duration_ns("1.5s", &v, "t", &err), 0);
	assert_int_equal(v, 1500000000ull);
	assert_int_equal(vlab_parse_duration_ns("7", &v, "t", &err), 0);
	assert_int_equal(v, 7000000ull);
	assert_int_equal(vlab_parse_duration_ns("3 weeks", &v, "t", &err), -1);
}

static void test_fmt(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(vlab_fmt_bytes(512, b, sizeof(b)), "512 B");
	assert_string_equal(vlab_fmt_bytes(64ull << 20, b, sizeof(b)), "64.0 MiB");
	assert_string_equal(vlab_fmt_ns(1500, b, sizeof(b)), "1.5 us");
	assert_string_equal(vlab_fmt_ns(2500000, b, sizeof(b)), "2.50 ms");
}

static void test_lines_split_and_cap(void **state)
{
	(void)state;
	struct vlab_lines lb;
	vlab_lines_init(&lb, 8);
	assert_int_equal(vlab_lines_feed(&lb, "ab\r\ncd\nxyz", 10, NULL), 0);
	int over;
	char *l = vlab_lines_next(&lb, &over);
	assert_string_equal(l, "ab");
	l = vlab_lines_next(&lb, &over);
	assert_string_equal(l, "cd");
	assert_null(vlab_lines_next(&lb, &over));
	/* "xyz" stays pending; an overlong line is dropped and flagged. */
	assert_int_equal(vlab_lines_feed(&lb, "0123456789", 10, NULL), 0);
	assert_null(vlab_lines_next(&lb, &over));
	assert_int_equal(over, 1);
	assert_int_equal(vlab_lines_feed(&lb, "tail\nok\n", 8, NULL), 0);
	l = vlab_lines_next(&lb, &over);
	assert_null(l); /* the rest of the overlong line */
	assert_int_equal(over, 1);
	l = vlab_lines_next(&lb, &over);
	assert_string_equal(l, "ok");
	vlab_lines_free(&lb);
}

/* Asking for a line before any data arrived (buffer not allocated yet)
 * returns none; under make check-asan this once tripped UBSan (pointer
 * arithmetic on NULL). */
static void test_lines_next_before_data(void **state)
{
	(void)state;
	struct vlab_lines lb;
	vlab_lines_init(&lb, 16);
	int over = 1;
	assert_null(vlab_lines_next(&lb, &over));
	assert_int_equal(over, 0);
	vlab_lines_free(&lb);
}

static void test_lines_wait(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct vlab_lines lb;
	vlab_lines_init(&lb, 1024);
	char *line;
	struct vlab_err err = {0};
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 20, &line, &err), 0); /* timeout */
	assert_int_equal(vlab_write_all(sv[1], "hello\nworld\n", 12, 100, &err), 0);
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 100, &line, &err), 1);
	assert_string_equal(line, "hello");
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 100, &line, &err), 1);
	assert_string_equal(line, "world");
	close(sv[1]);
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 100, &line, &err), -1);
	assert_int_equal(err.code, EPIPE);
	close(sv[0]);
	vlab_lines_free(&lb);
}

static void test_paths(void **state)
{
	(void)state;
	char buf[VLAB_PATH_MAX];
	struct vlab_err err = {0};
	setenv("VLAB_IMAGES", "/tmp/imgs", 1);
	assert_int_equal(vlab_image_path(VLAB_IMAGE_KERNEL, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/tmp/imgs/vmlinuz");
	assert_int_equal(vlab_image_path(VLAB_IMAGE_COUNT, buf, sizeof(buf), &err), -1);
	unsetenv("VLAB_IMAGES");
	setenv("XDG_STATE_HOME", "/tmp/st", 1);
	assert_int_equal(vlab_state_dir(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/tmp/st/vlab");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/ann", 1);
	assert_int_equal(vlab_state_dir(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/home/ann/.local/state/vlab");
	assert_int_equal(vlab_user_labs_dir(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/home/ann/.local/share/vlab/labs");
	char tmpl[] = "/tmp/vlab-test-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char deep[256];
	snprintf(deep, sizeof(deep), "%s/a/b/c", tmpl);
	assert_int_equal(vlab_mkdir_p(deep, 0700, &err), 0);
	assert_int_equal(vlab_mkdir_p(deep, 0700, &err), 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

/* A program that is not vlab is never re-executed as an instance. */
static void test_self_exe(void **state)
{
	(void)state;
	char buf[VLAB_PATH_MAX];
	struct vlab_err err = {0};
	char *was = getenv("VLAB_SELF") ? strdup(getenv("VLAB_SELF")) : NULL;
	unsetenv("VLAB_SELF");
	assert_int_equal(vlab_self_exe(buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, ENOEXEC);
	assert_non_null(strstr(err.msg, "set VLAB_SELF"));
	setenv("VLAB_SELF", "/bin/sh", 1);
	assert_int_equal(vlab_self_exe(buf, sizeof(buf), &err), 0);
	assert_non_null(strstr(buf, "sh"));
	if (was)
		setenv("VLAB_SELF", was, 1);
	else
		unsetenv("VLAB_SELF");
	free(was);
}

/* An engine's program: beside vlab, else in its source tree's build/. */
static void test_program_path(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/vlab-test-XXXXXX", f[300], buf[VLAB_PATH_MAX];
	assert_non_null(mkdtemp(tmpl));
	const char *files[] = {"vlab", "build/vlab-x"};
	snprintf(f, sizeof(f), "%s/build", tmpl);
	assert_int_equal(mkdir(f, 0700), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(f, sizeof(f), "%s/%s", tmpl, files[i]);
		FILE *fp = fopen(f, "w");
		assert_non_null(fp);
		fclose(fp);
		assert_int_equal(chmod(f, 0755), 0);
	}
	char *was = getenv("VLAB_SELF") ? strdup(getenv("VLAB_SELF")) : NULL;
	snprintf(f, sizeof(f), "%s/vlab", tmpl);
	setenv("VLAB_SELF", f, 1);
	assert_int_equal(vlab_program_path("vlab-x", buf, sizeof(buf)), 0);
	snprintf(f, sizeof(f), "%s/build/vlab-x", tmpl);
	assert_string_equal(buf, f);
	/* a source tree never takes an installed program */
	assert_int_equal(vlab_program_path("vlab-none", buf, sizeof(buf)), -1);
	if (was)
		setenv("VLAB_SELF", was, 1);
	else
		unsetenv("VLAB_SELF");
	free(was);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
}

static void test_proc_starttime(void **state)
{
	(void)state;
	unsigned long long a, b;
	assert_int_equal(vlab_proc_starttime(getpid(), &a), 0);
	assert_int_equal(vlab_proc_starttime(getpid(), &b), 0);
	assert_true(a > 0 && a == b);
	pid_t kid = fork();
	if (kid == 0)
		_exit(0);
	assert_int_equal(vlab_proc_starttime(kid, &b), 0);
	assert_true(b >= a);
	waitpid(kid, NULL, 0);
	assert_int_equal(vlab_proc_starttime(kid, &b), -1); /* gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_and_prefix), cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_other),        cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_lines_split_and_cap), cmocka_unit_test(test_lines_wait),
		cmocka_unit_test(test_lines_next_before_data),
		cmocka_unit_test(test_paths),                cmocka_unit_test(test_self_exe),
		cmocka_unit_test(test_proc_starttime),
		cmocka_unit_test(test_program_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
