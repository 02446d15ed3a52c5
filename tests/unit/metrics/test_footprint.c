/* tests/unit/metrics/test_footprint.c: the smaps_rollup parser (from a
 * fixture and malformed text) and the PSS of a real process tree. */
#include "tests/vtest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "metrics/footprint.h"

#define FIXTURES "tests/unit/metrics/fixtures"

static char *read_fixture(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), FIXTURES "/%s", name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_parse_fixture(void **state)
{
	(void)state;
	struct metrics_smaps s;
	struct vlab_err err = {0};
	assert_int_equal(metrics_parse_smaps_rollup(read_fixture("smaps_rollup"), &s, &err), 0);
	assert_int_equal(s.rss, 1668 * 1024);
	assert_int_equal(s.pss, 328 * 1024);
	assert_int_equal(s.pss_anon, 112 * 1024);
	assert_int_equal(s.pss_file, 216 * 1024);
	assert_int_equal(s.pss_shmem, 0);
	assert_int_equal(s.swap, 12 * 1024);
	assert_int_equal(s.swap_pss, 4 * 1024);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	struct metrics_smaps s;
	struct vlab_err err = {0};
	assert_int_equal(metrics_parse_smaps_rollup("Rss: 10 kB\n", &s, &err), -1);
	assert_non_null(strstr(err.msg, "no Pss"));
	assert_int_equal(metrics_parse_smaps_rollup("hdr [rollup]\nPss: ten kB\n", &s, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_int_equal(metrics_parse_smaps_rollup("Pss: 10 MB\n", &s, &err), -1);
	assert_int_equal(metrics_parse_smaps_rollup("", &s, &err), -1);
	/* Older kernels: Pss only. */
	assert_int_equal(metrics_parse_smaps_rollup("Pss: 7 kB", &s, &err), 0);
	assert_int_equal(s.pss, 7 * 1024);
	assert_int_equal(s.pss_anon, 0);
}

/* A child that touches 32 MiB of private memory shows up in our tree's
 * PSS; its own tree is smaller than ours plus it. */
static void test_tree_counts_children(void **state)
{
	(void)state;
	const size_t big = 32u << 20;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		char *p =
		    mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		memset(p, 1, big);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	struct metrics_smaps self, tree, kid_only;
	size_t n = 0;
	struct vlab_err err = {0};
	assert_int_equal(metrics_read_smaps(getpid(), &self, &err), 0);
	assert_int_equal(metrics_tree_smaps(getpid(), &tree, &n, &err), 0);
	assert_int_equal(metrics_read_smaps(kid, &kid_only, &err), 0);
	assert_true(n >= 2);
	assert_true(kid_only.pss_anon >= big);
	assert_true(tree.pss >= self.pss + big);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	close(ready[0]);
	close(ready[1]);

	/* A process that is gone is an error naming it. */
	assert_int_equal(metrics_tree_smaps(kid, &tree, &n, &err), -1);
	assert_non_null(strstr(err.msg, "smaps_rollup"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_fixture),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_tree_counts_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
