/* tests/unit/metrics/test_stats.c: summary statistics from known inputs. */
#include "tests/vtest.h"

#include <math.h>

#include "metrics/stats.h"

static void test_odd_count_with_warmup(void **state)
{
	(void)state;
	/* The warm-up sample (1000) is dropped; the rest are unsorted. */
	const double x[] = {1000, 5, 1, 4, 2, 3};
	struct metrics_summary s;
	struct vlab_err err = {0};
	assert_int_equal(metrics_summarize(x, 6, 1, &s, &err), 0);
	assert_int_equal(s.n, 5);
	assert_float_equal(s.min, 1, 0);
	assert_float_equal(s.median, 3, 0);
	assert_float_equal(s.max, 5, 0);
	assert_float_equal(s.mean, 3, 1e-12);
	assert_false(s.has_p99);
	/* The input is left as it was. */
	assert_float_equal(x[1], 5, 0);
}

static void test_even_count_median_is_middle_mean(void **state)
{
	(void)state;
	const double x[] = {10, 40, 20, 30};
	struct metrics_summary s;
	assert_int_equal(metrics_summarize(x, 4, 0, &s, NULL), 0);
	assert_float_equal(s.median, 25, 1e-12);
	assert_float_equal(s.min, 10, 0);
	assert_float_equal(s.max, 40, 0);
}

static void test_p99_interpolates(void **state)
{
	(void)state;
	/* 1..1000 shuffled by a fixed stride: p99 = x[h], h = 999 * 0.99 =
	 * 989.01 -> 990 + 0.01 * (991 - 990) = 990.01; median = 500.5. */
	double x[1000];
	for (int i = 0; i < 1000; i++)
		x[i] = (double)((i * 7919) % 1000 + 1);
	struct metrics_summary s;
	assert_int_equal(metrics_summarize(x, 1000, 0, &s, NULL), 0);
	assert_true(s.has_p99);
	assert_float_equal(s.p99, 990.01, 1e-9);
	assert_float_equal(s.median, 500.5, 1e-9);
	assert_float_equal(s.min, 1, 0);
	assert_float_equal(s.max, 1000, 0);

	/* 101 samples 0..100: p99 is exactly 99. */
	double y[101];
	for (int i = 0; i < 101; i++)
		y[100 - i] = i;
	assert_int_equal(metrics_summarize(y, 101, 0, &s, NULL), 0);
	assert_float_equal(s.p99, 99, 1e-12);
	assert_float_equal(s.median, 50, 0);
}

static void test_quantile_edges(void **state)
{
	(void)state;
	const double x[] = {1, 2, 4};
	assert_float_equal(metrics_quantile(x, 3, 0), 1, 0);
	assert_float_equal(metrics_quantile(x, 3, 1), 4, 0);
	assert_float_equal(metrics_quantile(x, 3, 0.75), 3, 1e-12);
	assert_float_equal(metrics_quantile(x, 1, 0.5), 1, 0);
	assert_true(isnan(metrics_quantile(x, 0, 0.5)));
}

static void test_refuses_single_sample(void **state)
{
	(void)state;
	const double x[] = {1, 2, 3};
	struct metrics_summary s;
	struct vlab_err err = {0};
	assert_int_equal(metrics_summarize(x, 2, 1, &s, &err), -1);
	assert_non_null(strstr(err.msg, "at least 2"));
	assert_int_equal(metrics_summarize(x, 3, 3, &s, &err), -1);
	assert_int_equal(metrics_summarize(x, 0, 0, &s, &err), -1);
	const double bad[] = {1, NAN, 3};
	assert_int_equal(metrics_summarize(bad, 3, 0, &s, &err), -1);
	assert_non_null(strstr(err.msg, "sample 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_odd_count_with_warmup),
	    cmocka_unit_test(test_even_count_median_is_middle_mean),
	    cmocka_unit_test(test_p99_interpolates),
	    cmocka_unit_test(test_quantile_edges),
	    cmocka_unit_test(test_refuses_single_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
