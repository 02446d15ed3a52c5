/* tests/integration/workloads/test_agent_host.c: the real agent binary
 * (build/images/vlab-agent) started by the host engine through the
 * instance API answers every verb, with units, and the host-side echo
 * client measures its echo server over loopback. */
#include "tests/vtest.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "core/paths.h"
#include "engines/engine.h"
#include "workloads/client.h"
#include "workloads/echo_client.h"

static struct vlab_instance *start_agent(void)
{
	char agent[VLAB_PATH_MAX];
	struct vlab_err err = {0};
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_image_path(VLAB_IMAGE_AGENT, agent, sizeof(agent), &err), 0);
	if (access(agent, X_OK) != 0)
		return NULL;
	assert_int_equal(vlab_spec_init(&spec, "host", "agent", &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
	vlab_spec_free(&spec);
	if (vlab_instance_start(inst, &err) < 0 || vlab_instance_wait_ready(inst, 10000, &err) < 0)
		fail_msg("start: %s", err.msg);
	return inst;
}

static struct vlab_agent_reply r;

static void call(struct vlab_instance *inst, const char *req)
{
	struct vlab_err err = {0};
	if (vlab_agent_call(inst, req, 60000, &r, &err) < 0)
		fail_msg("'%s': %s", req, err.msg);
}

static uint64_t u64(const char *key)
{
	uint64_t v;
	if (vlab_proto_u64(&r.msg, key, &v) != 0)
		fail_msg("no %s in: %s", key, r.line);
	return v;
}

static double f64(const char *key)
{
	double v;
	if (vlab_proto_f64(&r.msg, key, &v) != 0)
		fail_msg("no %s in: %s", key, r.line);
	return v;
}

static void test_every_verb(void **state)
{
	(void)state;
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct vlab_instance *inst = start_agent();
	if (!inst)
		VTEST_SKIP("build/images/vlab-agent is not built (make images)");
	struct vlab_err err = {0};
	struct vlab_agent_ready ready;
	if (vlab_agent_parse_ready(vlab_instance_ready_line(inst), &ready, &err) < 0)
		fail_msg("READY: %s", err.msg);
	assert_string_equal(ready.version, "vlab-agent/1");
	assert_string_equal(ready.platform, "linux");
	assert_true(ready.cpus >= 1 && ready.mem_bytes > 0 && ready.t_ns > 0);
	assert_non_null(strstr(ready.kernel, "Linux"));

	call(inst, "ping");
	assert_true(u64("t_ns") >= ready.t_ns);
	vlab_agent_reply_free(&r);

	call(inst, "help");
	const char *verbs = vlab_proto_str(&r.msg, "verbs", "");
	static const char *const all[] = {"ping", "help",     "sysinfo", "cpu",	    "mem",
					  "disk", "net-echo", "exec",	 "shutdown"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_non_null(strstr(verbs, all[i]));
	vlab_agent_reply_free(&r);

	call(inst, "sysinfo");
	assert_int_equal(u64("cpus_count"), ready.cpus);
	assert_int_equal(u64("mem_total_bytes"), ready.mem_bytes);
	assert_int_equal(u64("pid"), (uint64_t)vlab_instance_pid(inst));
	vlab_agent_reply_free(&r);

	call(inst, "cpu size=100000");
	assert_int_equal(u64("int_primes_count"), 9592);
	assert_true(f64("int_ops_per_s") > 0 && f64("fp_ops_per_s") > 0);
	vlab_agent_reply_free(&r);

	call(inst, "mem size=1M reps=2");
	assert_true(f64("triad_mbps") > 0 && u64("copy_ns") > 0);
	vlab_agent_reply_free(&r);

	call(inst, "disk size=1M bs=64K");
	assert_string_equal(vlab_proto_str(&r.msg, "verified", ""), "yes");
	assert_true(f64("write_mbps") > 0 && f64("read_mbps") > 0);
	vlab_agent_reply_free(&r);

	call(inst, "exec cmd=echo%20$((6*7))");
	assert_string_equal(vlab_proto_str(&r.msg, "stdout", ""), "42\n");
	vlab_agent_reply_free(&r);

	/* Errors come back as errors with their code, and the agent goes on. */
	assert_int_equal(vlab_agent_call(inst, "fly", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOSYS);
	assert_non_null(strstr(err.msg, "unknown"));
	assert_int_equal(vlab_agent_call(inst, "mem size=1T", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOMEM);

	/* net-echo: the guest server and the host client. */
	call(inst, "net-echo op=start port=0");
	uint16_t port = (uint16_t)u64("port");
	vlab_agent_reply_free(&r);
	struct vlab_echo_opts eo = {.host = "127.0.0.1", .port = port, .count = 200, .warmup = 5};
	struct vlab_echo_result er;
	if (vlab_echo_run(&eo, &er, &err) < 0)
		fail_msg("echo: %s", err.msg);
	print_message("echo over loopback: %u/%u answered, RTT median %.1f us, p99 %.1f us, "
		      "%.0f transactions/s\n",
		      er.received, er.sent, (double)er.rtt_median_ns / 1e3,
		      (double)er.rtt_p99_ns / 1e3, er.tps);
	assert_int_equal(er.sent, 200);
	assert_int_equal(er.received + er.lost, 200);
	assert_true(er.received >= 190);
	assert_true(er.rtt_min_ns > 0 && er.rtt_min_ns <= er.rtt_median_ns);
	assert_true(er.rtt_median_ns <= er.rtt_p99_ns && er.rtt_p99_ns <= er.rtt_max_ns);
	assert_true(er.tps > 0);
	call(inst, "net-echo op=stop");
	assert_true(u64("rx_count") >= 200);
	vlab_agent_reply_free(&r);
	/* Stopped: the client says nothing listens. */
	eo.count = 5;
	eo.timeout_ms = 200;
	assert_int_equal(vlab_echo_run(&eo, &er, &err), -1);
	assert_true(err.code == ECONNREFUSED || err.code == ETIMEDOUT);

	call(inst, "shutdown");
	vlab_agent_reply_free(&r);
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	vlab_instance_free(inst);
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
}

/* SIGTERM (vlab_instance_stop) ends the agent cleanly, with status 0. */
static void test_sigterm(void **state)
{
	(void)state;
	struct vlab_instance *inst = start_agent();
	if (!inst)
		VTEST_SKIP("build/images/vlab-agent is not built (make images)");
	struct vlab_err err = {0};
	call(inst, "net-echo op=start port=0");
	vlab_agent_reply_free(&r);
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	int st = vlab_instance_exit_status(inst);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	vlab_instance_free(inst);
}

static void test_echo_client_errors(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct vlab_echo_result er;
	struct vlab_echo_opts eo = {.host = "not-an-ip", .port = 7};
	assert_int_equal(vlab_echo_run(&eo, &er, &err), -1);
	assert_non_null(strstr(err.msg, "not-an-ip"));
	eo.host = "127.0.0.1";
	eo.payload_bytes = 8;
	assert_int_equal(vlab_echo_run(&eo, &er, &err), -1);
	assert_non_null(strstr(err.msg, "16..65507"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_verb),
	    cmocka_unit_test(test_sigterm),
	    cmocka_unit_test(test_echo_client_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
