/* tests/integration/engines/vm/labguest.h: the lab-level check of the VM
 * engine, shared by the tcg and kvm tests: boot the real Debian guest
 * (kernel + initramfs from `make images`) with a disk and a NIC on the lab
 * network, wait for the agent's READY on ttyS1, then run `sysinfo`, `cpu`,
 * `disk` on the virtio disk and `net-echo` over the TAP device, measuring
 * from the host side of the lab network.  Prints boot-to-READY and the
 * VMM's resident memory. */
#ifndef VLAB_TESTS_VM_LABGUEST_H
#define VLAB_TESTS_VM_LABGUEST_H

#include <stdio.h>
#include <stdlib.h>

#include "core/paths.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "engines/labnet/labnet.h"
#include "workloads/echo_client.h"

#define LG_REQ_MS 120000

/* Why the host cannot run the lab guest, NULL when it can. */
static const char *lg_missing(int need_qemu)
{
	static char why[512];
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, 0);
	if (need_qemu && !caps.qemu_path[0])
		return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	if (!caps.image[VLAB_IMAGE_KERNEL].built || !caps.image[VLAB_IMAGE_INITRAMFS].built) {
		snprintf(why, sizeof(why), "the guest kernel and initramfs are not built (%s): make images",
			 caps.image[VLAB_IMAGE_KERNEL].path);
		return why;
	}
	if (geteuid() != 0)
		return "the lab network (net-echo over the TAP device) needs root";
	return NULL;
}

static const char *lg_ask(struct vlab_instance *inst, const char *req)
{
	const char *resp;
	struct vlab_err err = {0};
	if (vlab_instance_request(inst, req, &resp, LG_REQ_MS, &err) < 0)
		fail_msg("%s: %s", req, err.msg);
	print_message("  %s -> %.300s\n", req, resp);
	if (strncmp(resp, "ok", 2))
		fail_msg("%s answered: %s", req, resp);
	return resp;
}

/* The value of key in a response line, copied into buf ("" when absent). */
static const char *lg_val(const char *resp, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	buf[0] = '\0';
	for (const char *p = resp; (p = strstr(p, key)); p += kl)
		if ((p == resp || p[-1] == ' ') && p[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + kl + 1, " "), p + kl + 1);
			break;
		}
	return buf;
}

/* Resident memory of the instance process and its children, KiB. */
static unsigned long lg_rss_kib(pid_t pid)
{
	char path[64], line[256];
	unsigned long total = 0, kib;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "r");
	pid_t kids[16];
	int nk = 0;
	while (f && nk < 16 && fscanf(f, "%d", &kids[nk]) == 1)
		nk++;
	if (f)
		fclose(f);
	for (int i = -1; i < nk; i++) {
		snprintf(path, sizeof(path), "/proc/%d/status", i < 0 ? (int)pid : (int)kids[i]);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmRSS: %lu", &kib) == 1)
				total += kib;
		fclose(f);
	}
	return total;
}

struct lg_echo {
	const char *ip;
	struct vlab_echo_result res;
	struct vlab_err err;
};

static int lg_echo_in_lab(void *arg)
{
	struct lg_echo *e = arg;
	struct vlab_echo_opts o = {.host = e->ip, .port = 7777, .count = 50, .warmup = 5,
				   .payload_bytes = 64, .timeout_ms = 2000};
	return vlab_echo_run(&o, &e->res, &e->err);
}

/* Boots the lab guest on backend and runs the four workloads. */
static void lg_run(const char *backend, int boot_ms)
{
	struct vlab_labnet *net;
	struct vlab_err err = {0};
	if (vlab_labnet_acquire(&net, &err) < 0)
		fail_msg("lab network: %s", err.msg);
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	char name[32];
	snprintf(name, sizeof(name), "lab-%s", backend);
	assert_int_equal(vlab_spec_init(&spec, "vm", name, &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "backend", backend, &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "disk_size", "64M", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "memory", "256M", &err), 0);
	assert_int_equal(vlab_labnet_spec_attach(net, &spec, &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0)
		fail_msg("start: %s", err.msg);
	if (vlab_instance_wait_ready(inst, boot_ms, &err) < 0)
		fail_msg("no READY from the guest: %s", err.msg);
	print_message("  backend %s (emulated=%s): READY after %.2f s, VMM RSS %lu KiB\n",
		      vlab_instance_attr(inst, "backend"), vlab_instance_attr(inst, "emulated"),
		      vlab_instance_startup_ns(inst) / 1e9, lg_rss_kib(vlab_instance_pid(inst)));
	assert_string_equal(vlab_instance_attr(inst, "backend"), backend);
	assert_string_equal(vlab_instance_attr(inst, "emulated"), strcmp(backend, "tcg") ? "no" : "yes");
	assert_non_null(strstr(vlab_instance_ready_line(inst), "vlab-agent/1"));

	char v[256];
	const char *ip = vlab_instance_attr(inst, "ip");
	assert_non_null(ip);
	const char *r = lg_ask(inst, "sysinfo");
	assert_string_equal(lg_val(r, "platform", v, sizeof(v)), "linux");
	assert_non_null(strstr(lg_val(r, "addrs", v, sizeof(v)), ip));
	assert_string_equal(lg_val(r, "virtualized", v, sizeof(v)), "yes");
	lg_val(r, "cpu_flags", v, sizeof(v));
	assert_non_null(strstr(v, "pae"));

	r = lg_ask(inst, "cpu size=100000 matrix=16");
	assert_string_equal(lg_val(r, "int_primes_count", v, sizeof(v)), "9592");

	r = lg_ask(inst, "disk size=8M bs=1M");
	assert_string_equal(lg_val(r, "target", v, sizeof(v)), "/dev/vda");
	assert_string_equal(lg_val(r, "verified", v, sizeof(v)), "yes");

	lg_ask(inst, "net-echo op=start port=7777");
	struct lg_echo e = {.ip = ip};
	if (vlab_labnet_call(net, lg_echo_in_lab, &e, &err) < 0)
		fail_msg("net-echo from the lab network: %s", e.err.msg[0] ? e.err.msg : err.msg);
	print_message("  net-echo over %s: %u/%u answered, RTT median %.1f us, p99 %.1f us\n",
		      vlab_instance_attr(inst, "tap"), e.res.received, e.res.sent,
		      e.res.rtt_median_ns / 1e3, e.res.rtt_p99_ns / 1e3);
	assert_true(e.res.received >= 45);
	r = lg_ask(inst, "net-echo op=stop");
	assert_true(atoi(lg_val(r, "rx_count", v, sizeof(v))) >= 50);

	if (!strcmp(backend, "kvm")) {
		/* Linux drives our virtio devices with MSI-X, the UARTs by line. */
		const struct vlab_counters *cs = vlab_instance_counters(inst);
		print_message("  interrupts: %llu MSI-X messages, %llu line assertions; exits: %llu I/O, %llu MMIO\n",
			      (unsigned long long)vlab_counters_get(cs, "irq.msi"),
			      (unsigned long long)vlab_counters_get(cs, "irq.line"),
			      (unsigned long long)vlab_counters_get(cs, "exit.io"),
			      (unsigned long long)vlab_counters_get(cs, "exit.mmio"));
		assert_true(vlab_counters_get(cs, "irq.msi") > 0);
		assert_true(vlab_counters_get(cs, "dev.virtio-blk") > 0);
		assert_true(vlab_counters_get(cs, "dev.virtio-net") > 0);
	}
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	vlab_instance_free(inst);
	vlab_labnet_spec_detach(net, &spec);
	vlab_spec_free(&spec);
	vlab_labnet_release(net);
}

#endif
