/* tests/integration/images/test_vm_image.c: the VM image proved under
 * QEMU's software emulation (-accel tcg), independent of vlab's own VMM.
 *
 * Boots build/images/vmlinuz + initramfs.cpio.gz with both serial ports
 * (ttyS0 the console, ttyS1 the agent), a virtio disk and a virtio NIC on
 * QEMU's user-mode network (inside the QEMU process; the guest starts no
 * traffic, and one UDP port is forwarded from 127.0.0.1 to its echo
 * server; restrict=on would drop the echoes), then checks: READY on ttyS1
 * within a bound,
 * sysinfo matching what QEMU was given, the disk workload on /dev/vda,
 * the modules loaded, the address from vlab.ip=, the echo server measured
 * from the host, a root login on ttyS0, and a clean power-off. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "core/paths.h"
#include "workloads/echo_client.h"
#include "workloads/proto.h"

extern char **environ;

#define BOOT_TIMEOUT_MS 120000 /* FACTS: ~5 s here; a loaded machine is slower */
#define MEM_MIB 256
#define CPUS 2

static char tmp[64], kernel[VLAB_PATH_MAX], initrd[VLAB_PATH_MAX];
static pid_t qemu;
static int agent_fd = -1, console_fd = -1;
static struct vlab_lines agent_in;
static uint16_t fwd_port;

static int have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[VLAB_PATH_MAX];
	for (const char *p = path; p && *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* A UDP port free on loopback now (QEMU binds it next). */
static uint16_t free_udp_port(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void boot(void)
{
	int con[2], ctl[2];
	char disk[128], log[128], append[512], fwd[128];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
	snprintf(disk, sizeof(disk), "%s/disk.img", tmp);
	int fd = open(disk, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 << 20), 0); /* sparse: "dynamically allocated" */
	close(fd);
	snprintf(log, sizeof(log), "%s/qemu.log", tmp);
	fwd_port = free_udp_port();
	snprintf(fwd, sizeof(fwd), "user,id=n0,hostfwd=udp:127.0.0.1:%u-:7777", (unsigned)fwd_port);
	snprintf(append, sizeof(append),
		 "console=ttyS0 quiet panic=-1 vlab.ip=10.0.2.15/24 vlab.gw=10.0.2.2 "
		 "vlab.hostname=imgtest");
	char drive[192], mem[16], smp[16];
	snprintf(drive, sizeof(drive), "file=%s,if=virtio,format=raw", disk);
	snprintf(mem, sizeof(mem), "%dM", MEM_MIB);
	snprintf(smp, sizeof(smp), "%d", CPUS);
	char *argv[] = {"qemu-system-x86_64",
			"-accel",
			"tcg",
			"-m",
			mem,
			"-smp",
			smp,
			"-nodefaults",
			"-no-user-config",
			"-display",
			"none",
			"-no-reboot",
			"-kernel",
			kernel,
			"-initrd",
			initrd,
			"-append",
			append,
			"-chardev",
			"socket,id=s0,fd=3",
			"-serial",
			"chardev:s0",
			"-chardev",
			"socket,id=s1,fd=4",
			"-serial",
			"chardev:s1",
			"-drive",
			drive,
			"-netdev",
			fwd,
			"-device",
			"virtio-net-pci,netdev=n0",
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, con[1], 3);
	posix_spawn_file_actions_adddup2(&fa, ctl[1], 4);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	assert_int_equal(posix_spawnp(&qemu, "qemu-system-x86_64", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(con[1]);
	close(ctl[1]);
	console_fd = con[0];
	agent_fd = ctl[0];
	vlab_lines_init(&agent_in, VLAB_PROTO_LINE_MAX + 2);
}

static void show_log(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "tail -n 20 %s/qemu.log", tmp);
	if (system(cmd) < 0)
		print_message("(no qemu log)\n");
}

static int setup(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	if (vlab_image_path(VLAB_IMAGE_KERNEL, kernel, sizeof(kernel), &err) < 0 ||
	    vlab_image_path(VLAB_IMAGE_INITRAMFS, initrd, sizeof(initrd), &err) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "/tmp/vlab-test-vmimage.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (qemu > 0) {
		kill(qemu, SIGKILL);
		waitpid(qemu, NULL, 0);
	}
	if (agent_fd >= 0)
		close(agent_fd);
	if (console_fd >= 0)
		close(console_fd);
	vlab_lines_free(&agent_in);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vlab_proto_msg m;
static char answer[VLAB_PROTO_LINE_MAX + 2];

/* One request on ttyS1; the parsed `ok` answer. */
static void ask(const char *req, int timeout_ms)
{
	static unsigned long id;
	char line[1024], prefix[32];
	struct vlab_err err = {0};
	int n = snprintf(line, sizeof(line), "%lu %s\n", ++id, req);
	snprintf(prefix, sizeof(prefix), "%lu ", id);
	if (vlab_write_all(agent_fd, line, (size_t)n, 5000, &err) < 0)
		fail_msg("send '%s': %s", req, err.msg);
	for (;;) {
		char *got;
		int r = vlab_lines_wait(&agent_in, agent_fd, timeout_ms, &got, &err);
		if (r <= 0) {
			show_log();
			fail_msg("no answer to '%s': %s", req, r == 0 ? "timeout" : err.msg);
		}
		if (strncmp(got, prefix, strlen(prefix)) == 0) {
			snprintf(answer, sizeof(answer), "%s", got);
			break;
		}
	}
	if (vlab_proto_parse(answer, &m) < 0 || m.kind != VLAB_MSG_OK)
		fail_msg("'%s' -> %s", req, answer);
}

static uint64_t u64(const char *key)
{
	uint64_t v;
	if (vlab_proto_u64(&m, key, &v) != 0)
		fail_msg("no %s in the answer", key);
	return v;
}

static int has_flag(const char *flags, const char *flag)
{
	char list[1024], want[64];
	snprintf(list, sizeof(list), ",%s,", flags);
	snprintf(want, sizeof(want), ",%s,", flag);
	return strstr(list, want) != NULL;
}

/* Reads the console until text appears (or the time is up). */
static int console_expect(const char *text, int timeout_ms)
{
	static char seen[16384];
	static size_t len;
	uint64_t deadline = vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		seen[len] = '\0';
		char *hit = strstr(seen, text);
		if (hit) {
			/* Keep only what follows, for the next expectation. */
			size_t rest = len - (size_t)(hit + strlen(text) - seen);
			memmove(seen, hit + strlen(text), rest);
			len = rest;
			return 1;
		}
		uint64_t now = vlab_now_ns();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = console_fd, .events = POLLIN};
		if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
			continue;
		if (len > sizeof(seen) - 512) {
			memmove(seen, seen + len / 2, len - len / 2);
			len -= len / 2;
		}
		ssize_t n = read(console_fd, seen + len, sizeof(seen) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
	}
}

static void console_send(const char *text)
{
	struct vlab_err err = {0};
	assert_int_equal(vlab_write_all(console_fd, text, strlen(text), 5000, &err), 0);
}

static void test_boot_under_qemu(void **state)
{
	(void)state;
	if (!have("qemu-system-x86_64"))
		VTEST_SKIP(
		    "qemu-system-x86_64 is not installed (make deps installs qemu-system-x86)");
	if (access(kernel, R_OK) != 0 || access(initrd, R_OK) != 0)
		VTEST_SKIP("the VM image is not built (make images)");
	uint64_t t0 = vlab_now_ns();
	boot();

	/* READY on ttyS1, within the bound. */
	struct vlab_err err = {0};
	char *line;
	int r = vlab_lines_wait(&agent_in, agent_fd, BOOT_TIMEOUT_MS, &line, &err);
	if (r <= 0) {
		show_log();
		fail_msg("no READY on ttyS1 within %d s: %s", BOOT_TIMEOUT_MS / 1000,
			 r == 0 ? "timeout" : err.msg);
	}
	print_message("READY after %.2f s: %s\n", (double)(vlab_now_ns() - t0) / 1e9, line);
	snprintf(answer, sizeof(answer), "%s", line);
	assert_int_equal(vlab_proto_parse(answer, &m), 0);
	assert_int_equal(m.kind, VLAB_MSG_READY);
	assert_true(vlab_proto_version_ok(m.version));
	assert_int_equal(u64("cpus"), CPUS);

	/* What the guest sees is what QEMU was given. */
	ask("sysinfo", 30000);
	assert_int_equal(u64("cpus_count"), CPUS);
	uint64_t mem = u64("mem_total_bytes");
	assert_true(mem > (uint64_t)(MEM_MIB - 64) << 20 && mem <= (uint64_t)MEM_MIB << 20);
	assert_string_equal(vlab_proto_str(&m, "hostname", ""), "imgtest");
	assert_string_equal(vlab_proto_str(&m, "hypervisor", ""), "TCGTCGTCGTCG");
	assert_non_null(strstr(vlab_proto_str(&m, "kernel", ""), "cloud-amd64"));
	assert_string_equal(vlab_proto_str(&m, "addrs", ""), "10.0.2.15/24");
	const char *flags = vlab_proto_str(&m, "cpu_flags", "");
	assert_true(has_flag(flags, "pae"));
	assert_true(has_flag(flags, "nx"));
	assert_true(has_flag(flags, "lm"));

	/* The virtio drivers are loaded, the disk workload runs on /dev/vda. */
	ask("exec cmd=cut%20-d%20%22%20%22%20-f1%20/proc/modules", 30000);
	const char *mods = vlab_proto_str(&m, "stdout", "");
	assert_non_null(strstr(mods, "virtio_blk"));
	assert_non_null(strstr(mods, "virtio_net"));
	assert_non_null(strstr(mods, "virtio_pci"));
	ask("disk size=4M bs=256K", 60000);
	assert_string_equal(vlab_proto_str(&m, "target", ""), "/dev/vda");
	assert_string_equal(vlab_proto_str(&m, "verified", ""), "yes");
	assert_string_equal(vlab_proto_str(&m, "cache_dropped", ""), "yes");
	ask("cpu size=100000", 60000);
	assert_int_equal(u64("int_primes_count"), 9592);
	ask("mem size=4M reps=2", 60000);
	assert_true(u64("array_bytes") == 4u << 20);
	/* More than the guest has: an answer, not the OOM killer. */
	char big[64];
	int n = snprintf(big, sizeof(big), "%lu mem size=%dM\n", 1000ul, MEM_MIB / 2);
	struct vlab_err werr = {0};
	assert_int_equal(vlab_write_all(agent_fd, big, (size_t)n, 5000, &werr), 0);
	char *got;
	assert_int_equal(vlab_lines_wait(&agent_in, agent_fd, 30000, &got, &werr), 1);
	assert_int_equal(strncmp(got, "1000 err nomem", 14), 0);
	ask("ping", 10000);

	/* The echo server, measured from the host through QEMU's forward. */
	ask("net-echo op=start port=7777", 10000);
	struct vlab_echo_opts eo = {
	    .host = "127.0.0.1", .port = fwd_port, .count = 50, .warmup = 3, .timeout_ms = 2000};
	struct vlab_echo_result er;
	if (vlab_echo_run(&eo, &er, &err) < 0)
		fail_msg("echo through the VM's NIC: %s", err.msg);
	print_message("echo: %u/%u answered, RTT median %.1f us, p99 %.1f us\n", er.received,
		      er.sent, (double)er.rtt_median_ns / 1e3, (double)er.rtt_p99_ns / 1e3);
	assert_true(er.received >= 45);
	ask("net-echo op=stop", 10000);
	assert_true(u64("rx_count") >= 45);

	/* A person logs in on ttyS0. */
	console_send("\n");
	if (!console_expect("login:", 30000))
		fail_msg("no login prompt on ttyS0");
	console_send("root\n");
	if (!console_expect("root@imgtest", 30000))
		fail_msg("no shell prompt after logging in as root");
	console_send("echo vlab-$((40+2))\n");
	if (!console_expect("vlab-42", 30000))
		fail_msg("the console shell did not run a command");

	/* shutdown: the agent answers, /init powers the machine off. */
	ask("shutdown", 10000);
	int status;
	pid_t w = 0;
	uint64_t deadline = vlab_now_ns() + 60000000000ull;
	while ((w = waitpid(qemu, &status, WNOHANG)) == 0 && vlab_now_ns() < deadline)
		usleep(50000);
	if (w != qemu) {
		show_log();
		fail_msg("QEMU still runs 60 s after shutdown");
	}
	qemu = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_under_qemu),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
