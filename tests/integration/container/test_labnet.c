/* tests/integration/container/test_labnet.c: a container on the lab
 * network (net=on): its agent sees eth0 with the address the front end
 * gave it, UDP echo works from the lab's host side (10.77.0.1), and the
 * veth goes with the container. */
#include "tests/vtest.h"

#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/paths.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"
#include "workloads/client.h"
#include "workloads/echo_client.h"

struct echo_call {
	struct vlab_echo_opts opts;
	struct vlab_echo_result res;
	struct vlab_err err;
};

static int echo(void *arg)
{
	struct echo_call *c = arg;
	return vlab_echo_run(&c->opts, &c->res, &c->err);
}

/* Does the lab namespace hold a device named name? */
static int lab_has_dev(struct vlab_labnet *net, const char *name)
{
	int s = vlab_labnet_socket(net, AF_INET, SOCK_DGRAM, 0, NULL);
	assert_true(s >= 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = ioctl(s, SIOCGIFINDEX, &ifr);
	close(s);
	return r == 0;
}

static void test_container_on_the_lab_network(void **state)
{
	(void)state;
	char rootfs[VLAB_PATH_MAX];
	struct stat st;
	if (geteuid() != 0)
		VTEST_SKIP("the lab network needs root");
	if (vlab_image_path(VLAB_IMAGE_ROOTFS, rootfs, sizeof(rootfs), NULL) < 0 ||
	    stat(rootfs, &st) < 0)
		VTEST_SKIP("the container rootfs is not built (make images)");
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("lab network: %s", err.msg);
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "container", "labnet", &err), 0);
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	struct vlab_labnet_cfg cfg;
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 30000, &err) < 0)
		fail_msg("container: %s (%s)", err.msg, inst ? vlab_instance_error(inst) : "");
	char ip[32];
	snprintf(ip, sizeof(ip), "%s", vlab_spec_get(&spec, "net.ip"));
	ip[strcspn(ip, "/")] = '\0';
	assert_string_equal(vlab_instance_attr(inst, "ip"), ip);
	assert_true(lab_has_dev(net, cfg.veth_name));

	/* The agent sees its address. */
	struct vlab_agent_reply r;
	if (vlab_agent_call(inst, "sysinfo", 10000, &r, &err) < 0)
		fail_msg("sysinfo: %s", err.msg);
	assert_non_null(strstr(vlab_proto_str(&r.msg, "addrs", ""), ip));
	vlab_agent_reply_free(&r);

	/* UDP echo from the lab's host side. */
	uint64_t port = 0;
	if (vlab_agent_call(inst, "net-echo op=start port=0", 10000, &r, &err) < 0)
		fail_msg("net-echo: %s", err.msg);
	assert_int_equal(vlab_proto_u64(&r.msg, "port", &port), VLAB_PROTO_FOUND);
	vlab_agent_reply_free(&r);
	struct echo_call c = {.opts = {.host = ip, .port = (uint16_t)port, .count = 200}};
	if (vlab_labnet_call(net, echo, &c, &err) < 0)
		fail_msg("echo client: %s", c.err.msg[0] ? c.err.msg : err.msg);
	/* (A reply late past the client's timeout on a busy machine is a
	 * loss: allow two of two hundred.) */
	if (c.res.received < 198)
		fail_msg("%llu of 200 echoes came back", (unsigned long long)c.res.received);
	assert_true(c.res.rtt_median_ns > 0 && c.res.rtt_median_ns < 100000000ull);

	/* Stopped, the container takes its veth pair with it. */
	assert_int_equal(vlab_instance_stop(inst, 3000, &err), 0);
	vlab_instance_free(inst);
	for (int i = 0; i < 100 && lab_has_dev(net, cfg.veth_name); i++)
		usleep(20000); /* the namespace's teardown is asynchronous */
	assert_false(lab_has_dev(net, cfg.veth_name));
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

static void test_net_needs_the_front_end(void **state)
{
	(void)state;
	/* net=on without the addresses the front end fills in is refused
	 * before anything starts, naming the missing option. */
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&spec, "container", "nonet", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "net", "on", &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) == 0) {
		assert_int_equal(vlab_instance_start(inst, &err), 0);
		assert_int_equal(vlab_instance_wait_ready(inst, 10000, &err), -1);
		vlab_instance_free(inst);
	}
	assert_non_null(strstr(err.msg, "net.ns"));
	vlab_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_on_the_lab_network),
		cmocka_unit_test(test_net_needs_the_front_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
