/* tests/unit/metrics/test_render.c: the table, JSON and CSV renderings of
 * a result built from known samples: same figures in all three, ratios to
 * the host, unavailable and emulated engines labelled. */
#include "tests/vtest.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "metrics/render.h"

static struct metrics_result *sample_result(void)
{
	struct vlab_err err = {0};
	struct metrics_result *res = metrics_result_new(4, 1, &err);
	assert_non_null(res);
	/* vm, emulated: startup 9999 (warm-up), 4000, 5000, 6000, 5500. */
	struct metrics_column *vm = metrics_result_add_column(res, "vm", &err);
	vm->available = vm->emulated = 1;
	snprintf(vm->title, sizeof(vm->title), "vm (emulated)");
	snprintf(vm->backend, sizeof(vm->backend), "tcg");
	snprintf(vm->reason, sizeof(vm->reason), "no hardware virtualization");
	const double vm_start[] = {9999, 4000, 5000, 6000, 5500};
	assert_non_null(metrics_column_add(vm, "startup", METRICS_STARTUP,
					   "startup (create to READY)", "ms", METRICS_LOWER_BETTER,
					   vm_start, 5, 1, &err));
	const double vm_cpu[] = {1, 10, 20, 30, 40};
	assert_non_null(metrics_column_add(vm, "cpu.int", METRICS_CPU, "integer (sieve)", "Mops/s",
					   METRICS_HIGHER_BETTER, vm_cpu, 5, 1, &err));

	/* unikernel: unavailable, with the doctor's reason. */
	struct metrics_column *uk = metrics_result_add_column(res, "unikernel", &err);
	snprintf(uk->reason, sizeof(uk->reason), "the unikernel needs /dev/kvm, \"absent\"");

	/* container: an extra phase row and a note with a comma. */
	struct metrics_column *ct = metrics_result_add_column(res, "container", &err);
	ct->available = 1;
	snprintf(ct->backend, sizeof(ct->backend), "cgroup v1");
	const double ct_start[] = {50, 2, 3, 4, 3};
	assert_non_null(metrics_column_add(ct, "startup", METRICS_STARTUP,
					   "startup (create to READY)", "ms", METRICS_LOWER_BETTER,
					   ct_start, 5, 1, &err));
	const double ct_clone[] = {1, 0.5, 0.5, 0.5, 0.5};
	assert_non_null(metrics_column_add(ct, "startup.clone", METRICS_STARTUP, "phase clone",
					   "ms", METRICS_LOWER_BETTER, ct_clone, 5, 1, &err));
	const double ct_fp[] = {5, 8, 8, 8, 8};
	struct metrics_row *fp = metrics_column_add(ct, "footprint", METRICS_FOOTPRINT, "footprint",
						    "MiB", METRICS_LOWER_BETTER, ct_fp, 5, 1, &err);
	assert_non_null(fp);
	snprintf(fp->note, sizeof(fp->note), "cgroup v1, memory.usage_in_bytes");

	/* host: the baseline; net.rtt with enough samples for a p99. */
	struct metrics_column *host = metrics_result_add_column(res, "host", &err);
	host->available = 1;
	snprintf(host->backend, sizeof(host->backend), "native");
	const double h_start[] = {9, 2, 2, 2, 2};
	assert_non_null(metrics_column_add(host, "startup", METRICS_STARTUP,
					   "startup (create to READY)", "ms", METRICS_LOWER_BETTER,
					   h_start, 5, 1, &err));
	const double h_cpu[] = {1, 100, 100, 100, 100};
	assert_non_null(metrics_column_add(host, "cpu.int", METRICS_CPU, "integer (sieve)",
					   "Mops/s", METRICS_HIGHER_BETTER, h_cpu, 5, 1, &err));
	double rtt[201];
	for (int i = 0; i <= 200; i++)
		rtt[i] = 10 + i; /* 10..210 */
	assert_non_null(metrics_column_add(host, "net.rtt", METRICS_NET, "UDP echo round trip",
					   "us", METRICS_LOWER_BETTER, rtt, 201, 1, &err));
	return res;
}

static void test_ratios(void **state)
{
	(void)state;
	struct metrics_result *res = sample_result();
	const struct metrics_column *vm = metrics_result_find(res, "vm");
	const struct metrics_column *host = metrics_result_find(res, "host");
	const struct metrics_row *r = metrics_column_find(vm, "startup");
	assert_float_equal(r->s.median, 5250, 1e-9);
	assert_float_equal(metrics_ratio(res, vm, r), 2625, 1e-9);
	assert_float_equal(metrics_ratio(res, host, metrics_column_find(host, "startup")), 1, 0);
	/* The container's phase has no host counterpart. */
	const struct metrics_column *ct = metrics_result_find(res, "container");
	assert_true(isnan(metrics_ratio(res, ct, metrics_column_find(ct, "startup.clone"))));
	metrics_result_free(res);
}

static void test_table(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct metrics_result *res = sample_result();
	char *t = metrics_render(res, METRICS_FORMAT_TABLE, &err);
	assert_non_null(t);
	assert_non_null(strstr(t, "median of 4 runs (after 1 warm-up)"));
	assert_non_null(strstr(t, "vm (emulated)"));
	assert_non_null(strstr(t, "unavailable"));
	assert_non_null(strstr(t, "unikernel: unavailable: the unikernel needs /dev/kvm"));
	assert_non_null(strstr(t, "5250 x2625"));  /* vm startup: median, ratio */
	assert_non_null(strstr(t, "4000..6000"));  /* its range */
	assert_non_null(strstr(t, "25.00 x0.25")); /* vm cpu.int */
	assert_non_null(strstr(t, "p99 208.0"));   /* host rtt 11..210: h = 197.01 -> 208.01 */
	assert_non_null(strstr(t, "phase clone"));
	assert_non_null(strstr(t, "ms"));
	assert_non_null(strstr(t, "Mops/s"));
	assert_non_null(strstr(t, "container footprint: cgroup v1, memory.usage_in_bytes"));
	/* Rows come grouped: startup before cpu before net. */
	assert_true(strstr(t, "\nStartup\n") < strstr(t, "\nCPU\n"));
	assert_true(strstr(t, "\nCPU\n") < strstr(t, "\nNetwork"));
	free(t);
	metrics_result_free(res);
}

static void test_json_matches(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct metrics_result *res = sample_result();
	char *text = metrics_render(res, METRICS_FORMAT_JSON, &err);
	assert_non_null(text);
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	if (!doc)
		fail_msg("JSON does not parse: %s at line %d", je.text, je.line);
	assert_int_equal(json_integer_value(json_object_get(doc, "runs")), 4);
	assert_int_equal(json_integer_value(json_object_get(doc, "warmup")), 1);
	json_t *engines = json_object_get(doc, "engines");
	assert_int_equal(json_array_size(engines), 4);
	json_t *vm = json_array_get(engines, 0);
	assert_string_equal(json_string_value(json_object_get(vm, "engine")), "vm");
	assert_true(json_is_true(json_object_get(vm, "emulated")));
	json_t *uk = json_array_get(engines, 1);
	assert_true(json_is_false(json_object_get(uk, "available")));
	assert_non_null(strstr(json_string_value(json_object_get(uk, "reason")), "\"absent\""));
	json_t *m = json_array_get(json_object_get(vm, "metrics"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "key")), "startup");
	assert_string_equal(json_string_value(json_object_get(m, "unit")), "ms");
	assert_float_equal(json_real_value(json_object_get(m, "median")), 5250, 1e-9);
	assert_float_equal(json_real_value(json_object_get(m, "ratio_to_host")), 2625, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(m, "n")), 4);
	assert_true(json_is_null(json_object_get(m, "p99")));
	assert_int_equal(json_array_size(json_object_get(m, "samples")), 4);
	json_t *host = json_array_get(engines, 3);
	json_t *rtt = json_array_get(json_object_get(host, "metrics"), 2);
	assert_string_equal(json_string_value(json_object_get(rtt, "key")), "net.rtt");
	assert_float_equal(json_real_value(json_object_get(rtt, "p99")), 208.01, 1e-9);

	/* Every figure in the JSON appears in the table as the table rounds it. */
	char *table = metrics_render(res, METRICS_FORMAT_TABLE, &err);
	size_t ei;
	json_t *e;
	json_array_foreach(engines, ei, e)
	{
		size_t mi;
		json_t *row;
		json_array_foreach(json_object_get(e, "metrics"), mi, row)
		{
			char v[32];
			metrics_fmt_value(json_real_value(json_object_get(row, "median")), v,
					  sizeof(v));
			assert_non_null(strstr(table, v));
		}
	}
	free(table);
	json_decref(doc);
	free(text);
	metrics_result_free(res);
}

static void test_csv(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct metrics_result *res = sample_result();
	char *t = metrics_render(res, METRICS_FORMAT_CSV, &err);
	assert_non_null(t);
	const char *header = "engine,title,key,kind,label,unit,n,min,median,max,mean,p99,"
			     "ratio_to_host,note\n";
	assert_true(!strncmp(t, header, strlen(header)));
	int lines = 0;
	for (char *p = t; *p; p++)
		lines += *p == '\n';
	/* header + 2 vm + 1 unavailable unikernel + 3 container + 3 host */
	assert_int_equal(lines, 10);
	assert_non_null(strstr(t, "vm,vm (emulated),startup,startup,startup (create to READY),ms,4,"
				  "4000,5250,6000,5125,,2625,\n"));
	/* Fields with commas and quotes are quoted. */
	assert_non_null(strstr(t, ",\"cgroup v1, memory.usage_in_bytes\"\n"));
	assert_non_null(strstr(t, "unikernel,unikernel,unavailable,,,,,,,,,,,"
				  "\"the unikernel needs /dev/kvm, \"\"absent\"\"\"\n"));
	free(t);
	metrics_result_free(res);
}

static void test_formats_and_kinds(void **state)
{
	(void)state;
	enum metrics_format f;
	unsigned mask;
	struct vlab_err err = {0};
	assert_int_equal(metrics_format_parse("csv", &f, &err), 0);
	assert_int_equal(f, METRICS_FORMAT_CSV);
	assert_int_equal(metrics_format_parse("xml", &f, &err), -1);
	assert_non_null(strstr(err.msg, "xml"));
	assert_int_equal(metrics_kinds_parse("startup,net", &mask, &err), 0);
	assert_int_equal(mask, (1u << METRICS_STARTUP) | (1u << METRICS_NET));
	assert_int_equal(metrics_kinds_parse("all", &mask, &err), 0);
	assert_int_equal(mask, METRICS_ALL);
	assert_int_equal(metrics_kinds_parse("cpu,gpu", &mask, &err), -1);
	assert_non_null(strstr(err.msg, "'gpu'"));
	assert_int_equal(metrics_kinds_parse("exits", &mask, &err), -1);
	char b[32];
	assert_string_equal(metrics_fmt_value(1234.56, b, sizeof(b)), "1235");
	assert_string_equal(metrics_fmt_value(123.456, b, sizeof(b)), "123.5");
	assert_string_equal(metrics_fmt_value(12.3456, b, sizeof(b)), "12.35");
	assert_string_equal(metrics_fmt_value(1.23456, b, sizeof(b)), "1.235");
	assert_string_equal(metrics_fmt_value(0.0123456, b, sizeof(b)), "0.0123");
	assert_string_equal(metrics_fmt_value(0.5, b, sizeof(b)), "0.500");
	assert_string_equal(metrics_fmt_value(0.00012345, b, sizeof(b)), "0.000123");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratios),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_json_matches),
	    cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_formats_and_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
