/* tests/unit/engines/kvm/test_kvm.c: the shared KVM plumbing, driven by
 * few-byte guests at CPL 3 and CPL 0. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "engines/kvm/kvm.h"
#include "engines/kvm/probe.h"
#include "engines/kvm/x86.h"

#define RAM (2u << 20)
#define CODE 0x10000

static int kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

#define NEED_KVM()                                                                                 \
	do {                                                                                       \
		if (!kvm_usable())                                                                 \
			VTEST_SKIP("/dev/kvm cannot be opened here (%s)", strerror(errno));        \
	} while (0)

struct guest {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint8_t *ram;
};

static void boot(struct guest *g, int cpl, const uint8_t *code, size_t len)
{
	struct vlab_err err = {0};
	assert_int_equal(kvm_vm_new(&g->vm, &err), 0);
	assert_int_equal(kvm_vm_add_ram(g->vm, 0, RAM, 0, &g->ram, &err), 0);
	assert_int_equal(kvm_vcpu_new(g->vm, 0, &g->vcpu, &err), 0);
	memcpy(g->ram + CODE, code, len);
	struct kvm_x86_mode m = {.pt_gpa = 0x1000, .gdt_gpa = 0x8000, .map_bytes = RAM, .cpl = cpl,
				 .iopl = 3, .user_pages = cpl == 3, .rip = CODE, .rsp = RAM - 16};
	if (kvm_x86_long_mode(g->vcpu, &m, &err) < 0)
		fail_msg("long mode: %s", err.msg);
}

static void halt(struct guest *g)
{
	kvm_vcpu_free(g->vcpu);
	kvm_vm_free(g->vm);
}

/* mov al, 1; out 0x10, al; mov al, 2; out 0x10, al; mov al, 3; out 0x10, al;
 * then a per-test tail */
static const uint8_t three_outs[] = {0xb0, 0x01, 0xe6, 0x10, 0xb0, 0x02, 0xe6, 0x10,
				     0xb0, 0x03, 0xe6, 0x10};

static void expect_outs(struct guest *g)
{
	struct vlab_err err = {0};
	for (int i = 1; i <= 3; i++) {
		int r = kvm_vcpu_run(g->vcpu, &err);
		assert_int_equal(r, KVM_EXIT_IO);
		struct kvm_run *run = g->vcpu->run;
		assert_int_equal(run->io.direction, KVM_EXIT_IO_OUT);
		assert_int_equal(run->io.port, 0x10);
		assert_int_equal(run->io.size, 1);
		assert_int_equal(((uint8_t *)run)[run->io.data_offset], i);
	}
	assert_int_equal(g->vcpu->exits[KVM_EXIT_IO], 3);
}

static void test_cpl3_port_io(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[sizeof(three_outs) + 2];
	memcpy(code, three_outs, sizeof(three_outs));
	code[sizeof(three_outs)] = 0xe6; /* out 0x11, al: "exit" */
	code[sizeof(three_outs) + 1] = 0x11;
	struct guest g;
	boot(&g, 3, code, sizeof(code));
	expect_outs(&g);
	struct vlab_err err = {0};
	assert_int_equal(kvm_vcpu_run(g.vcpu, &err), KVM_EXIT_IO);
	assert_int_equal(g.vcpu->run->io.port, 0x11);
	assert_int_equal(g.vcpu->exits[KVM_EXIT_IO], 4);
	assert_int_equal(g.vcpu->nexits, 4);
	halt(&g);
}

static void test_cpl0_port_io_and_hlt(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[sizeof(three_outs) + 1];
	memcpy(code, three_outs, sizeof(three_outs));
	code[sizeof(three_outs)] = 0xf4; /* hlt */
	struct guest g;
	boot(&g, 0, code, sizeof(code));
	expect_outs(&g);
	struct vlab_err err = {0};
	assert_int_equal(kvm_vcpu_run(g.vcpu, &err), KVM_EXIT_HLT);
	assert_int_equal(g.vcpu->exits[KVM_EXIT_HLT], 1);
	assert_string_equal(kvm_exit_name(KVM_EXIT_HLT), "hlt");
	halt(&g);
}

static void test_cpl3_hlt_triple_faults(void **state)
{
	(void)state;
	NEED_KVM();
	/* hlt is privileged: at CPL 3 it raises #GP, and with no IDT that
	 * escalates to a triple fault, which KVM reports as a shutdown. */
	static const uint8_t code[] = {0xf4};
	struct guest g;
	boot(&g, 3, code, sizeof(code));
	struct vlab_err err = {0};
	assert_int_equal(kvm_vcpu_run(g.vcpu, &err), KVM_EXIT_SHUTDOWN);
	assert_int_equal(g.vcpu->exits[KVM_EXIT_SHUTDOWN], 1);
	halt(&g);
}

static void test_gpa_checks(void **state)
{
	(void)state;
	NEED_KVM();
	struct vlab_err err = {0};
	struct kvm_vm *vm;
	uint8_t *ram;
	assert_int_equal(kvm_vm_new(&vm, &err), 0);
	assert_int_equal(kvm_vm_add_ram(vm, 0, RAM, 0, &ram, &err), 0);
	assert_ptr_equal(kvm_gpa(vm, 0, RAM), ram);
	assert_ptr_equal(kvm_gpa(vm, RAM - 8, 8), ram + RAM - 8);
	assert_null(kvm_gpa(vm, RAM - 8, 9));
	assert_null(kvm_gpa(vm, RAM, 1));
	assert_null(kvm_gpa(vm, UINT64_MAX - 3, 8));   /* wraps past 2^64 */
	assert_null(kvm_gpa(vm, 16, UINT64_MAX - 8));  /* length wraps */
	/* A second slot with a hole between them. */
	assert_int_equal(kvm_vm_add_ram(vm, 4u << 20, RAM, 0, NULL, &err), 0);
	assert_null(kvm_gpa(vm, RAM - 4, 8)); /* straddles the hole */
	assert_non_null(kvm_gpa(vm, 4u << 20, 4096));
	assert_null(kvm_gpa(vm, (4u << 20) - 1, 2));
	/* Bad slots are refused. */
	assert_int_equal(kvm_vm_add_ram(vm, 100, 4096, 0, NULL, &err), -1);
	assert_int_equal(kvm_vm_add_ram(vm, RAM - 4096, 8192, 0, NULL, &err), -1);
	assert_int_equal(err.code, EEXIST);
	kvm_vm_free(vm);
}

static void test_long_mode_rejects(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest g;
	static const uint8_t code[] = {0xf4};
	boot(&g, 0, code, sizeof(code));
	struct vlab_err err = {0};
	struct kvm_x86_mode m = {.pt_gpa = RAM - 4096, .gdt_gpa = 0x8000, .map_bytes = RAM};
	assert_int_equal(kvm_x86_long_mode(g.vcpu, &m, &err), -1); /* tables past RAM */
	m.pt_gpa = 0x1000;
	m.map_bytes = 3u << 20; /* not a 2 MiB multiple */
	assert_int_equal(kvm_x86_long_mode(g.vcpu, &m, &err), -1);
	m.map_bytes = RAM;
	m.cpl = 2;
	assert_int_equal(kvm_x86_long_mode(g.vcpu, &m, &err), -1);
	halt(&g);
}

static void test_measure_loop(void **state)
{
	(void)state;
	NEED_KVM();
	struct kvm_loop_cost c3;
	struct vlab_err err = {0};
	if (kvm_measure_loop(3, 1000000, &c3, &err) < 0)
		fail_msg("measure: %s", err.msg);
	/* The count grows until one run lasts 1 ms; the best of three at that
	 * count may then be shorter on a busy machine, so only sanity here. */
	assert_true(c3.ns_per_iter > 0.0);
	assert_true(c3.iters >= 1000);
	assert_true(c3.run_ns > c3.exit_ns);
	print_message("CPL 3 loop: %.3f ns/iteration, exit round trip %llu ns\n", c3.ns_per_iter,
		      (unsigned long long)c3.exit_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpl3_port_io),         cmocka_unit_test(test_cpl0_port_io_and_hlt),
		cmocka_unit_test(test_cpl3_hlt_triple_faults), cmocka_unit_test(test_gpa_checks),
		cmocka_unit_test(test_long_mode_rejects),    cmocka_unit_test(test_measure_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
