/* tests/unit/metrics/test_run.c: metrics_run() end to end on the host
 * engine with a scripted agent whose answers are known: warm-up dropped,
 * summaries right, failures and unavailable engines reported, progress and
 * cancellation, configuration errors. */
#include "tests/vtest.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "metrics/run.h"

/* Answers the n-th request of each verb with figures made from n, so the
 * samples are 1, 2, 3, ... per verb. */
#define FAKE_AGENT                                                                                 \
	"echo READY vlab-agent/1 t=1 platform=linux; c=0; m=0; d=0;"                               \
	"while read id verb rest; do case $verb in "                                               \
	"cpu) c=$((c+1)); echo \"$id ok int_ops_per_s=${c}000000 fp_ops_per_s=2000000 "            \
	"time_ns=${c}000000\";; "                                                                  \
	"mem) m=$((m+1)); echo \"$id ok copy_mbps=$m.5 scale_mbps=1 add_mbps=2 triad_mbps=3\";; "  \
	"disk) d=$((d+1)); echo \"$id ok write_mbps=$d read_mbps=9 verified=$DISK_OK\";; "         \
	"*) echo \"$id err unknown $verb\";; esac; done"

static struct vlab_spec fake_spec(const char *disk_ok)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	char sh[1024];
	snprintf(sh, sizeof(sh), "DISK_OK=%s; %s", disk_ok, FAKE_AGENT);
	assert_int_equal(vlab_spec_init(&spec, "host", "opts", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "sh", sh, &err), 0);
	return spec;
}

static unsigned progress_calls, last_done, last_total;
static volatile sig_atomic_t stop_after_startup;
static volatile sig_atomic_t cancel_flag;

static void on_progress(void *arg, const char *engine, const char *step, unsigned done,
			unsigned total)
{
	(void)arg;
	assert_string_equal(engine, "host");
	assert_true(done == last_done + 1 || done == 1);
	assert_true(done <= total);
	progress_calls++;
	last_done = done;
	last_total = total;
	if (stop_after_startup && strcmp(step, "startup") != 0)
		cancel_flag = 1;
}

static void test_host_pipeline(void **state)
{
	(void)state;
	struct vlab_spec spec = fake_spec("yes");
	struct metrics_target t = {.engine = "host", .spec = &spec};
	struct metrics_config cfg = {
	    .targets = &t,
	    .ntargets = 1,
	    .runs = 3,
	    .warmup = 1,
	    .kinds = (1u << METRICS_STARTUP) | (1u << METRICS_IMAGE) | (1u << METRICS_FOOTPRINT) |
		     (1u << METRICS_CPU) | (1u << METRICS_MEM) | (1u << METRICS_DISK),
	    .progress = on_progress,
	};
	struct metrics_result *res = NULL;
	struct vlab_err err = {0};
	int kids = vtest_count_children();
	progress_calls = last_done = 0;
	if (metrics_run(&cfg, &res, &err) < 0)
		fail_msg("metrics_run: %s", err.msg);
	assert_int_equal(vtest_count_children(), kids);
	assert_int_equal(res->ncols, 1);
	const struct metrics_column *col = &res->cols[0];
	if (col->error[0])
		fail_msg("host column error: %s", col->error);
	assert_true(col->available);
	assert_string_equal(col->backend, "native");
	/* 4 boots + 3 workloads x 4 requests. */
	assert_int_equal(last_total, 16);
	assert_int_equal(progress_calls, 16);

	/* cpu.int samples 1, 2, 3, 4 Mops/s; the first is the warm-up. */
	const struct metrics_row *r = metrics_column_find(col, "cpu.int");
	assert_non_null(r);
	assert_string_equal(r->unit, "Mops/s");
	assert_int_equal(r->s.n, 3);
	assert_float_equal(r->s.min, 2, 1e-9);
	assert_float_equal(r->s.median, 3, 1e-9);
	assert_float_equal(r->s.max, 4, 1e-9);
	r = metrics_column_find(col, "cpu.time");
	assert_float_equal(r->s.median, 3, 1e-9); /* ms */
	r = metrics_column_find(col, "mem.copy");
	assert_float_equal(r->s.median, 3.5, 1e-9);
	assert_int_equal(r->kind, METRICS_MEM);
	r = metrics_column_find(col, "disk.write");
	assert_float_equal(r->s.median, 3, 1e-9);
	assert_int_equal(r->kind, METRICS_DISK);

	/* Boot figures: startup and its phases, image (the shell), footprint. */
	r = metrics_column_find(col, "startup");
	assert_non_null(r);
	assert_int_equal(r->s.n, 3);
	assert_true(r->s.min > 0 && r->s.max < 10000);
	assert_non_null(metrics_column_find(col, "startup.spawn"));
	assert_non_null(metrics_column_find(col, "startup.exec"));
	const struct metrics_row *ready = metrics_column_find(col, "startup.ready");
	assert_non_null(ready);
	assert_true(ready->s.median <= metrics_column_find(col, "startup")->s.max);
	r = metrics_column_find(col, "image");
	assert_non_null(r);
	assert_true(r->s.min > 0 && r->s.min == r->s.max);
	r = metrics_column_find(col, "footprint");
	assert_non_null(r);
	assert_true(r->s.median > 0);
	assert_non_null(strstr(r->note, "PSS"));
	/* No net selected: no net rows; no KVM: no exit rows. */
	assert_null(metrics_column_find(col, "net.rtt"));
	for (size_t i = 0; i < col->nrows; i++)
		assert_int_not_equal(col->rows[i].kind, METRICS_EXITS);
	metrics_result_free(res);
	vlab_spec_free(&spec);
}

static void test_failures_are_reported(void **state)
{
	(void)state;
	/* The disk workload says it read back other bytes. */
	struct vlab_spec spec = fake_spec("no");
	struct metrics_target t[] = {{.engine = "host", .spec = &spec}, {.engine = "unikernel"}};
	struct metrics_config cfg = {
	    .targets = t,
	    .ntargets = 2,
	    .runs = 2,
	    .warmup = METRICS_NO_WARMUP,
	    .kinds = (1u << METRICS_CPU) | (1u << METRICS_DISK),
	};
	struct metrics_result *res = NULL;
	struct vlab_err err = {0};
	if (metrics_run(&cfg, &res, &err) < 0)
		fail_msg("metrics_run: %s", err.msg);
	assert_int_equal(res->warmup, 0);
	const struct metrics_column *host = metrics_result_find(res, "host");
	assert_non_null(strstr(host->error, "disk"));
	assert_non_null(strstr(host->error, "read back"));
	assert_non_null(metrics_column_find(host, "cpu.int")); /* what worked stays */
	assert_null(metrics_column_find(host, "disk.write"));
	assert_int_equal(metrics_column_find(host, "cpu.int")->s.n, 2);
	const struct metrics_column *uk = metrics_result_find(res, "unikernel");
	if (uk->available)
		print_message("unikernel engine present: its column is measured\n");
	else
		assert_true(uk->reason[0] != '\0');
	metrics_result_free(res);
	vlab_spec_free(&spec);
}

static void test_cancel(void **state)
{
	(void)state;
	struct vlab_spec spec = fake_spec("yes");
	struct metrics_target t = {.engine = "host", .spec = &spec};
	struct metrics_config cfg = {
	    .targets = &t,
	    .ntargets = 1,
	    .runs = 2,
	    .kinds = (1u << METRICS_STARTUP) | (1u << METRICS_CPU),
	    .progress = on_progress,
	    .cancel = &cancel_flag,
	};
	struct metrics_result *res = NULL;
	struct vlab_err err = {0};
	last_done = 0;
	cancel_flag = 0;
	stop_after_startup = 1;
	int kids = vtest_count_children();
	assert_int_equal(metrics_run(&cfg, &res, &err), 0);
	stop_after_startup = 0;
	const struct metrics_column *col = &res->cols[0];
	assert_non_null(strstr(col->error, "stopped"));
	assert_non_null(metrics_column_find(col, "startup"));
	assert_null(metrics_column_find(col, "cpu.int"));
	assert_int_equal(vtest_count_children(), kids);
	metrics_result_free(res);
	vlab_spec_free(&spec);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct metrics_target t = {.engine = "docker"};
	struct metrics_config cfg = {.targets = &t, .ntargets = 1};
	struct metrics_result *res = NULL;
	struct vlab_err err = {0};
	assert_int_equal(metrics_run(&cfg, &res, &err), -1);
	assert_non_null(strstr(err.msg, "docker"));
	assert_null(res);
	t.engine = "host";
	cfg.runs = 1;
	assert_int_equal(metrics_run(&cfg, &res, &err), -1);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "single sample"));
	cfg.runs = 3;
	cfg.ntargets = 0;
	assert_int_equal(metrics_run(&cfg, &res, &err), -1);
}

static void test_availability(void **state)
{
	(void)state;
	struct vlab_hostcaps caps;
	struct vlab_avail a;
	vlab_hostcaps_probe(&caps, 0);
	metrics_engine_avail(&caps, "host", &a);
	assert_int_not_equal(a.level, VLAB_AVAIL_NO);
	metrics_engine_avail(&caps, "no-such-engine", &a);
	assert_int_equal(a.level, VLAB_AVAIL_NO);
	assert_non_null(strstr(a.reason, "not built"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_pipeline), cmocka_unit_test(test_failures_are_reported),
	    cmocka_unit_test(test_cancel),	  cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_availability),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
