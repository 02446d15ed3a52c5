/* tests/integration/engines/vm/test_vm_tcg.c: the real Debian guest
 * under the tcg backend (QEMU software emulation): boots to the agent's
 * READY on ttyS1 and answers workload requests on its virtio devices. */
#include "tests/vtest.h"

#include <errno.h>
#include <stdlib.h>

#include "core/paths.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"

#define BOOT_MS 120000 /* TCG on a busy 2-core machine */
#define REQ_MS 60000

static const char *missing(void)
{
	static char why[256];
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, 0);
	if (!caps.qemu_path[0])
		return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	if (!caps.image[VLAB_IMAGE_KERNEL].built || !caps.image[VLAB_IMAGE_INITRAMFS].built) {
		snprintf(why, sizeof(why),
			 "the guest kernel and initramfs are not built (%s): make images",
			 caps.image[VLAB_IMAGE_KERNEL].path);
		return why;
	}
	return NULL;
}

static struct vlab_instance *boot(const char *name, const char *const *kv)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "vm", name, &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "backend", "tcg", &err), 0);
	for (; kv && *kv; kv++)
		assert_int_equal(vlab_spec_set_kv(&spec, *kv, &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
	vlab_spec_free(&spec);
	if (vlab_instance_start(inst, &err) < 0)
		fail_msg("start: %s", err.msg);
	if (vlab_instance_wait_ready(inst, BOOT_MS, &err) < 0)
		fail_msg("no READY from the guest: %s", err.msg);
	return inst;
}

static const char *request(struct vlab_instance *inst, const char *req)
{
	const char *resp;
	struct vlab_err err = {0};
	if (vlab_instance_request(inst, req, &resp, REQ_MS, &err) < 0)
		fail_msg("%s: %s", req, err.msg);
	print_message("%s -> %s\n", req, resp);
	if (strncmp(resp, "ok", 2) != 0)
		fail_msg("%s answered: %s", req, resp);
	return resp;
}

static void test_boot_and_workloads(void **state)
{
	(void)state;
	const char *why = missing();
	if (why)
		VTEST_SKIP("%s", why);
	const char *kv[] = {"disk_size=64M", "memory=256M", NULL};
	struct vlab_instance *inst = boot("tcg-guest", kv);
	print_message("READY after %.2f s: %s\n", vlab_instance_startup_ns(inst) / 1e9,
		      vlab_instance_ready_line(inst));
	assert_non_null(strstr(vlab_instance_ready_line(inst), "vlab-agent/1"));
	assert_string_equal(vlab_instance_attr(inst, "backend"), "tcg");
	assert_string_equal(vlab_instance_attr(inst, "emulated"), "yes");
	assert_non_null(vlab_instance_attr(inst, "image_bytes"));
	assert_true(strtoull(vlab_instance_attr(inst, "image_bytes"), NULL, 10) > 1000000);

	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	int saw_console = 0;
	for (size_t i = 0; i < n; i++)
		saw_console |= !strcmp(ph[i].name, "console");
	assert_true(saw_console);

	const char *r = request(inst, "sysinfo");
	assert_non_null(strstr(r, "Linux"));
	request(inst, "cpu");

	struct vlab_err err = {0};
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_EXITED);
	/* The scratch disk goes with the instance. */
	const char *disk = vlab_instance_attr(inst, "disk");
	assert_non_null(disk);
	assert_int_equal(access(disk, F_OK), -1);
	vlab_instance_free(inst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_and_workloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
