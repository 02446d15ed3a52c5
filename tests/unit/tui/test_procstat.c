/* tests/unit/tui/test_procstat.c: the live CPU and memory of a process
 * tree, as the instances pane reads them from /proc. */
#include "tests/vtest.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "tui/procstat.h"

static void test_tree_cpu_and_memory(void **state)
{
	(void)state;
	/* A child that spins, with a grandchild that holds 32 MiB. */
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the child */
			size_t n = 32u << 20;
			char *p = malloc(n);
			for (size_t i = 0; p && i < n; i += 4096)
				p[i] = 1;
			pause();
			_exit(0);
		}
		for (;;)
			;
	}
	struct tui_procstat ps = {0};
	usleep(300000);
	assert_int_equal(tui_procstat_sample(&ps, kid), 0);
	assert_false(ps.valid); /* one sample: no rate yet */
	usleep(500000);
	assert_int_equal(tui_procstat_sample(&ps, kid), 0);
	assert_true(ps.valid);
	assert_int_equal(ps.nprocs, 2);
	/* The spinning child shows as busy (loosely: the machine is shared;
	 * an idle tree reads 0). */
	assert_true(ps.cpu_pct > 2.0);
	assert_true(ps.cpu_pct < 250.0);
	/* The grandchild's 32 MiB are counted. */
	assert_true(ps.rss >= (30u << 20));
	assert_true(ps.pss >= (30u << 20));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	/* A gone process is reported as gone. */
	usleep(100000);
	assert_int_equal(tui_procstat_sample(&ps, kid), -1);
	assert_int_equal(tui_procstat_sample(&ps, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_cpu_and_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
