/* tests/unit/workloads/test_agent.c: the agent's verbs on tiny sizes, as
 * the protocol answers them (every number carries its unit), the kernels'
 * known results, errors as answers, and the framing of the serve loop
 * (overlong lines, CRLF, blank lines, shutdown) over a socketpair. */
#include "tests/vtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/fdio.h"
#include "workloads/agent.h"
#include "workloads/linux/linux.h"
#include "workloads/workloads.h"

static char scratch[64];
static struct vlab_proto_msg m;
static char reply[VLAB_PROTO_LINE_MAX + 2];

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/vlab-test-agent.XXXXXX");
	if (!mkdtemp(scratch))
		return -1;
	struct plat_linux_config cfg = {.ctl_in = 0, .ctl_out = 1, .scratch_dir = scratch};
	return plat_linux_init(&cfg);
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(scratch); /* fails if a scratch file was left behind */
}

/* Sends one request through the verb table; returns the parsed answer. */
static const struct vlab_proto_msg *ask(const char *req)
{
	static char line[4096];
	int stop = 0;
	snprintf(line, sizeof(line), "%s", req);
	wl_agent_handle(line, reply, sizeof(reply), &stop);
	if (vlab_proto_parse(reply, &m) < 0)
		fail_msg("'%s' answered a malformed line: %s", req, reply);
	return &m;
}

static const struct vlab_proto_msg *ask_ok(const char *req)
{
	ask(req);
	if (m.kind != VLAB_MSG_OK)
		fail_msg("'%s' failed: %s", req, reply);
	return &m;
}

static uint64_t u64(const char *key)
{
	uint64_t v;
	if (vlab_proto_u64(&m, key, &v) != 0)
		fail_msg("no number %s in: %s", key, reply);
	return v;
}

static double f64(const char *key)
{
	double v;
	if (vlab_proto_f64(&m, key, &v) != 0)
		fail_msg("no decimal %s in: %s", key, reply);
	return v;
}

/* Every numeric result key ends in a unit suffix. */
static void assert_units(void)
{
	static const char *const units[] = {"_ns", "_bytes", "_ops", "_per_s", "_mbps", "_count"};
	static const char *const unitless[] = {"port", "exit_code", "signal", "pid", "fp_checksum"};
	for (size_t i = 0; i < m.n; i++) {
		const char *k = m.kv[i].key, *v = m.kv[i].value;
		double d;
		if (vlab_proto_parse_f64(v, &d) != 0)
			continue;
		int ok = 0;
		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t kl = strlen(k), ul = strlen(units[u]);
			ok |= kl > ul && !strcmp(k + kl - ul, units[u]);
		}
		for (size_t u = 0; u < sizeof(unitless) / sizeof(unitless[0]); u++)
			ok |= !strcmp(k, unitless[u]);
		if (!ok)
			fail_msg("number without a unit: %s=%s", k, v);
	}
}

static void test_cpu(void **state)
{
	(void)state;
	ask_ok("1 cpu size=1000 matrix=16");
	assert_int_equal(m.id, 1);
	assert_int_equal(u64("int_n_count"), 1000);
	assert_int_equal(u64("int_primes_count"), 168);
	assert_int_equal(u64("fp_n_count"), 16);
	assert_int_equal(u64("fp_ops"), 2 * 16 * 16 * 16);
	assert_true(u64("int_ops") > 1000);
	assert_true(f64("int_ops_per_s") > 0);
	assert_true(f64("fp_ops_per_s") > 0);
	assert_units();
	/* The kernels alone: primes below 10^6, and a checksum that matches a
	 * naive multiply. */
	struct wl_cpu_result r;
	assert_int_equal(wl_cpu_run(1000000, 8, &r), 0);
	assert_int_equal(r.primes, 78498);
	double want = 0;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			for (int k = 0; k < 8; k++)
				want +=
				    ((i * 3 + k * 7) % 11) / 10.0 * (((k * 5 + j * 2) % 13) / 10.0);
	assert_true(r.checksum > want - 1e-9 && r.checksum < want + 1e-9);
	assert_int_equal(wl_cpu_default_matrix(1000), 15);
	/* Bad sizes are answers, not crashes. */
	ask("2 cpu size=10");
	assert_int_equal(m.kind, VLAB_MSG_ERR);
	assert_string_equal(m.code, "badreq");
	assert_non_null(strstr(m.text, "size must be between 100"));
	ask("3 cpu matrix=big");
	assert_string_equal(m.code, "badreq");
}

static void test_mem(void **state)
{
	(void)state;
	ask_ok("4 mem size=64K reps=2");
	assert_int_equal(u64("array_bytes"), 65536);
	assert_int_equal(u64("reps_count"), 2);
	for (int k = 0; k < WL_STREAM_KERNELS; k++) {
		char key[32];
		snprintf(key, sizeof(key), "%s_mbps", wl_stream_names[k]);
		assert_true(f64(key) > 0);
		snprintf(key, sizeof(key), "%s_ns", wl_stream_names[k]);
		assert_true(u64(key) > 0);
	}
	assert_units();
	struct wl_mem_result r;
	assert_int_equal(wl_mem_run(4096, 3, &r), 0);
	assert_true(r.checked);
	/* Far more than the machine has: nomem, and the agent lives on. */
	ask("5 mem size=1T");
	assert_int_equal(m.kind, VLAB_MSG_ERR);
	assert_string_equal(m.code, "nomem");
	ask_ok("6 ping");
}

static void test_disk(void **state)
{
	(void)state;
	ask_ok("7 disk size=256K bs=4K");
	assert_int_equal(u64("total_bytes"), 256 * 1024);
	assert_int_equal(u64("block_bytes"), 4096);
	assert_true(f64("write_mbps") > 0);
	assert_true(f64("read_mbps") > 0);
	assert_string_equal(vlab_proto_str(&m, "verified", ""), "yes");
	assert_non_null(strstr(vlab_proto_str(&m, "target", ""), scratch));
	assert_units();
	/* size is rounded down to whole blocks. */
	ask_ok("8 disk size=10000 bs=4096");
	assert_int_equal(u64("total_bytes"), 8192);
	ask("9 disk bs=1000");
	assert_string_equal(m.code, "badreq");
	assert_non_null(strstr(m.text, "512"));
	ask("10 disk size=1K bs=4K");
	assert_string_equal(m.code, "badreq");
}

/* A corrupting device: the read back must notice. */
int __real_plat_disk_read(struct plat_disk *d, uint64_t off, void *buf, size_t len);
static int corrupt_at = -1;
int __wrap_plat_disk_read(struct plat_disk *d, uint64_t off, void *buf, size_t len)
{
	int rc = __real_plat_disk_read(d, off, buf, len);
	if (rc == 0 && corrupt_at >= 0 && (uint64_t)corrupt_at >= off &&
	    (uint64_t)corrupt_at < off + len)
		((unsigned char *)buf)[corrupt_at - (int)off] ^= 0x40;
	return rc;
}

static void test_disk_verifies(void **state)
{
	(void)state;
	corrupt_at = 5000;
	ask("11 disk size=16K bs=4K");
	corrupt_at = -1;
	assert_int_equal(m.kind, VLAB_MSG_ERR);
	assert_string_equal(m.code, "io");
	assert_non_null(strstr(m.text, "byte 5000"));
}

static void test_disk_target(void **state)
{
	(void)state;
	char path[128];
	/* A named file is used as it is (and kept). */
	snprintf(path, sizeof(path), "%s/target.img", scratch);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct plat_linux_config cfg = {.ctl_in = 0, .ctl_out = 1, .disk = path};
	assert_int_equal(plat_linux_init(&cfg), 0);
	ask_ok("12 disk size=64K bs=8K");
	assert_string_equal(vlab_proto_str(&m, "target", ""), path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 65536);
	unlink(path);
	/* Not a file or block device: an error naming it. */
	cfg.disk = "/dev/null";
	assert_int_equal(plat_linux_init(&cfg), 0);
	ask("13 disk size=64K bs=8K");
	assert_string_equal(m.code, "badreq");
	assert_non_null(strstr(m.text, "/dev/null"));
	cfg.disk = "/nonexistent/disk";
	assert_int_equal(plat_linux_init(&cfg), 0);
	ask("14 disk size=64K bs=8K");
	assert_string_equal(m.code, "badreq");
	assert_non_null(strstr(m.text, "No such file"));
	cfg.disk = NULL;
	cfg.scratch_dir = scratch;
	assert_int_equal(plat_linux_init(&cfg), 0);
}

static void test_exec(void **state)
{
	(void)state;
	ask_ok("15 exec cmd=echo%20hi%3B%20echo%20oops%20%3E%262%3B%20exit%203");
	assert_string_equal(vlab_proto_str(&m, "stdout", ""), "hi\n");
	assert_string_equal(vlab_proto_str(&m, "stderr", ""), "oops\n");
	int64_t code;
	assert_int_equal(vlab_proto_i64(&m, "exit_code", &code), 0);
	assert_int_equal(code, 3);
	assert_string_equal(vlab_proto_str(&m, "timed_out", ""), "no");
	assert_units();
	/* Bounded in time: killed, partial output kept. */
	ask_ok("16 exec cmd=echo%20started%3B%20sleep%2030 timeout_ms=300");
	assert_string_equal(vlab_proto_str(&m, "timed_out", ""), "yes");
	assert_int_equal(u64("signal"), 9);
	assert_string_equal(vlab_proto_str(&m, "stdout", ""), "started\n");
	assert_true(u64("time_ns") < 5000000000ull);
	/* Bounded in bytes. */
	ask_ok("17 exec cmd=yes%20%7C%20head%20-c%20100000 size=100");
	assert_int_equal(strlen(vlab_proto_str(&m, "stdout", "")), 100);
	assert_string_equal(vlab_proto_str(&m, "stdout_truncated", ""), "yes");
	ask("18 exec");
	assert_string_equal(m.code, "badreq");
	ask("19 exec cmd=true size=1M");
	assert_string_equal(m.code, "badreq");
}

static void test_sysinfo(void **state)
{
	(void)state;
	ask_ok("20 sysinfo");
	assert_string_equal(vlab_proto_str(&m, "platform", ""), "linux");
	assert_non_null(strstr(vlab_proto_str(&m, "kernel", ""), "Linux"));
	assert_true(u64("cpus_count") >= 1);
	assert_true(u64("cpus_allowed_count") >= 1);
	assert_true(u64("mem_total_bytes") > (16u << 20));
	assert_int_equal(u64("pid"), (uint64_t)getpid());
	assert_units();
#if defined(__x86_64__)
	const char *flags = vlab_proto_str(&m, "cpu_flags", "");
	assert_non_null(strstr(flags, "fpu"));
	assert_non_null(strstr(flags, ",lm"));
	assert_true(strlen(vlab_proto_str(&m, "cpu_vendor", "")) == 12);
#endif
}

static void test_echo_server(void **state)
{
	(void)state;
	ask_ok("21 net-echo op=start port=0 size=512");
	uint64_t port = u64("port");
	assert_true(port > 0);
	assert_string_equal(vlab_proto_str(&m, "running", ""), "yes");
	ask("22 net-echo op=start port=0");
	assert_string_equal(m.code, "busy");

	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(s, "hello", 5, 0), 5);
	/* The agent loop would wait on this socket; do what it does. */
	int sock = wl_echo_sock();
	struct pollfd p = {.fd = sock, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	wl_echo_service();
	char buf[16];
	p = (struct pollfd){.fd = s, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(s, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	close(s);

	ask_ok("23 net-echo op=stop");
	assert_int_equal(u64("rx_count"), 1);
	assert_int_equal(u64("tx_count"), 1);
	assert_int_equal(u64("rx_bytes"), 5);
	assert_string_equal(vlab_proto_str(&m, "running", ""), "no");
	assert_int_equal(wl_echo_sock(), -1);
	ask("24 net-echo op=dance");
	assert_string_equal(m.code, "badreq");
}

static void test_requests_refused(void **state)
{
	(void)state;
	ask("25 warp speed=9");
	assert_string_equal(m.code, "unknown");
	assert_non_null(strstr(m.text, "warp"));
	ask("26 cpu colour=red");
	assert_string_equal(m.code, "badreq");
	assert_non_null(strstr(m.text, "colour"));
	ask("27 ok");
	assert_string_equal(m.code, "badreq");
	ask("garbage in");
	assert_int_equal(m.kind, VLAB_MSG_ERR);
	assert_int_equal(m.id, 0);
	ask_ok("28 help");
	assert_non_null(strstr(vlab_proto_str(&m, "verbs", ""), "net-echo"));
	ask_ok("29 help verb=mem");
	assert_string_equal(vlab_proto_str(&m, "args", ""), "size,reps");
}

/* The serve loop over a socketpair, in a child process. */
static void test_framing(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		struct plat_linux_config cfg = {
		    .ctl_in = sv[1], .ctl_out = sv[1], .scratch_dir = scratch};
		if (plat_linux_init(&cfg) < 0)
			_exit(3);
		_exit(wl_agent_serve());
	}
	close(sv[1]);
	struct vlab_lines lb;
	vlab_lines_init(&lb, VLAB_PROTO_LINE_MAX + 2);
	char *line;
	struct vlab_err err = {0};
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 5000, &line, &err), 1);
	assert_int_equal(strncmp(line, "READY vlab-agent/1 t=", 21), 0);

	/* An overlong request (with its id), a blank line, CRLF, then a ping. */
	size_t big = VLAB_PROTO_LINE_MAX + 100;
	char *req = malloc(big + 64);
	assert_non_null(req);
	int n = snprintf(req, big + 64, "5 exec cmd=");
	memset(req + n, 'x', big - (size_t)n);
	memcpy(req + big, "\n\n6 ping\r\n", 10);
	assert_int_equal(vlab_write_all(sv[0], req, big + 10, 5000, &err), 0);
	free(req);
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 5000, &line, &err), 1);
	assert_int_equal(strncmp(line, "5 err toolarge", 14), 0);
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 5000, &line, &err), 1);
	assert_int_equal(strncmp(line, "6 ok t_ns=", 10), 0);
	const char *shut = "7 shutdown\n8 ping\n";
	assert_int_equal(vlab_write_all(sv[0], shut, strlen(shut), 5000, &err), 0);
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 5000, &line, &err), 1);
	assert_string_equal(line, "7 ok");
	/* Nothing after shutdown: the agent ended. */
	assert_int_equal(vlab_lines_wait(&lb, sv[0], 5000, &line, &err), -1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	vlab_lines_free(&lb);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpu),
	    cmocka_unit_test(test_mem),
	    cmocka_unit_test(test_disk),
	    cmocka_unit_test(test_disk_verifies),
	    cmocka_unit_test(test_disk_target),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_sysinfo),
	    cmocka_unit_test(test_echo_server),
	    cmocka_unit_test(test_requests_refused),
	    cmocka_unit_test(test_framing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
