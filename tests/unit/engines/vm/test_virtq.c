/* tests/unit/engines/vm/test_virtq.c: hostile drivers.  Malformed rings
 * (descriptor loops, indices past the queue, buffers past guest RAM,
 * available-index jumps, bad queue sizes, misaligned or unmapped rings,
 * indirect tables never offered, readable-after-writable chains) and
 * state-machine abuse (features never offered, queue writes after
 * DRIVER_OK) must fail that device, never the VMM: the device reports
 * DEVICE_NEEDS_RESET, touches nothing, and works again after a reset.
 * The subject is virtio-rng, the simplest device on the transport. */
#include "tests/vtest.h"

#include "engines/vm/virtio_rng.h"
#include "tests/unit/engines/vm/vdriver.h"

#define Q 8
#define BUF 0x40000u

static struct vm_rng rng;

static int setup(void **state)
{
	(void)state;
	vd_setup_mem();
	vm_rng_init(&rng, &vd_mem, &vd_irq);
	vd_start(&rng.v, 1, Q);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_rng_destroy(&rng);
	vd_free_mem();
	return 0;
}

static int broken(void)
{
	return !!(vd_status(&rng.v) & VIRTIO_S_NEEDS_RESET);
}

/* After each hostile test: nothing was used, and a reset recovers. */
static void expect_broken_then_recover(uint16_t used_before)
{
	assert_true(broken());
	assert_int_equal(vd_used(0)->idx, used_before);
	assert_true(rng.v.broken[0] != '\0');
	print_message("  needs reset: %s\n", rng.v.broken);
	vd_start(&rng.v, 1, Q);
	assert_false(broken());
	vd_set_desc(0, 0, BUF, 64, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	assert_int_equal(vd_used(0)->idx, 1);
	assert_int_equal(vd_used(0)->ring[0].len, 64);
}

static void test_good_request(void **state)
{
	(void)state;
	memset(vd_ram + BUF, 0, 256);
	vd_set_desc(0, 0, BUF, 128, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, BUF + 128, 128, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	assert_int_equal(vd_used(0)->idx, 1);
	assert_int_equal(vd_used(0)->ring[0].len, 256);
	int nonzero = 0;
	for (int i = 0; i < 256; i++)
		nonzero += vd_ram[BUF + i] != 0;
	assert_true(nonzero > 200);
}

static void test_descriptor_loop(void **state)
{
	(void)state;
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(0);
}

static void test_head_past_queue(void **state)
{
	(void)state;
	vd_kick(&rng.v, 0, Q + 3, Q);
	expect_broken_then_recover(0);
}

static void test_next_past_queue(void **state)
{
	(void)state;
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 200);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(0);
}

static void test_buffer_past_ram(void **state)
{
	(void)state;
	vd_set_desc(0, 0, VD_RAM - 8, 64, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(0);
	/* An address whose end wraps around. */
	vd_set_desc(0, 0, UINT64_MAX - 4, 64, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(1);
}

static void test_avail_index_jump(void **state)
{
	(void)state;
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	vd_avail(0)->idx = Q + 1; /* claims more entries than the ring holds */
	vd_w(&rng.v, VM_VIRTIO_NOTIFY, 0, 2);
	expect_broken_then_recover(0);
}

static void test_readable_after_writable_and_indirect(void **state)
{
	(void)state;
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, BUF + 16, 16, 0, 0);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(0);
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_INDIRECT, 0);
	vd_kick(&rng.v, 0, 0, Q);
	expect_broken_then_recover(1);
}

static void bad_size(uint16_t size)
{
	vd_negotiate(&rng.v, 0, 1);
	vd_w(&rng.v, VIRTIO_PCI_Q_SELECT, 0, 2);
	vd_w(&rng.v, VIRTIO_PCI_Q_SIZE, size, 2);
	vd_w(&rng.v, VIRTIO_PCI_Q_DESC, VD_DESC, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_AVAIL, VD_AVAIL, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_USED, VD_USED, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_ENABLE, 1, 2);
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_Q_ENABLE, 2), 0);
	vd_driver_ok(&rng.v);
	memset(vd_ram + VD_USED, 0, 0x1000);
	expect_broken_then_recover(0);
}

static void test_queue_sizes(void **state)
{
	(void)state;
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_Q_SIZE, 2), Q);
	bad_size(0);
	bad_size(6);
	bad_size(512); /* larger than offered */
}

static void test_rings_outside_ram(void **state)
{
	(void)state;
	vd_negotiate(&rng.v, 0, 1);
	vd_w(&rng.v, VIRTIO_PCI_Q_SELECT, 0, 2);
	vd_w(&rng.v, VIRTIO_PCI_Q_DESC, VD_RAM - 16, 4); /* table runs past RAM */
	vd_w(&rng.v, VIRTIO_PCI_Q_ENABLE, 1, 2);
	assert_true(broken());
	vd_start(&rng.v, 1, Q);
	vd_negotiate(&rng.v, 0, 1);
	vd_w(&rng.v, VIRTIO_PCI_Q_SELECT, 0, 2);
	vd_w(&rng.v, VIRTIO_PCI_Q_DESC, VD_DESC + 8, 4); /* misaligned */
	vd_w(&rng.v, VIRTIO_PCI_Q_AVAIL, VD_AVAIL, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_USED, VD_USED, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_ENABLE, 1, 2);
	expect_broken_then_recover(0);
}

static void test_writes_after_driver_ok(void **state)
{
	(void)state;
	uint64_t ignored = rng.v.ignored_writes;
	vd_w(&rng.v, VIRTIO_PCI_Q_SELECT, 0, 2);
	vd_w(&rng.v, VIRTIO_PCI_Q_DESC, 0x80000, 4);
	vd_w(&rng.v, VIRTIO_PCI_Q_SIZE, 4, 2);
	vd_w(&rng.v, VIRTIO_PCI_GF, 0xffffffff, 4);
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_Q_DESC, 4), VD_DESC);
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_Q_SIZE, 2), Q);
	assert_int_equal(rng.v.ignored_writes, ignored + 3);
	/* The queue still works where it was. */
	vd_set_desc(0, 0, BUF, 32, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	assert_int_equal(vd_used(0)->idx, 1);
	/* A queue that does not exist reads as size 0 and takes no writes. */
	vd_w(&rng.v, VIRTIO_PCI_Q_SELECT, 5, 2);
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_Q_SIZE, 2), 0);
	vd_w(&rng.v, VIRTIO_PCI_Q_ENABLE, 1, 2);
	assert_false(broken());
	/* Read-only registers stay so. */
	vd_w(&rng.v, VIRTIO_PCI_NUM_QUEUES, 9, 2);
	assert_int_equal(vd_r(&rng.v, VIRTIO_PCI_NUM_QUEUES, 2), 1);
}

static void test_features_not_offered(void **state)
{
	(void)state;
	/* Bit 28 (indirect descriptors) was never offered. */
	assert_false(vd_negotiate(&rng.v, 1u << 28, 1) & VIRTIO_S_FEATURES_OK);
	/* Nor can a modern device be driven without VERSION_1. */
	assert_false(vd_negotiate(&rng.v, 0, 0) & VIRTIO_S_FEATURES_OK);
	assert_true(vd_negotiate(&rng.v, 0, 1) & VIRTIO_S_FEATURES_OK);
	vd_start(&rng.v, 1, Q);
}

static void test_notify_while_broken_does_nothing(void **state)
{
	(void)state;
	vd_kick(&rng.v, 0, Q, Q); /* breaks it */
	assert_true(broken());
	vd_set_desc(0, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	vd_kick(&rng.v, 0, 0, Q);
	assert_int_equal(vd_used(0)->idx, 0);
	expect_broken_then_recover(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_descriptor_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_past_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_past_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buffer_past_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_index_jump, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readable_after_writable_and_indirect, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_queue_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rings_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writes_after_driver_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features_not_offered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_while_broken_does_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
