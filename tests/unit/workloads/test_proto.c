/* tests/unit/workloads/test_proto.c: the agent protocol codec: parsing
 * every kind of line, rejecting malformed ones with a reason, escaping
 * round trips, typed getters and the bounded writer. */
#include "tests/vtest.h"

#include <stdlib.h>

#include "workloads/proto.h"

static struct vlab_proto_msg m;

static int parse(const char *text)
{
	static char buf[VLAB_PROTO_LINE_MAX + 16];
	snprintf(buf, sizeof(buf), "%s", text);
	return vlab_proto_parse(buf, &m);
}

static void test_request(void **state)
{
	(void)state;
	assert_int_equal(parse("42 cpu size=1M matrix=64"), 0);
	assert_int_equal(m.kind, VLAB_MSG_REQUEST);
	assert_int_equal(m.id, 42);
	assert_string_equal(m.verb, "cpu");
	assert_int_equal(m.n, 2);
	uint64_t v;
	assert_int_equal(vlab_proto_size(&m, "size", &v), VLAB_PROTO_FOUND);
	assert_int_equal(v, 1u << 20);
	assert_int_equal(vlab_proto_u64(&m, "matrix", &v), VLAB_PROTO_FOUND);
	assert_int_equal(v, 64);
	assert_int_equal(vlab_proto_u64(&m, "reps", &v), VLAB_PROTO_ABSENT);
	assert_int_equal(v, 64); /* untouched */

	assert_int_equal(parse("9223372036854775807 ping"), 0);
	assert_int_equal(m.id, 9223372036854775807ull);
	assert_int_equal(m.n, 0);
	/* Runs of spaces are tolerated. */
	assert_int_equal(parse("7  net-echo   op=start  port=0 "), 0);
	assert_string_equal(vlab_proto_str(&m, "op", NULL), "start");
	assert_string_equal(vlab_proto_str(&m, "nope", "dflt"), "dflt");
}

static void test_responses(void **state)
{
	(void)state;
	assert_int_equal(parse("3 ok int_ns=1500 write_mbps=123.45 cache_dropped=yes"), 0);
	assert_int_equal(m.kind, VLAB_MSG_OK);
	assert_int_equal(m.id, 3);
	double d;
	assert_int_equal(vlab_proto_f64(&m, "write_mbps", &d), 0);
	assert_true(d > 123.449 && d < 123.451);
	int b = -1;
	assert_int_equal(vlab_proto_bool(&m, "cache_dropped", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(vlab_proto_bool(&m, "int_ns", &b), VLAB_PROTO_BAD);

	/* Without the id, as vlab_instance_request() hands it over. */
	assert_int_equal(parse("ok"), 0);
	assert_int_equal(m.kind, VLAB_MSG_OK);
	assert_int_equal(m.id, 0);
	assert_int_equal(parse("err io disk -- open /dev/vda: No such file"), 0);
	assert_int_equal(m.kind, VLAB_MSG_ERR);
	assert_string_equal(m.code, "io");
	assert_string_equal(m.text, "disk -- open /dev/vda: No such file");
	assert_int_equal(parse("5 err unknown"), 0);
	assert_string_equal(m.code, "unknown");
	assert_string_equal(m.text, "");
}

static void test_ready(void **state)
{
	(void)state;
	assert_int_equal(parse("READY vlab-agent/1 t=123 platform=linux "
			       "kernel=Linux%206.1.0-28-cloud-amd64 cpus=2 mem=268435456"),
			 0);
	assert_int_equal(m.kind, VLAB_MSG_READY);
	assert_string_equal(m.version, "vlab-agent/1");
	assert_string_equal(vlab_proto_str(&m, "kernel", ""), "Linux 6.1.0-28-cloud-amd64");
	assert_true(vlab_proto_version_ok(m.version));
	assert_true(vlab_proto_version_ok("vlab-agent/1.3"));
	assert_false(vlab_proto_version_ok("vlab-agent/2"));
	assert_false(vlab_proto_version_ok("vlab-agent/10"));
	assert_false(vlab_proto_version_ok("other/1"));
	assert_false(vlab_proto_version_ok("vlab-agent/"));
	assert_int_equal(parse("READY"), -1);
	assert_non_null(strstr(m.why, "version"));
}

/* Each malformed line is refused, and the reason names the problem. */
static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *line, *why;
		uint64_t id; /* the id the agent can still answer */
	} cases[] = {
	    {"", "empty", 0},
	    {"   ", "empty", 0},
	    {"cpu size=1", "starts with its id", 0},
	    {"0 ping", "1..2^63-1", 0},
	    {"9223372036854775808 ping", "1..2^63-1", 0},
	    {"99999999999999999999999 ping", "1..2^63-1", 0},
	    {"12x ping", "not a number", 0},
	    {"4", "nothing after the id", 4},
	    {"4 Ping", "is not a name", 4},
	    {"4 cpu size", "not key=value", 4},
	    {"4 cpu =1", "is not a name", 4},
	    {"4 cpu Size=1", "is not a name", 4},
	    {"4 cpu size=1 size=2", "twice", 4},
	    {"4 cpu size=%4", "malformed %-escape", 4},
	    {"4 cpu size=%zz", "malformed %-escape", 4},
	    {"4 cpu size=1\tmatrix=2", "control byte", 0},
	    {"4 err", "without a code", 4},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].line) != -1)
			fail_msg("accepted: '%s'", cases[i].line);
		if (!strstr(m.why, cases[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", cases[i].line, m.why,
				 cases[i].why);
		assert_int_equal(m.id, cases[i].id);
	}
	/* More pairs than a message holds. */
	char line[2048];
	int n = snprintf(line, sizeof(line), "1 x");
	for (int i = 0; i <= VLAB_PROTO_MAX_KV; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " k%d=1", i);
	assert_int_equal(parse(line), -1);
	assert_non_null(strstr(m.why, "more than 64"));
}

static void test_overlong(void **state)
{
	(void)state;
	size_t len = VLAB_PROTO_LINE_MAX + 1;
	char *line = malloc(len + 1);
	assert_non_null(line);
	memcpy(line, "1 exec cmd=", 11);
	memset(line + 11, 'a', len - 11);
	line[len] = '\0';
	assert_int_equal(vlab_proto_parse(line, &m), -1);
	assert_non_null(strstr(m.why, "longer than 65536"));
	/* Exactly the limit is fine. */
	memset(line + 11, 'a', len - 11);
	line[len - 1] = '\0';
	assert_int_equal(vlab_proto_parse(line, &m), 0);
	assert_int_equal(m.kv[0].value_len, VLAB_PROTO_LINE_MAX - 11);
	free(line);
}

static void test_escape_round_trip(void **state)
{
	(void)state;
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	char esc[1024];
	size_t need = vlab_proto_escape(esc, sizeof(esc), all, sizeof(all));
	assert_int_equal(strlen(esc), need);
	/* Nothing that would break a word survives unescaped. */
	for (size_t i = 0; i < need; i++)
		assert_true(esc[i] > 0x20 && esc[i] < 0x7f && esc[i] != '=');
	char back[300];
	long n = vlab_proto_unescape(back, sizeof(back), esc, need);
	assert_int_equal(n, 256);
	assert_memory_equal(back, all, 256);

	/* Through a whole line: the writer escapes, the parser unescapes. */
	char buf[512];
	struct vlab_proto_out o;
	vlab_proto_out_init(&o, buf, sizeof(buf));
	vlab_proto_put_word(&o, "8");
	vlab_proto_put_word(&o, "ok");
	vlab_proto_put_str(&o, "stdout", "a b=c%d\nline 2\n");
	vlab_proto_put_mem(&o, "bin", "x\0y", 3);
	vlab_proto_put_str(&o, "empty", "");
	assert_false(o.overflow);
	assert_string_equal(buf, "8 ok stdout=a%20b%3Dc%25d%0Aline%202%0A bin=x%00y empty=");
	assert_int_equal(vlab_proto_parse(buf, &m), 0);
	assert_string_equal(vlab_proto_str(&m, "stdout", NULL), "a b=c%d\nline 2\n");
	const struct vlab_proto_kv *kv = vlab_proto_find(&m, "bin");
	assert_non_null(kv);
	assert_int_equal(kv->value_len, 3);
	assert_memory_equal(kv->value, "x\0y", 3);
	/* A value with a NUL is not a number even if it starts like one. */
	uint64_t v;
	assert_int_equal(vlab_proto_parse(strcpy(buf, "ok n=12%003"), &m), 0);
	assert_int_equal(vlab_proto_u64(&m, "n", &v), VLAB_PROTO_BAD);
	assert_string_equal(vlab_proto_str(&m, "empty", "x"), "x");

	/* Truncation is reported like snprintf. */
	char small[4];
	assert_int_equal(vlab_proto_escape(small, sizeof(small), "a b", 3), 5);
	assert_string_equal(small, "a%2");
	assert_int_equal(vlab_proto_unescape(small, sizeof(small), "abcd", 4), -1);
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t u;
	int64_t i;
	double d;
	int b;
	assert_int_equal(vlab_proto_parse_u64("18446744073709551615", &u), 0);
	assert_int_equal(u, UINT64_MAX);
	assert_int_equal(vlab_proto_parse_u64("18446744073709551616", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_u64("", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_u64("-1", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_u64("1 ", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_i64("-9223372036854775808", &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(vlab_proto_parse_i64("9223372036854775808", &i), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_size("64K", &u), 0);
	assert_int_equal(u, 65536);
	assert_int_equal(vlab_proto_parse_size("2GiB", &u), 0);
	assert_int_equal(u, 2ull << 30);
	assert_int_equal(vlab_proto_parse_size("3MB", &u), 0);
	assert_int_equal(u, 3ull << 20);
	assert_int_equal(vlab_proto_parse_size("16777216T", &u), VLAB_PROTO_BAD); /* 2^64 */
	assert_int_equal(vlab_proto_parse_size("1X", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_size("1Mx", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_size("M", &u), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_f64("-0.25", &d), 0);
	assert_true(d == -0.25);
	assert_int_equal(vlab_proto_parse_f64("7.", &d), 0);
	assert_true(d == 7.0);
	assert_int_equal(vlab_proto_parse_f64(".", &d), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_f64("1e9", &d), VLAB_PROTO_BAD);
	assert_int_equal(vlab_proto_parse_bool("off", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(vlab_proto_parse_bool("maybe", &b), VLAB_PROTO_BAD);
}

static void test_writer(void **state)
{
	(void)state;
	char buf[128];
	struct vlab_proto_out o;
	vlab_proto_out_init(&o, buf, sizeof(buf));
	vlab_proto_put_word(&o, "1");
	vlab_proto_put_word(&o, "ok");
	vlab_proto_put_u64(&o, "a_count", 0);
	vlab_proto_put_i64(&o, "b", -42);
	vlab_proto_put_f64(&o, "c_mbps", 1234.5678, 1);
	vlab_proto_put_f64(&o, "d", 0.004, 2);
	vlab_proto_put_f64(&o, "e", -2.5, 0);
	vlab_proto_put_f64(&o, "f", 1.0 / 3.0, 9);
	vlab_proto_put_bool(&o, "g", 0);
	assert_false(o.overflow);
	assert_string_equal(buf,
			    "1 ok a_count=0 b=-42 c_mbps=1234.6 d=0.00 e=-3 f=0.333333333 g=no");
	/* The writer says when a line does not fit, and keeps it terminated. */
	char tiny[16];
	vlab_proto_out_init(&o, tiny, sizeof(tiny));
	vlab_proto_put_word(&o, "1");
	vlab_proto_put_word(&o, "ok");
	vlab_proto_put_str(&o, "long", "0123456789");
	assert_true(o.overflow);
	assert_true(strlen(tiny) < sizeof(tiny));
	/* Error text: control bytes cannot split the line. */
	vlab_proto_out_init(&o, buf, sizeof(buf));
	vlab_proto_put_text(&o, "bad\nthing\r");
	assert_string_equal(buf, "bad?thing?");
	char n[24];
	assert_int_equal(vlab_proto_fmt_u64(n, 18446744073709551615ull), 20);
	assert_string_equal(n, "18446744073709551615");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),  cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_ready),    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_overlong), cmocka_unit_test(test_escape_round_trip),
	    cmocka_unit_test(test_numbers),  cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
