/* tests/integration/engines/vm/test_vm_kvm_linux.c: the same lab-level
 * check as test_vm_tcg.c with vlab's own VMM (backend=kvm) booting the real
 * Debian guest.  It needs hardware-assisted KVM, measured as vlab doctor
 * measures it: where KVM emulates guest kernel code (kvm_pvm), a Linux
 * kernel does not boot in useful time and the test skips, saying so (the
 * VMM itself is still tested there with our own test guest, and nested.sh
 * runs this very test inside a TCG-emulated machine that has SVM). */
#include "tests/vtest.h"

#include "tests/integration/engines/vm/labguest.h"

static void test_lab_guest_on_our_vmm(void **state)
{
	(void)state;
	struct vlab_hostcaps caps;
	memset(&caps, 0, sizeof(caps));
	vlab_hostcaps_probe_kvm(&caps, VLAB_CAPS_MEASURE_KVM);
	if (!caps.kvm_present || caps.kvm_open_errno)
		VTEST_SKIP("no usable /dev/kvm here");
	if (!caps.kvm_measured)
		VTEST_SKIP("KVM could not be measured: %s", caps.kvm_measure_error);
	if (!caps.kvm_hw)
		VTEST_SKIP(
		    "KVM here (%s) emulates guest kernel code: the CPL 0 loop runs %.0fx slower "
		    "than the CPL 3 loop, so a Linux kernel would take many minutes to boot; "
		    "test_vm_testguest covers vlab's VMM on this host",
		    caps.kvm_module[0] ? caps.kvm_module : "unknown module", caps.ratio);
	const char *why = lg_missing(0);
	if (why)
		VTEST_SKIP("%s", why);
	lg_run("kvm", 300000); /* seconds on hardware; minutes when nested in TCG */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lab_guest_on_our_vmm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
