/* tests/integration/engines/vm/test_vm_testguest.c: vlab's own VMM (the
 * kvm backend) on this machine's real vCPU, running our test guest
 * (guest/, a bzImage) through the same boot path as Linux: it prints on
 * ttyS0, answers on ttyS1, probes the PCI bus, reads and writes sectors
 * through virtio-blk, sends a frame through virtio-net onto the lab
 * network, and powers off.  Each is checked from the host side. */
#include "tests/vtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"

#define GUEST "build/tests/vm-guest/testguest.bzImage"
#define ETH_TEST 0x88b5
#define REQ_MS 30000

static char disk[64];

static const char *no_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "/dev/kvm cannot be opened here";
	close(fd);
	if (access(GUEST, R_OK) != 0)
		return "the test guest is not built (make tests)";
	return NULL;
}

static struct vlab_instance *boot(struct vlab_spec *spec)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	if (vlab_instance_create(spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
	if (vlab_instance_start(inst, &err) < 0)
		fail_msg("start: %s", err.msg);
	if (vlab_instance_wait_ready(inst, 60000, &err) < 0)
		fail_msg("no READY from the test guest: %s", err.msg);
	return inst;
}

static void spec_for(struct vlab_spec *spec, const char *name)
{
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(spec, "vm", name, &err), 0);
	assert_int_equal(vlab_spec_set(spec, "backend", "kvm", &err), 0);
	assert_int_equal(vlab_spec_set(spec, "kernel", GUEST, &err), 0);
	assert_int_equal(vlab_spec_set(spec, "initrd", "none", &err), 0);
	assert_int_equal(vlab_spec_set(spec, "memory", "32M", &err), 0);
}

static const char *ask(struct vlab_instance *inst, const char *req)
{
	const char *resp;
	struct vlab_err err = {0};
	if (vlab_instance_request(inst, req, &resp, REQ_MS, &err) < 0)
		fail_msg("%s: %s", req, err.msg);
	print_message("  %s -> %s\n", req, resp);
	if (strncmp(resp, "ok", 2))
		fail_msg("%s answered: %s", req, resp);
	return resp;
}

/* Reads what the console has until it contains want (or 10 s pass). */
static int console_has(struct vlab_instance *inst, const char *want)
{
	static char buf[8192];
	static size_t len;
	uint64_t end = vlab_now_ns() + 10000000000ull;
	while (!memmem(buf, len, want, strlen(want)) && vlab_now_ns() < end) {
		struct pollfd p = {.fd = vlab_instance_console_fd(inst), .events = POLLIN};
		if (poll(&p, 1, 200) == 1) {
			ssize_t n = read(p.fd, buf + len, sizeof(buf) - 1 - len);
			if (n > 0)
				len += (size_t)n;
		}
	}
	return memmem(buf, len, want, strlen(want)) != NULL;
}

static void wait_exit(struct vlab_instance *inst)
{
	uint64_t end = vlab_now_ns() + 10000000000ull;
	while (vlab_instance_state(inst) != VLAB_STATE_EXITED && vlab_now_ns() < end) {
		struct pollfd p = {.fd = vlab_instance_pidfd(inst), .events = POLLIN};
		poll(&p, 1, 100);
		vlab_instance_pump(inst, NULL);
	}
}

static int has_phase(struct vlab_instance *inst, const char *name)
{
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ph[i].name, name))
			return 1;
	return 0;
}

static void test_boot_console_pci_blk_poweroff(void **state)
{
	(void)state;
	const char *why = no_kvm();
	if (why)
		VTEST_SKIP("%s", why);
	/* A disk whose first sector the guest must read back to us. */
	snprintf(disk, sizeof(disk), "/tmp/vlab-test-vmdisk-%d.img", (int)getpid());
	int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	assert_int_equal(pwrite(fd, "vlab sector zero", 16, 0), 16);
	close(fd);

	struct vlab_spec spec;
	struct vlab_err err = {0};
	spec_for(&spec, "testguest");
	assert_int_equal(vlab_spec_set(&spec, "disk", disk, &err), 0);
	struct vlab_instance *inst = boot(&spec);
	vlab_spec_free(&spec);

	assert_non_null(strstr(vlab_instance_ready_line(inst), "vlab-testguest/1"));
	assert_true(console_has(inst, "hello from ttyS0"));
	assert_true(console_has(inst, "vlab.hostname=testguest"));
	assert_string_equal(vlab_instance_attr(inst, "backend"), "kvm");
	assert_string_equal(vlab_instance_attr(inst, "emulated"), "no");

	const char *r = ask(inst, "ping");
	assert_string_equal(r, "ok pong");
	r = ask(inst, "boot");
	assert_non_null(strstr(r, "e820=4"));
	assert_non_null(strstr(r, "rsdp=ok"));
	r = ask(inst, "pci");
	assert_non_null(strstr(r, "0:8086:1237")); /* host bridge */
	assert_non_null(strstr(r, ":1af4:1042"));  /* virtio-blk */
	assert_non_null(strstr(r, ":1af4:1044"));  /* virtio-rng */
	r = ask(inst, "blk");
	assert_non_null(
	    strstr(r, "read=766c616220736563746f72207a65726f")); /* "vlab sector zero" */
	assert_non_null(strstr(r, "verify=ok"));
	assert_non_null(strstr(r, "capacity=2048"));
	assert_non_null(strstr(r, "past_end=ioerr"));

	/* The counters saw the hypervisor at work. */
	const struct vlab_counters *cs = vlab_instance_counters(inst);
	assert_true(vlab_counters_get(cs, "exit.io") > 10);
	assert_true(vlab_counters_get(cs, "exit.mmio") > 0);
	assert_true(vlab_counters_get(cs, "dev.uart1") > 0);
	assert_true(vlab_counters_get(cs, "dev.pci-cfg") > 0);
	assert_true(vlab_counters_get(cs, "dev.virtio-blk") > 0);
	assert_int_equal(vlab_counters_get(cs, "blk.read"), 3);
	assert_int_equal(vlab_counters_get(cs, "blk.error"), 1);

	ask(inst, "poweroff");
	wait_exit(inst);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_EXITED);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	assert_string_equal(vlab_instance_attr(inst, "stop_reason"), "poweroff");
	assert_true(has_phase(inst, "kvm") && has_phase(inst, "load") &&
		    has_phase(inst, "first-insn"));
	vlab_instance_free(inst);

	/* What the guest wrote is on the host's disk. */
	char sec[33] = {0};
	fd = open(disk, O_RDONLY);
	assert_int_equal(pread(fd, sec, 32, 512), 32);
	close(fd);
	assert_string_equal(sec, "vlab test guest wrote sector 1. ");
	unlink(disk);
}

static void test_net_frame_on_lab_network(void **state)
{
	(void)state;
	const char *why = no_kvm();
	if (why)
		VTEST_SKIP("%s", why);
	if (geteuid() != 0)
		VTEST_SKIP("the lab network needs root");
	struct vlab_labnet *net;
	struct vlab_err err = {0};
	if (vlab_labnet_acquire(&net, &err) < 0)
		VTEST_SKIP("no lab network here: %s", err.msg);
	struct vlab_spec spec;
	spec_for(&spec, "netguest");
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	/* Listen on the bridge for the guest's frame. */
	int s = vlab_labnet_socket(net, AF_PACKET, SOCK_RAW, htons(ETH_TEST), &err);
	assert_true(s >= 0);
	struct vlab_instance *inst = boot(&spec);
	assert_non_null(vlab_instance_attr(inst, "ip"));

	const char *r = ask(inst, "net");
	char mac[32];
	snprintf(mac, sizeof(mac), "mac=%s", vlab_instance_attr(inst, "mac"));
	assert_non_null(strstr(r, mac));
	uint8_t f[128];
	ssize_t n = 0;
	uint64_t end = vlab_now_ns() + 5000000000ull;
	while (vlab_now_ns() < end) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 200) == 1 && (n = recv(s, f, sizeof(f), 0)) > 0 &&
		    f[12] == (ETH_TEST >> 8) && f[13] == (ETH_TEST & 0xff))
			break;
		n = 0;
	}
	assert_true(n >= 14 + 21);
	assert_memory_equal(f + 14, "vlab test guest frame", 21);
	assert_true(vlab_counters_get(vlab_instance_counters(inst), "net.tx") >= 1);
	ask(inst, "poweroff");
	wait_exit(inst);
	assert_string_equal(vlab_instance_attr(inst, "stop_reason"), "poweroff");
	vlab_instance_free(inst);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	close(s);
	vlab_labnet_release(net);
}

/* A kernel image that is not one fails the instance with the reason. */
static void test_bad_kernel_is_refused(void **state)
{
	(void)state;
	const char *why = no_kvm();
	if (why)
		VTEST_SKIP("%s", why);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/vlab-test-badkernel-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int in = open(GUEST, O_RDONLY);
	char buf[2048];
	ssize_t n = read(in, buf, sizeof(buf)); /* the header and a little */
	assert_true(n == (ssize_t)sizeof(buf));
	assert_int_equal(write(fd, buf, (size_t)n), n);
	close(in);
	close(fd);

	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	spec_for(&spec, "badkernel");
	assert_int_equal(vlab_spec_set(&spec, "kernel", path, &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), 0);
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_wait_ready(inst, 20000, &err), -1);
	print_message("  %s\n", err.msg);
	assert_non_null(strstr(err.msg, "truncated"));
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
	unlink(path);
}

static unsigned long hexval(const char *resp, const char *key)
{
	const char *p = strstr(resp, key);
	return p ? strtoul(p + strlen(key), NULL, 16) : 0;
}

/* The CPUID template reaches the real vCPU: NX off, the vCPU count, and
 * the conservative template's cmpxchg16b. */
static void test_cpuid_template(void **state)
{
	(void)state;
	const char *why = no_kvm();
	if (why)
		VTEST_SKIP("%s", why);
	struct vlab_spec spec;
	struct vlab_err err = {0};
	spec_for(&spec, "cpuidguest");
	assert_int_equal(vlab_spec_set(&spec, "cpu_template", "full", &err), 0);
	struct vlab_instance *inst = boot(&spec);
	const char *r = ask(inst, "cpuid");
	assert_true(hexval(r, "lx1_edx=") & (1ul << 20)); /* NX */
	assert_true(hexval(r, "l1_ecx=") & (1ul << 31));  /* hypervisor */
	int cx16_full = !!(hexval(r, "l1_ecx=") & (1ul << 13));
	ask(inst, "poweroff");
	wait_exit(inst);
	vlab_instance_free(inst);

	assert_int_equal(vlab_spec_set(&spec, "nx", "off", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "cpus", "2", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "cpu_template", "conservative", &err), 0);
	inst = boot(&spec);
	assert_string_equal(vlab_instance_attr(inst, "cpu_template"), "conservative");
	r = ask(inst, "cpuid");
	assert_false(hexval(r, "lx1_edx=") & (1ul << 20));
	assert_true(hexval(r, "lx1_edx=") & (1ul << 29));	  /* long mode stays */
	assert_int_equal((hexval(r, "l1_ebx=") >> 16) & 0xff, 2); /* two logical CPUs */
	assert_false(hexval(r, "l1_ecx=") & (1ul << 13));	  /* no cmpxchg16b */
	print_message("  cmpxchg16b: %s with the full template, hidden with the conservative one\n",
		      cx16_full ? "shown" : "not offered by this KVM");
	ask(inst, "poweroff");
	wait_exit(inst);
	assert_string_equal(vlab_instance_attr(inst, "stop_reason"), "poweroff");
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
}

/* A guest reset ends the instance cleanly; a crash (an exception with no
 * IDT: a triple fault on hardware) ends it with an error naming what
 * happened.  The VMM itself never crashes. */
static void test_reboot_and_triple_fault(void **state)
{
	(void)state;
	const char *why = no_kvm();
	if (why)
		VTEST_SKIP("%s", why);
	struct vlab_spec spec;
	spec_for(&spec, "rebootguest");
	struct vlab_instance *inst = boot(&spec);
	ask(inst, "reboot");
	wait_exit(inst);
	assert_string_equal(vlab_instance_attr(inst, "stop_reason"), "reboot");
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	vlab_instance_free(inst);

	inst = boot(&spec);
	ask(inst, "crash");
	wait_exit(inst);
	print_message("  %s\n", vlab_instance_error(inst));
	const char *how = vlab_instance_attr(inst, "stop_reason");
	assert_int_not_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	if (!strcmp(how, "triple fault")) {
		assert_non_null(strstr(vlab_instance_error(inst), "triple fault"));
		assert_true(vlab_counters_get(vlab_instance_counters(inst), "exit.shutdown") >= 1);
	} else {
		/* KVMs that emulate kernel code (kvm_pvm) cannot deliver the
		 * fault at all and say so: the VMM reports that instead. */
		assert_string_equal(how, "error");
		assert_non_null(strstr(vlab_instance_error(inst), "could not emulate"));
		assert_true(
		    vlab_counters_get(vlab_instance_counters(inst), "exit.internal_error") >= 1);
	}
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_console_pci_blk_poweroff),
	    cmocka_unit_test(test_net_frame_on_lab_network),
	    cmocka_unit_test(test_bad_kernel_is_refused),
	    cmocka_unit_test(test_reboot_and_triple_fault),
	    cmocka_unit_test(test_cpuid_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
