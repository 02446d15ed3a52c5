/* tests/unit/engines/labnet/test_labnet.c: the lab network: spec parsing,
 * create/share/destroy, addresses, a veth and a TAP that really carry UDP,
 * and the sweep after a SIGKILLed owner (nothing left behind). */
#include "tests/vtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engines/labnet/labnet.h"

static int need_root(void)
{
	return geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void owner_file(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d", VLAB_LABNET_OWNERS, (int)pid);
}

/* A fresh anonymous network namespace (a container's, say). */
static int new_netns(void)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(saved >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(saved, CLONE_NEWNET), 0);
	close(saved);
	return fd;
}

static int socket_in(int nsfd, int type)
{
	int saved;
	struct vlab_err err = {0};
	assert_int_equal(vlab_netns_enter(nsfd, &saved, &err), 0);
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_int_equal(vlab_netns_leave(saved, &err), 0);
	assert_true(s >= 0);
	return s;
}

static struct sockaddr_in sin_of(struct in_addr a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a};
	return s;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static void test_cfg_from_spec(void **state)
{
	(void)state;
	struct vlab_spec spec;
	struct vlab_labnet_cfg cfg;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&spec, "container", "c1", &err), 0);
	/* net off (the default): nothing else is read. */
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	assert_int_equal(cfg.on, 0);
	assert_int_equal(vlab_spec_set(&spec, "net", "on", &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "net.ns"));
	assert_int_equal(vlab_spec_set(&spec, "net.ns", "/tmp/evil", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "net.ip", "10.77.0.9/24", &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "/tmp/evil"));
	assert_int_equal(vlab_spec_set(&spec, "net.ns", "/run/netns/vlab-42", &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	assert_int_equal(cfg.on, 1);
	assert_string_equal(cfg.ns_path, "/run/netns/vlab-42");
	assert_int_equal(ntohl(cfg.ip.s_addr), 0x0a4d0009);
	assert_int_equal(ntohl(cfg.host.s_addr), 0x0a4d0001);
	assert_int_equal(cfg.prefixlen, 24);
	assert_string_equal(cfg.veth_name, "veth9");
	assert_string_equal(cfg.tap_name, "tap9");
	char mac[18];
	assert_string_equal(vlab_labnet_mac_str(cfg.mac, mac, sizeof(mac)), "02:76:6c:00:00:09");
	static const char *const bad_ip[] = {"10.77.0.1/24",   "10.77.1.9/24", "10.77.0.9",
					     "10.77.0.255/24", "10.77.0.9/16", "x/24"};
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		assert_int_equal(vlab_spec_set(&spec, "net.ip", bad_ip[i], &err), 0);
		assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), -1);
		assert_non_null(strstr(err.msg, "net.ip"));
	}
	assert_int_equal(vlab_spec_set(&spec, "net.ip", "10.77.0.9/24", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "net.mac", "03:00:00:00:00:01", &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "net.mac"));
	assert_int_equal(vlab_spec_set(&spec, "net.mac", "02:aa:bb:cc:dd:ee", &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	assert_int_equal(cfg.mac[5], 0xee);
	vlab_spec_free(&spec);
}

static void test_create_share_destroy(void **state)
{
	(void)state;
	if (!need_root())
		VTEST_SKIP("the lab network needs root and /dev/net/tun");
	int fds = vtest_count_fds();
	struct vlab_err err = {0};
	struct vlab_labnet *a = NULL, *b = NULL;
	if (vlab_labnet_acquire(&a, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	char path[128], owner[128];
	snprintf(path, sizeof(path), "/run/netns/vlab-%d", (int)getpid());
	owner_file(getpid(), owner, sizeof(owner));
	assert_string_equal(vlab_labnet_path(a), path);
	assert_string_equal(vlab_labnet_name(a), path + strlen("/run/netns/"));
	assert_true(exists(path));
	assert_true(exists(owner));
	/* The file is the namespace itself (nsfs), the same as our fd. */
	struct stat s1, s2;
	assert_int_equal(stat(path, &s1), 0);
	assert_int_equal(fstat(vlab_labnet_fd(a), &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);
	assert_int_equal(s1.st_dev, s2.st_dev);

	/* A second acquire shares it. */
	assert_int_equal(vlab_labnet_acquire(&b, &err), 0);
	assert_ptr_equal(a, b);
	vlab_labnet_release(b);
	assert_true(exists(path));

	/* Inside: the bridge holds the host address (bind succeeds only on a
	 * local address); outside it does not exist. */
	int s = vlab_labnet_socket(a, AF_INET, SOCK_DGRAM, 0, &err);
	assert_true(s >= 0);
	struct in_addr host;
	inet_pton(AF_INET, VLAB_LABNET_HOST_IP, &host);
	struct sockaddr_in sa = sin_of(host, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(if_nametoindex(VLAB_LABNET_BRIDGE), 0);
	/* The sweep leaves a live owner's namespace alone. */
	assert_true(vlab_labnet_sweep(&err) >= 0);
	assert_true(exists(path));

	vlab_labnet_release(a);
	assert_false(exists(path));
	assert_false(exists(owner));
	assert_int_equal(vtest_count_fds(), fds);
}

static void test_addresses(void **state)
{
	(void)state;
	if (!need_root())
		VTEST_SKIP("the lab network needs root and /dev/net/tun");
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	struct in_addr a, first;
	assert_int_equal(vlab_labnet_addr_alloc(net, &first, &err), 0);
	assert_int_equal(ntohl(first.s_addr), 0x0a4d0002);
	for (int i = VLAB_LABNET_FIRST + 1; i <= VLAB_LABNET_LAST; i++)
		assert_int_equal(vlab_labnet_addr_alloc(net, &a, &err), 0);
	assert_int_equal(ntohl(a.s_addr), 0x0a4d00fe);
	assert_int_equal(vlab_labnet_addr_alloc(net, &a, &err), -1);
	assert_int_equal(err.code, EADDRNOTAVAIL);
	vlab_labnet_addr_free(net, first);
	assert_int_equal(vlab_labnet_addr_alloc(net, &a, &err), 0);
	assert_int_equal(a.s_addr, first.s_addr);
	for (int i = VLAB_LABNET_FIRST; i <= VLAB_LABNET_LAST; i++) {
		a.s_addr = htonl(0x0a4d0000u | (uint32_t)i);
		vlab_labnet_addr_free(net, a);
	}

	/* Into a spec and back. */
	struct vlab_spec spec;
	struct vlab_labnet_cfg cfg;
	assert_int_equal(vlab_spec_init(&spec, "container", "c1", &err), 0);
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	assert_string_equal(vlab_spec_get(&spec, "net"), "on");
	assert_string_equal(vlab_spec_get(&spec, "net.ns"), vlab_labnet_path(net));
	/* Addresses go round robin (an address just given back is the last
	 * to be handed out again: its instance's veth or TAP may still be
	 * going away), so which one comes next depends on what came before. */
	unsigned host;
	char want_mac[32];
	assert_int_equal(sscanf(vlab_spec_get(&spec, "net.ip"), "10.77.0.%u/24", &host), 1);
	assert_true(host >= VLAB_LABNET_FIRST && host <= VLAB_LABNET_LAST);
	snprintf(want_mac, sizeof(want_mac), "02:76:6c:00:00:%02x", host);
	assert_string_equal(vlab_spec_get(&spec, "net.mac"), want_mac);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	vlab_labnet_spec_detach(net, &spec);
	assert_int_equal(vlab_labnet_addr_alloc(net, &a, &err), 0);
	assert_true(ntohl(a.s_addr) != (0x0a4d0000u | host));
	vlab_labnet_addr_free(net, a);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

/* The container's case: a veth into another namespace, UDP both ways. */
static void test_veth_traffic(void **state)
{
	(void)state;
	if (!need_root())
		VTEST_SKIP("the lab network needs root and /dev/net/tun");
	int fds = vtest_count_fds();
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	struct vlab_spec spec;
	struct vlab_labnet_cfg cfg;
	assert_int_equal(vlab_spec_init(&spec, "container", "c1", &err), 0);
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	int target = new_netns();
	if (vlab_labnet_add_veth(&cfg, target, "eth0", &err) < 0)
		fail_msg("add_veth: %s", err.msg);
	/* A second pair with the same address must fail cleanly. */
	assert_int_equal(vlab_labnet_add_veth(&cfg, target, "eth1", &err), -1);

	int inner = socket_in(target, SOCK_DGRAM);
	struct sockaddr_in in_addr = sin_of(cfg.ip, 7777);
	assert_int_equal(bind(inner, (struct sockaddr *)&in_addr, sizeof(in_addr)), 0);
	int outer = vlab_labnet_socket(net, AF_INET, SOCK_DGRAM, 0, &err);
	assert_true(outer >= 0);
	assert_int_equal(sendto(outer, "ping", 4, 0, (struct sockaddr *)&in_addr, sizeof(in_addr)),
			 4);
	char buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	assert_true(wait_readable(inner, 3000));
	assert_int_equal(recvfrom(inner, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0x0a4d0001);
	assert_int_equal(sendto(inner, "pong", 4, 0, (struct sockaddr *)&from, fl), 4);
	assert_true(wait_readable(outer, 3000));
	assert_int_equal(recv(outer, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "pong", 4);

	close(inner);
	close(outer);
	close(target); /* the container's namespace goes, and the pair with it */
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
	assert_int_equal(vtest_count_fds(), fds);
}

struct frame {
	uint8_t dst[6], src[6];
	uint16_t type;
	uint8_t payload[1500];
} __attribute__((packed));

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Plays the guest behind the TAP: answers ARP for cfg->ip and echoes one
 * UDP datagram.  Returns once the echo is sent. */
static void guest_echo_once(int tap, const struct vlab_labnet_cfg *cfg)
{
	/* Two bytes ahead of the frame put its IP header on a 4-byte boundary,
	 * where struct iphdr may be read. */
	struct {
		uint16_t pad;
		struct frame f;
	} __attribute__((packed, aligned(4))) slot;
	struct frame *f = &slot.f;
	for (int frames = 0; frames < 50; frames++) {
		assert_true(wait_readable(tap, 3000));
		ssize_t n = read(tap, f, sizeof(*f));
		assert_true(n >= 14);
		if (ntohs(f->type) == 0x0806) { /* ARP request for us: reply */
			uint8_t *a = f->payload;
			if (ntohs(*(uint16_t *)(a + 6)) != 1 || memcmp(a + 24, &cfg->ip, 4) != 0)
				continue;
			uint8_t sha[6], spa[4];
			memcpy(sha, a + 8, 6);
			memcpy(spa, a + 14, 4);
			*(uint16_t *)(a + 6) = htons(2);
			memcpy(a + 8, cfg->mac, 6);
			memcpy(a + 14, &cfg->ip, 4);
			memcpy(a + 18, sha, 6);
			memcpy(a + 24, spa, 4);
			memcpy(f->dst, sha, 6);
			memcpy(f->src, cfg->mac, 6);
			assert_int_equal(write(tap, f, 14 + 28), 14 + 28);
		} else if (ntohs(f->type) == 0x0800) { /* IPv4: echo UDP back */
			struct iphdr *ip = (struct iphdr *)f->payload;
			if (ip->protocol != IPPROTO_UDP)
				continue;
			struct udphdr *udp = (struct udphdr *)(f->payload + ip->ihl * 4);
			uint8_t mac[6];
			memcpy(mac, f->src, 6);
			memcpy(f->src, f->dst, 6);
			memcpy(f->dst, mac, 6);
			uint32_t a = ip->saddr;
			ip->saddr = ip->daddr;
			ip->daddr = a;
			ip->check = 0;
			ip->check = ip_checksum(ip, ip->ihl * 4u);
			uint16_t p = udp->source;
			udp->source = udp->dest;
			udp->dest = p;
			udp->check = 0; /* optional over IPv4 */
			assert_int_equal(write(tap, f, (size_t)n), n);
			return;
		}
	}
	fail_msg("no UDP datagram reached the TAP device");
}

/* The VM's and unikernel's case: a TAP on the bridge, UDP both ways. */
static void test_tap_traffic(void **state)
{
	(void)state;
	if (!need_root())
		VTEST_SKIP("the lab network needs root and /dev/net/tun");
	int fds = vtest_count_fds();
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	struct vlab_spec spec;
	struct vlab_labnet_cfg cfg;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "u1", &err), 0);
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	assert_int_equal(vlab_labnet_cfg_from_spec(&spec, &cfg, &err), 0);
	int tap = vlab_labnet_open_tap(&cfg, 0, &err);
	if (tap < 0)
		fail_msg("open_tap: %s", err.msg);
	/* The device is not in our namespace: the thread came back. */
	assert_int_equal(if_nametoindex(cfg.tap_name), 0);

	int outer = vlab_labnet_socket(net, AF_INET, SOCK_DGRAM, 0, &err);
	assert_true(outer >= 0);
	struct sockaddr_in to = sin_of(cfg.ip, 7);
	assert_int_equal(sendto(outer, "hello tap", 9, 0, (struct sockaddr *)&to, sizeof(to)), 9);
	guest_echo_once(tap, &cfg);
	char buf[64];
	assert_true(wait_readable(outer, 3000));
	assert_int_equal(recv(outer, buf, sizeof(buf), 0), 9);
	assert_memory_equal(buf, "hello tap", 9);

	close(outer);
	close(tap);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
	assert_int_equal(vtest_count_fds(), fds);
}

/* A vlab killed with SIGKILL while it had a veth and a TAP: its namespace
 * survives it, and the next start removes it. */
static void test_sigkill_then_next_start(void **state)
{
	(void)state;
	if (!need_root())
		VTEST_SKIP("the lab network needs root and /dev/net/tun");
	int ready[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vlab_err e = {0};
		struct vlab_labnet *n;
		struct vlab_spec sp;
		struct vlab_labnet_cfg c1, c2;
		if (vlab_labnet_acquire(&n, &e) < 0 ||
		    vlab_spec_init(&sp, "container", "c", &e) < 0 ||
		    vlab_labnet_spec_attach(n, &sp, &e) < 0 ||
		    vlab_labnet_cfg_from_spec(&sp, &c1, &e) < 0 ||
		    vlab_labnet_add_veth(&c1, new_netns(), "eth0", &e) < 0 ||
		    vlab_labnet_spec_attach(n, &sp, &e) < 0 ||
		    vlab_labnet_cfg_from_spec(&sp, &c2, &e) < 0 ||
		    vlab_labnet_open_tap(&c2, 0, &e) < 0)
			_exit(1);
		if (write(ready[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	char path[128], owner[128];
	snprintf(path, sizeof(path), "/run/netns/vlab-%d", (int)pid);
	owner_file(pid, owner, sizeof(owner));
	assert_true(exists(path));
	struct vlab_err err = {0};
	assert_true(vlab_labnet_sweep(&err) >= 0);
	assert_true(exists(path)); /* alive: spared */

	kill(pid, SIGKILL);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* A SIGKILL cleans nothing; but any vlab starting on this machine
	 * now (other tests run at the same time) may sweep it first. */
	if (!exists(path)) {
		print_message("%s was swept meanwhile by another vlab on this machine\n", path);
		return;
	}

	/* The next start sweeps it. */
	struct vlab_labnet *net = NULL;
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("acquire: %s", err.msg);
	assert_false(exists(path));
	assert_false(exists(owner));
	vlab_labnet_release(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cfg_from_spec), cmocka_unit_test(test_create_share_destroy),
	    cmocka_unit_test(test_addresses),	  cmocka_unit_test(test_veth_traffic),
	    cmocka_unit_test(test_tap_traffic),	  cmocka_unit_test(test_sigkill_then_next_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
