/* tests/unit/engines/vm/test_virtio_net.c: the virtio-net model over a
 * datagram socket pair standing in for the TAP device: frames leave
 * without their virtio header, arrive with one, wait in the wire while the
 * driver has no buffer, and wake the I/O thread when buffers come. */
#include "tests/vtest.h"

#include <sys/socket.h>

#include "engines/vm/virtio_net.h"
#include "tests/unit/engines/vm/vdriver.h"

#define Q 8
#define RXQ 0
#define TXQ 1
#define BUF 0x40000u

static struct vm_net net;
static int wire[2]; /* [0]: the NIC's end, [1]: the test's */
static int kicks;

static void kick(void *ctx)
{
	(void)ctx;
	kicks++;
}

static int setup(void **state)
{
	(void)state;
	vd_setup_mem();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, wire) < 0)
		return -1;
	const uint8_t mac[6] = {0x02, 0x76, 0x6c, 0, 0, 9};
	vm_net_init(&net, wire[0], mac, &vd_mem, &vd_irq, NULL);
	net.rx_kick = kick;
	kicks = 0;
	vd_start(&net.v, 2, Q);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_net_destroy(&net);
	close(wire[0]);
	close(wire[1]);
	vd_free_mem();
	return 0;
}

static void test_config_and_identity(void **state)
{
	(void)state;
	uint8_t mac[6];
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)vd_r(&net.v, VM_VIRTIO_DEVCFG + i, 1);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(mac[5], 9);
	assert_int_equal(vm_pci_get16(&net.v.pci, PCI_DEVICE), 0x1041);
	assert_int_equal(vd_r(&net.v, VIRTIO_PCI_NUM_QUEUES, 2), 2);
	vd_w(&net.v, VIRTIO_PCI_DFSELECT, 0, 4);
	assert_true(vd_r(&net.v, VIRTIO_PCI_DF, 4) & (1u << 5)); /* VIRTIO_NET_F_MAC */
}

static void test_transmit(void **state)
{
	(void)state;
	/* Header and frame in two descriptors, as Linux may post them. */
	memset(vd_ram + BUF, 0, VM_NET_HDR);
	memcpy(vd_ram + BUF + 0x100, "frame-from-the-guest", 20);
	vd_set_desc(TXQ, 0, BUF, VM_NET_HDR, VRING_DESC_F_NEXT, 1);
	vd_set_desc(TXQ, 1, BUF + 0x100, 20, 0, 0);
	vd_kick(&net.v, TXQ, 0, Q);
	assert_int_equal(vd_used(TXQ)->idx, 1);
	char f[64];
	ssize_t n = recv(wire[1], f, sizeof(f), MSG_DONTWAIT);
	assert_int_equal(n, 20);
	assert_memory_equal(f, "frame-from-the-guest", 20);
	/* A chain with no frame after the header is dropped, still returned. */
	vd_set_desc(TXQ, 0, BUF, VM_NET_HDR, 0, 0);
	vd_kick(&net.v, TXQ, 0, Q);
	assert_int_equal(vd_used(TXQ)->idx, 2);
	assert_int_equal(recv(wire[1], f, sizeof(f), MSG_DONTWAIT), -1);
}

static void test_receive(void **state)
{
	(void)state;
	/* No buffer yet: the frame waits in the wire. */
	assert_int_equal(send(wire[1], "hello-guest", 11, 0), 11);
	assert_int_equal(vm_net_receive(&net), 1);
	assert_int_equal(vd_used(RXQ)->idx, 0);
	/* The driver posts a buffer and notifies: the I/O thread is kicked. */
	memset(vd_ram + BUF, 0xaa, 256);
	vd_set_desc(RXQ, 0, BUF, 256, VRING_DESC_F_WRITE, 0);
	vd_kick(&net.v, RXQ, 0, Q);
	assert_int_equal(kicks, 1);
	/* Delivered; then out of buffers again: stop polling the wire. */
	assert_int_equal(vm_net_receive(&net), 1);
	assert_int_equal(vd_used(RXQ)->idx, 1);
	assert_int_equal(vd_used(RXQ)->ring[0].len, VM_NET_HDR + 11);
	assert_int_equal(vd_ram[BUF], 0);      /* flags */
	assert_int_equal(vd_ram[BUF + 10], 1); /* num_buffers */
	assert_memory_equal(vd_ram + BUF + VM_NET_HDR, "hello-guest", 11);
	/* Buffers are kept while the wire is empty. */
	vd_set_desc(RXQ, 1, BUF + 0x400, 256, VRING_DESC_F_WRITE, 0);
	vd_kick(&net.v, RXQ, 1, Q);
	assert_int_equal(kicks, 2);
	assert_int_equal(vm_net_receive(&net), 0);
	assert_int_equal(vd_used(RXQ)->idx, 1);
	assert_int_equal(send(wire[1], "second", 6, 0), 6);
	assert_int_equal(vm_net_receive(&net), 1);
	assert_int_equal(vd_used(RXQ)->idx, 2);
	assert_int_equal(vd_used(RXQ)->ring[1].id, 1);
	assert_memory_equal(vd_ram + 0x400 + BUF + VM_NET_HDR, "second", 6);
}

static void test_receive_buffer_too_small(void **state)
{
	(void)state;
	vd_set_desc(RXQ, 0, BUF, 8, VRING_DESC_F_WRITE, 0); /* not even a header */
	vd_kick(&net.v, RXQ, 0, Q);
	assert_int_equal(send(wire[1], "x", 1, 0), 1);
	vm_net_receive(&net);
	assert_true(vd_status(&net.v) & VIRTIO_S_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_and_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receive_buffer_too_small, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
