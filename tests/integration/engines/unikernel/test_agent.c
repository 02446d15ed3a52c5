/* tests/integration/engines/unikernel/test_agent.c: the probe agent as a
 * unikernel (build/images/agent.uk) answers every verb like the other
 * guests do (exec: unsupported), and on the lab network it answers ICMP
 * echo (small and fragmented) and serves the UDP echo workload to the
 * host-side client, from inside the lab namespace. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/paths.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"
#include "workloads/client.h"
#include "workloads/echo_client.h"

#define GUESTS "build/tests/integration/engines/unikernel/guest/"

static int kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int image_built(void)
{
	char p[VLAB_PATH_MAX];
	return vlab_image_path(VLAB_IMAGE_UNIKERNEL, p, sizeof(p), NULL) == 0 &&
	       access(p, R_OK) == 0;
}

#define NEED_UNIKERNEL()                                                                           \
	do {                                                                                       \
		if (!kvm_usable())                                                                 \
			VTEST_SKIP("/dev/kvm cannot be opened here");                              \
		if (!image_built())                                                                \
			VTEST_SKIP("build/images/agent.uk is not built (make images)");            \
	} while (0)

static struct vlab_instance *start(struct vlab_spec *spec)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	if (vlab_instance_create(spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
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
	NEED_UNIKERNEL();
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct vlab_err err = {0};
	struct vlab_spec spec;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "uk-agent", &err), 0);
	struct vlab_instance *inst = start(&spec);
	vlab_spec_free(&spec);

	struct vlab_agent_ready ready;
	if (vlab_agent_parse_ready(vlab_instance_ready_line(inst), &ready, &err) < 0)
		fail_msg("READY: %s", err.msg);
	assert_string_equal(ready.version, "vlab-agent/1");
	assert_string_equal(ready.platform, "unikernel");
	assert_string_equal(ready.kernel, "vlab-uk 0.1");
	assert_int_equal(ready.cpus, 1);
	assert_int_equal(ready.mem_bytes, 256u << 20);
	/* The guest's clock is the host's CLOCK_MONOTONIC (TSC-derived). */
	assert_true(ready.t_ns > 0 && ready.t_ns <= vlab_now_ns());

	call(inst, "ping");
	assert_true(u64("t_ns") >= ready.t_ns);
	vlab_agent_reply_free(&r);

	call(inst, "sysinfo");
	assert_string_equal(vlab_proto_str(&r.msg, "platform", ""), "unikernel");
	assert_string_equal(vlab_proto_str(&r.msg, "hostname", ""), "uk-agent");
	assert_string_equal(vlab_proto_str(&r.msg, "arch", ""), "x86_64");
	assert_int_equal(u64("cpus_count"), 1);
	assert_int_equal(u64("mem_total_bytes"), 256u << 20);
	assert_true(u64("mem_free_bytes") > (200u << 20));
	assert_int_equal(u64("pid"), 0);
	vlab_agent_reply_free(&r);

	call(inst, "cpu size=100000");
	assert_int_equal(u64("int_primes_count"), 9592);
	assert_true(f64("int_ops_per_s") > 0 && f64("fp_ops_per_s") > 0);
	vlab_agent_reply_free(&r);

	call(inst, "mem size=1M reps=2");
	assert_true(f64("triad_mbps") > 0 && u64("copy_ns") > 0);
	vlab_agent_reply_free(&r);

	call(inst, "disk size=8M bs=256K");
	assert_string_equal(vlab_proto_str(&r.msg, "verified", ""), "yes");
	assert_true(f64("write_mbps") > 0 && f64("read_mbps") > 0);
	assert_non_null(strstr(vlab_proto_str(&r.msg, "target", ""), "block device"));
	vlab_agent_reply_free(&r);
	/* Larger than the scratch disk (64M): refused, not a crash. */
	assert_int_equal(vlab_agent_call(inst, "disk size=128M", 5000, &r, &err), -1);
	assert_int_equal(err.code, EINVAL);

	/* No processes in a unikernel, and no network unless asked for. */
	assert_int_equal(vlab_agent_call(inst, "exec cmd=true", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOTSUP);
	assert_int_equal(vlab_agent_call(inst, "net-echo op=start", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOTSUP);
	assert_int_equal(vlab_agent_call(inst, "mem size=1T", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOMEM);
	assert_int_equal(vlab_agent_call(inst, "fly", 5000, &r, &err), -1);
	assert_int_equal(err.code, ENOSYS);

	const struct vlab_counters *c = vlab_instance_counters(inst);
	assert_true(vlab_counters_get(c, "hc.block_write") > 0);
	assert_true(vlab_counters_get(c, "hc.block_flush") == 1);

	call(inst, "shutdown");
	vlab_agent_reply_free(&r);
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	if (WEXITSTATUS(vlab_instance_exit_status(inst)) != 0)
		fail_msg("status %#x: %s", vlab_instance_exit_status(inst),
			 vlab_instance_error(inst));
	vlab_instance_free(inst);
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
}

/* ---- the lab network ---- */

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* One ICMP echo of payload bytes to ip through a raw socket in the lab
 * network; 0 when the matching reply with the same payload came back. */
static int ping(int s, struct in_addr ip, uint16_t seq, size_t payload)
{
	static uint8_t pkt[8 + 65000], back[65536 + 60];
	struct icmphdr *h = (struct icmphdr *)pkt;
	memset(pkt, 0, 8);
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(0x766c);
	h->un.echo.sequence = htons(seq);
	for (size_t i = 0; i < payload; i++)
		pkt[8 + i] = (uint8_t)(i * 31 + seq);
	h->checksum = csum(pkt, 8 + payload);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = ip};
	if (sendto(s, pkt, 8 + payload, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	uint64_t deadline = vlab_now_ns() + 2000000000ull;
	while (vlab_now_ns() < deadline) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t n = recv(s, back, sizeof(back), 0);
		if (n < 20)
			continue;
		size_t hl = (size_t)(back[0] & 15) * 4;
		struct icmphdr *rh = (struct icmphdr *)(back + hl);
		if ((size_t)n < hl + 8 || rh->type != ICMP_ECHOREPLY ||
		    rh->un.echo.id != htons(0x766c) || rh->un.echo.sequence != htons(seq))
			continue;
		if ((size_t)n - hl - 8 != payload || memcmp(back + hl + 8, pkt + 8, payload))
			return -2;
		if (csum(back + hl, (size_t)n - hl) != 0)
			return -3;
		return 0;
	}
	return -4;
}

struct echo_job {
	struct vlab_echo_opts opts;
	struct vlab_echo_result res;
	struct vlab_err err;
};

static int run_echo(void *arg)
{
	struct echo_job *j = arg;
	return vlab_echo_run(&j->opts, &j->res, &j->err);
}

static void test_network(void **state)
{
	(void)state;
	NEED_UNIKERNEL();
	if (geteuid() != 0)
		VTEST_SKIP("the lab network needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	struct vlab_err err = {0};
	struct vlab_labnet *net;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("lab network: %s", err.msg);
	struct vlab_spec spec;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "uk-net", &err), 0);
	if (vlab_labnet_spec_attach(net, &spec, &err) < 0)
		fail_msg("attach: %s", err.msg);
	struct vlab_instance *inst = start(&spec);
	const char *ipstr = vlab_instance_attr(inst, "ip");
	assert_non_null(ipstr);
	assert_int_equal(strncmp(vlab_spec_get(&spec, "net.ip"), ipstr, strlen(ipstr)), 0);
	struct in_addr ip;
	assert_int_equal(inet_pton(AF_INET, ipstr, &ip), 1);

	call(inst, "sysinfo");
	char want[32];
	snprintf(want, sizeof(want), "%s/24", ipstr);
	assert_string_equal(vlab_proto_str(&r.msg, "addrs", ""), want);
	vlab_agent_reply_free(&r);

	/* ICMP echo, from the lab network: small, MTU-sized and fragmented. */
	int s = vlab_labnet_socket(net, AF_INET, SOCK_RAW, IPPROTO_ICMP, &err);
	if (s < 0)
		fail_msg("raw socket: %s", err.msg);
	assert_int_equal(ping(s, ip, 1, 56), 0);
	assert_int_equal(ping(s, ip, 2, 1472), 0);
	assert_int_equal(ping(s, ip, 3, 4000), 0);
	assert_int_equal(ping(s, ip, 4, 20000), 0);
	close(s);

	/* The UDP echo workload, measured by the host-side client. */
	call(inst, "net-echo op=start port=7777 size=65507");
	assert_int_equal(u64("port"), 7777);
	vlab_agent_reply_free(&r);
	struct echo_job job = {.opts = {.host = ipstr, .port = 7777, .count = 300, .warmup = 10}};
	if (vlab_labnet_call(net, run_echo, &job, &err) < 0)
		fail_msg("echo: %s / %s", err.msg, job.err.msg);
	print_message("UDP echo 64 B: median %llu us, p99 %llu us, %.0f/s\n",
		      (unsigned long long)job.res.rtt_median_ns / 1000,
		      (unsigned long long)job.res.rtt_p99_ns / 1000, job.res.tps);
	assert_int_equal(job.res.sent, 300);
	assert_true(job.res.received >= 295);
	assert_true(job.res.rtt_min_ns > 0 && job.res.rtt_median_ns <= job.res.rtt_p99_ns);
	job.opts.payload_bytes = 8000; /* fragmented both ways */
	job.opts.count = 50;
	job.opts.warmup = 2;
	if (vlab_labnet_call(net, run_echo, &job, &err) < 0)
		fail_msg("echo 8000 B: %s / %s", err.msg, job.err.msg);
	assert_true(job.res.received >= 48);
	call(inst, "net-echo op=stop");
	assert_true(u64("rx_count") >= 350);
	vlab_agent_reply_free(&r);

	/* Nothing listens any more: the guest says so (ICMP port unreachable). */
	job.opts.count = 3;
	job.opts.timeout_ms = 300;
	job.opts.payload_bytes = 0;
	assert_int_equal(vlab_labnet_call(net, run_echo, &job, &err), -1);
	assert_true(job.err.code == ECONNREFUSED || job.err.code == ETIMEDOUT);

	const struct vlab_counters *c = vlab_instance_counters(inst);
	assert_true(vlab_counters_get(c, "hc.poll") > 300); /* frames arrive with the poll */
	assert_true(vlab_counters_get(c, "hc.net_send") > 300);

	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	vlab_instance_free(inst);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

/* The stack as a client: the guest resolves the host side with ARP and
 * talks first; a socket in the lab network answers. */
static void test_guest_client(void **state)
{
	(void)state;
	NEED_UNIKERNEL();
	if (geteuid() != 0)
		VTEST_SKIP("the lab network needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	struct vlab_err err = {0};
	struct vlab_labnet *net;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("lab network: %s", err.msg);
	int s = vlab_labnet_socket(net, AF_INET, SOCK_DGRAM, 0, &err);
	assert_true(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, VLAB_LABNET_HOST_IP, &a.sin_addr);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "%u", ntohs(a.sin_port));

	struct vlab_spec spec;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "uk-client", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "image", GUESTS "udp_client.uk", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "cmdline", cmd, &err), 0);
	if (vlab_labnet_spec_attach(net, &spec, &err) < 0)
		fail_msg("attach: %s", err.msg);
	struct vlab_instance *inst;
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), 0);
	assert_int_equal(vlab_instance_start(inst, &err), 0);

	struct pollfd p = {.fd = s, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 10000), 1);
	char buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, 24);
	assert_memory_equal(buf, "hello from the unikernel", 24);
	vlab_instance_pump(inst, NULL); /* the attributes came before the guest ran */
	const char *ip = vlab_instance_attr(inst, "ip");
	assert_non_null(ip);
	assert_string_equal(inet_ntoa(from.sin_addr), ip);
	assert_int_equal(sendto(s, "hello guest", 11, 0, (struct sockaddr *)&from, fl), 11);

	uint64_t deadline = vlab_now_ns() + 10000000000ull;
	while (vlab_instance_state(inst) != VLAB_STATE_EXITED && vlab_now_ns() < deadline) {
		struct pollfd q = {.fd = vlab_instance_pidfd(inst), .events = POLLIN};
		poll(&q, 1, 100);
		vlab_instance_pump(inst, NULL);
	}
	int st = vlab_instance_exit_status(inst);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("udp_client: status %#x %s", st, vlab_instance_error(inst));
	close(s);
	vlab_instance_free(inst);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_verb),
	    cmocka_unit_test(test_network),
	    cmocka_unit_test(test_guest_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
