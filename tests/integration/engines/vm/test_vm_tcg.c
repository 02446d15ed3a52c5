/* tests/integration/engines/vm/test_vm_tcg.c: the real Debian guest under
 * the tcg backend (QEMU software emulation): boots to the agent's READY on
 * ttyS1 and runs sysinfo, cpu, disk (virtio-blk) and net-echo (virtio-net
 * on a TAP device in the lab network); the lab's switches reach the
 * guest's CPU. */
#include "tests/vtest.h"

#include "tests/integration/engines/vm/labguest.h"

static void test_lab_guest(void **state)
{
	(void)state;
	const char *why = lg_missing(1);
	if (why)
		VTEST_SKIP("%s", why);
	lg_run("tcg", 180000);
}

/* nx=off and cpus=2 are what the guest sees. */
static void test_cpu_switches(void **state)
{
	(void)state;
	const char *why = lg_missing(1);
	if (why)
		VTEST_SKIP("%s", why);
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "vm", "tcg-nx", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "backend", "tcg", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "nx", "off", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "cpus", "2", &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 180000, &err) < 0)
		fail_msg("boot: %s", err.msg);
	char v[8192];
	const char *r = lg_ask(inst, "sysinfo");
	assert_string_equal(lg_val(r, "cpus_count", v, sizeof(v)), "2");
	lg_val(r, "cpu_flags", v, sizeof(v));
	assert_non_null(strstr(v, "pae"));
	assert_null(strstr(v, ",nx,"));
	/* The scratch disk of an instance that had none: nothing to remove. */
	assert_null(vlab_instance_attr(inst, "disk"));
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	vlab_instance_free(inst);
	vlab_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lab_guest),
	    cmocka_unit_test(test_cpu_switches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
