/* tests/security/test_escapes.c: ways out of a container, beyond the
 * container engine's own tests, each tried from inside by sec-probe
 * (tests/security/guest/, in build/tests/sec-rootfs):
 *
 * - the default profile's denied system calls, every one, through the
 *   i386 (int 0x80) and x32 entry points: each refused with EPERM by the
 *   filter (the runtime counts it), none run;
 * - a setuid-root program run by an unprivileged user in the container
 *   gains nothing (no_new_privs): same uid, no capabilities;
 * - services on the host's loopback (TCP on 127.0.0.1 and on every
 *   address, an abstract unix socket) cannot be reached, with or without
 *   the lab network;
 * - the host's vlab binary cannot be opened through /proc/PID/exe of a
 *   runtime process that joins the container (CVE-2019-5736), however
 *   often exec runs, and its bytes are unchanged afterwards. */
#include "tests/integration/container/ct_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "engines/container/ct.h"
#include "engines/labnet/labnet.h"

#define NEED_SEC()                                                                                 \
	do {                                                                                       \
		const char *why = ct_cannot_run(1);                                                \
		if (why)                                                                           \
			VTEST_SKIP("%s", why);                                                     \
		if (!realpath("build/tests/sec-rootfs", ct_rootfs) ||                              \
		    access("build/tests/sec-rootfs/bin/sec-probe-suid", X_OK) != 0)               \
			VTEST_SKIP("the escape tests' rootfs is not built (make tests)");          \
	} while (0)

/* ---- system calls through the other ABIs ---- */

static void matrix(struct vlab_instance *inst, const char *abi, uint32_t arch, int *expected)
{
	char cmd[8192];
	int n = snprintf(cmd, sizeof(cmd), "exec /bin/sec-probe matrix %s", abi);
	int calls = 0;
	for (int i = 0; ct_seccomp_default_deny[i]; i++) {
		int nr = seccomp_syscall_resolve_name_arch(arch, ct_seccomp_default_deny[i]);
		if (nr < 0)
			continue; /* no such call in this ABI */
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %d", nr & ~0x40000000);
		expected[i]++;
		calls++;
	}
	struct vlab_container_run r = ct_sh(inst, cmd);
	assert_int_equal(r.status, 0);
	int seen = 0;
	for (const char *l = r.out; (l = strstr(l, "call ")); l++) {
		long nr, e;
		if (sscanf(l, "call %ld %ld", &nr, &e) != 2)
			continue;
		seen++;
		if (e != EPERM) {
			char *name = seccomp_syscall_resolve_num_arch(arch, (int)nr);
			fail_msg("%s call %ld (%s): errno %ld, not EPERM from the filter", abi, nr,
				 name ? name : "?", e);
		}
	}
	assert_int_equal(seen, calls);
	print_message("%s: %d denied calls refused\n", abi, calls);
	vlab_container_run_free(&r);
}

static void test_denied_calls_through_other_abis(void **state)
{
	(void)state;
	NEED_SEC();
	struct vlab_instance *inst = ct_must_start("sec-abi", NULL);
	int expected[128] = {0};
	matrix(inst, "i386", SCMP_ARCH_X86, expected);
	matrix(inst, "x32", SCMP_ARCH_X32, expected);
	/* the runtime saw each one: the filter refused it, not the kernel */
	for (int i = 0; ct_seccomp_default_deny[i]; i++) {
		if (!expected[i])
			continue;
		char key[96];
		snprintf(key, sizeof(key), "seccomp.denied.%s", ct_seccomp_default_deny[i]);
		uint64_t got = ct_counter_wait(inst, key, (uint64_t)expected[i], 2000);
		if (got < (uint64_t)expected[i])
			fail_msg("%s: %llu denial(s) counted, %d expected", key,
				 (unsigned long long)got, expected[i]);
	}
	vlab_instance_free(inst);
}

/* ---- setuid ---- */

static void test_setuid_gains_nothing(void **state)
{
	(void)state;
	NEED_SEC();
	struct vlab_instance *inst = ct_must_start("sec-suid", NULL);
	struct vlab_container_run r = ct_sh(inst, "exec /bin/sec-probe whoami");
	print_message("root in the container:\n%s", r.out);
	assert_int_equal(ct_field(r.out, "euid"), 0);
	assert_int_equal(ct_field(r.out, "nnp"), 1);
	vlab_container_run_free(&r);
	r = ct_sh(inst, "exec /bin/sec-probe drop-exec /bin/sec-probe-suid");
	print_message("nobody running a setuid-root program:\n%s", r.out);
	assert_int_equal(r.status, 0);
	assert_int_equal(ct_field(r.out, "uid"), 65534);
	assert_int_equal(ct_field(r.out, "euid"), 65534);
	assert_int_equal(ct_field(r.out, "suid"), 65534);
	assert_int_equal(ct_field(r.out, "CapEff"), 0);
	assert_int_equal(ct_field(r.out, "CapPrm"), 0);
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

/* ---- the host's loopback ---- */

static int listen_tcp(const char *addr, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	socklen_t len = sizeof(sa);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int listen_abstract(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path + 1, name, strlen(name));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
			 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int nobody_came(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

static void try_host(struct vlab_instance *inst, const char *what)
{
	char name[64], cmd[512];
	int lo_port, any_port;
	snprintf(name, sizeof(name), "vlab-sec-%d", (int)getpid());
	int lo = listen_tcp("127.0.0.1", &lo_port), any = listen_tcp("0.0.0.0", &any_port);
	int ab = listen_abstract(name);
	snprintf(cmd, sizeof(cmd),
		 "/bin/sec-probe tcp 127.0.0.1 %d; /bin/sec-probe tcp 127.0.0.1 %d; "
		 "/bin/sec-probe tcp 10.77.0.1 %d; /bin/sec-probe abstract %s",
		 lo_port, any_port, any_port, name);
	struct vlab_container_run r = ct_sh(inst, cmd);
	print_message("%s: %s", what, r.out);
	for (const char *l = r.out; (l = strstr(l, "connect ")); l++)
		if (ct_field(l, "connect") == 0)
			fail_msg("%s: a connection from the container succeeded:\n%s", what, r.out);
	if (!nobody_came(lo) || !nobody_came(any) || !nobody_came(ab))
		fail_msg("%s: a host service got a connection from the container", what);
	vlab_container_run_free(&r);
	close(lo);
	close(any);
	close(ab);
}

static void test_host_loopback_unreachable(void **state)
{
	(void)state;
	NEED_SEC();
	struct vlab_instance *inst = ct_must_start("sec-lo", NULL);
	try_host(inst, "loopback only");
	vlab_instance_free(inst);
}

static void test_host_unreachable_from_lab_network(void **state)
{
	(void)state;
	NEED_SEC();
	struct vlab_instance *inst;
	struct vlab_err err = {0};
	struct vlab_labnet *net = NULL;
	int joins_labnet = 0;
	for (const struct vlab_opt_desc *o = vlab_engine_find("container")->opts; o->name; o++)
		joins_labnet |= !strcmp(o->name, "net.ns");
	if (!joins_labnet)
		VTEST_SKIP("the container engine does not join the lab network yet (no net.ns)");
	if (vlab_labnet_acquire(&net, &err) < 0)
		VTEST_SKIP("no lab network here: %s", err.msg);
	struct vlab_spec spec;
	assert_int_equal(vlab_spec_init(&spec, "container", "sec-net", &err), 0);
	vlab_spec_set(&spec, "rootfs", ct_rootfs, &err);
	vlab_spec_set(&spec, "sh", CT_IDLE_AGENT, &err);
	if (vlab_labnet_spec_attach(net, &spec, &err) < 0)
		fail_msg("attach: %s", err.msg);
	inst = NULL;
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 10000, &err) < 0)
		fail_msg("container on the lab network: %s", err.msg);
	try_host(inst, "on the lab network");
	vlab_instance_free(inst);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

/* ---- the runtime's binary ---- */

static uint64_t file_hash(const char *path, off_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	uint64_t h = 1469598103934665603ull;
	uint8_t buf[65536];
	*size = 0;
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0; *size += n)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static void test_runtime_binary_unreachable(void **state)
{
	(void)state;
	NEED_SEC();
	char self[PATH_MAX];
	assert_non_null(realpath(getenv("VLAB_SELF"), self));
	off_t size0, size1;
	uint64_t h0 = file_hash(self, &size0);
	struct vlab_instance *inst = ct_must_start("sec-exe", NULL);
	/* The runtime's own binary (vlab-container, or vlab re-executed). */
	char exe[64], rt[PATH_MAX];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)vlab_instance_pid(inst));
	assert_non_null(realpath(exe, rt));
	off_t rt_size0, rt_size1;
	uint64_t rt_h0 = file_hash(rt, &rt_size0);
	/* The attacker scans /proc while the host keeps joining the
	 * container with exec (each a runtime process inside, until it execs). */
	char *attack[] = {"/bin/sec-probe", "exe-attack", "4", NULL};
	int out[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int stdio[3] = {devnull, out[1], devnull};
	struct vlab_container_exec x;
	struct vlab_err err = {0};
	if (vlab_container_exec_start(inst, attack, stdio, &x, &err) < 0)
		fail_msg("start the attack: %s", err.msg);
	close(out[1]);
	int joins = 0;
	uint64_t end = vlab_now_ns() + 3500000000ull;
	while (vlab_now_ns() < end) {
		char *argv[] = {"/bin/true", NULL};
		struct vlab_container_run r;
		if (vlab_container_run(inst, argv, NULL, 10000, &r, &err) == 0) {
			joins++;
			vlab_container_run_free(&r);
		}
	}
	int st;
	if (vlab_container_exec_wait(&x, 20000, &st, &err) < 0)
		fail_msg("the attack did not end: %s", err.msg);
	vlab_container_exec_close(&x);
	char report[4096];
	ssize_t n = read(out[0], report, sizeof(report) - 1);
	report[n > 0 ? n : 0] = '\0';
	close(out[0]);
	close(devnull);
	print_message("%d joins by exec; the attacker saw:\n%s", joins, report);
	assert_true(joins > 10);
	assert_true(ct_field(report, "tries") > 0);
	if (ct_field(report, "write_opens") != 0 || ct_field(report, "path_opens") != 0)
		fail_msg("the container opened a runtime's binary through /proc/PID/exe:\n%s",
			 report);
	vlab_instance_free(inst);
	uint64_t h1 = file_hash(self, &size1), rt_h1 = file_hash(rt, &rt_size1);
	assert_int_equal(size0, size1);
	assert_true(h0 == h1);
	assert_int_equal(rt_size0, rt_size1);
	assert_true(rt_h0 == rt_h1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denied_calls_through_other_abis),
		cmocka_unit_test(test_setuid_gains_nothing),
		cmocka_unit_test(test_host_loopback_unreachable),
		cmocka_unit_test(test_host_unreachable_from_lab_network),
		cmocka_unit_test(test_runtime_binary_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
