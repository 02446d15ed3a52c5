/* tests/unit/engines/vm/test_virtio_blk.c: the virtio-blk model driven by
 * a test driver through real rings in fake guest memory: reads, writes,
 * flush, ID, bounds, read-only disks, interrupts, and requests too short
 * to carry a header or a status. */
#include "tests/vtest.h"

#include <fcntl.h>
#include <stdlib.h>

#include "engines/vm/virtio_blk.h"
#include "tests/unit/engines/vm/vdriver.h"

#define SECTORS 64
#define HDR 0x40000u
#define DATA 0x41000u
#define STATUS 0x42000u
#define Q 8

static struct vm_blk blk;
static int fd;
static char path[64];

static int setup(void **state)
{
	(void)state;
	vd_setup_mem();
	snprintf(path, sizeof(path), "/tmp/vlab-test-blk-%d.img", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, SECTORS * 512) < 0)
		return -1;
	char s[512];
	for (int i = 0; i < SECTORS; i++) {
		memset(s, 'a' + i % 26, sizeof(s));
		if (pwrite(fd, s, 512, i * 512) != 512)
			return -1;
	}
	vm_blk_init(&blk, fd, SECTORS * 512, 0, "vlab-serial", &vd_mem, &vd_irq, NULL);
	blk.v.pci.gsi = 17;
	vd_start(&blk.v, 1, Q);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_blk_destroy(&blk);
	close(fd);
	unlink(path);
	vd_free_mem();
	return 0;
}

/* One request: header, len data bytes (device-writable for reads), status. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len)
{
	uint32_t h[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};
	memcpy(vd_ram + HDR, h, sizeof(h));
	vd_ram[STATUS] = 0xee;
	int to_guest = type == 0 || type == 8;
	vd_set_desc(0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, DATA, len, VRING_DESC_F_NEXT | (to_guest ? VRING_DESC_F_WRITE : 0), 2);
	vd_set_desc(0, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	uint16_t before = vd_used(0)->idx;
	vd_kick(&blk.v, 0, 0, Q);
	assert_int_equal(vd_used(0)->idx, (uint16_t)(before + 1));
	assert_int_equal(vd_used(0)->ring[before % Q].id, 0);
	return vd_ram[STATUS];
}

static void test_negotiation(void **state)
{
	(void)state;
	/* Capacity in the device configuration, VERSION_1 offered. */
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_DEVCFG, 8), SECTORS);
	vd_w(&blk.v, VIRTIO_PCI_DFSELECT, 1, 4);
	assert_true(vd_r(&blk.v, VIRTIO_PCI_DF, 4) & 1);
	assert_int_equal(vd_r(&blk.v, VIRTIO_PCI_NUM_QUEUES, 2), 1);
	assert_true(vd_status(&blk.v) & VIRTIO_S_DRIVER_OK);
	/* The PCI identity of a modern virtio block device. */
	assert_int_equal(vm_pci_get16(&blk.v.pci, PCI_VENDOR), 0x1af4);
	assert_int_equal(vm_pci_get16(&blk.v.pci, PCI_DEVICE), 0x1042);
}

static void test_read_write_flush(void **state)
{
	(void)state;
	assert_int_equal(request(0, 3, 1024), 0);
	assert_int_equal(vd_ram[DATA], 'd');
	assert_int_equal(vd_ram[DATA + 1023], 'e');
	assert_int_equal(vd_used(0)->ring[(vd_used(0)->idx - 1) % Q].len, 1025);

	memset(vd_ram + DATA, 'Z', 512);
	assert_int_equal(request(1, 7, 512), 0);
	char s[512];
	assert_int_equal(pread(fd, s, 512, 7 * 512), 512);
	assert_int_equal(s[0], 'Z');
	assert_int_equal(s[511], 'Z');
	assert_int_equal(request(4, 0, 0 + 1), 0); /* flush (a data buffer is ignored) */

	memset(vd_ram + DATA, 0, 32);
	assert_int_equal(request(8, 0, 20), 0);
	assert_string_equal((char *)vd_ram + DATA, "vlab-serial");
}

static void test_bad_requests_fail_alone(void **state)
{
	(void)state;
	assert_int_equal(request(0, SECTORS, 512), 1);		/* past the end */
	assert_int_equal(request(0, SECTORS - 1, 1024), 1);	/* runs past the end */
	assert_int_equal(request(0, UINT64_MAX / 256, 512), 1); /* sector * 512 overflows */
	assert_int_equal(request(0, 0, 100), 1);		/* not whole sectors */
	assert_int_equal(request(99, 0, 512), 2);		/* unknown type: UNSUPP */
	/* The device carries on. */
	assert_int_equal(request(0, 0, 512), 0);
	assert_false(vd_status(&blk.v) & VIRTIO_S_NEEDS_RESET);
}

static void test_readonly(void **state)
{
	(void)state;
	struct vm_blk ro;
	vm_blk_init(&ro, fd, SECTORS * 512, 1, "ro", &vd_mem, &vd_irq, NULL);
	vd_start(&ro.v, 1, Q);
	uint32_t h[4] = {1, 0, 2, 0};
	memcpy(vd_ram + HDR, h, sizeof(h));
	vd_set_desc(0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, DATA, 512, VRING_DESC_F_NEXT, 2);
	vd_set_desc(0, 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	vd_kick(&ro.v, 0, 0, Q);
	assert_int_equal(vd_ram[STATUS], 1);
	char s[1];
	assert_int_equal(pread(fd, s, 1, 2 * 512), 1);
	assert_int_equal(s[0], 'c'); /* unchanged */
	vm_blk_destroy(&ro);
	vd_start(&blk.v, 1, Q); /* the shared rings belong to blk again */
}

static void test_interrupts(void **state)
{
	(void)state;
	vd_r(&blk.v, VM_VIRTIO_ISR, 1);
	assert_int_equal(vd_level[17], 0);
	request(0, 0, 512);
	assert_int_equal(vd_level[17], 1); /* INTx asserted */
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_ISR, 1), 1);
	assert_int_equal(vd_level[17], 0); /* reading the ISR acknowledges */
	/* The driver can ask for no interrupt. */
	vd_avail(0)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	request(0, 0, 512);
	assert_int_equal(vd_level[17], 0);
	vd_avail(0)->flags = 0;
}

static void test_short_chain_needs_reset(void **state)
{
	(void)state;
	/* A header cut short: the device cannot even answer this request. */
	vd_set_desc(0, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	vd_set_desc(0, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	vd_kick(&blk.v, 0, 0, Q);
	assert_true(vd_status(&blk.v) & VIRTIO_S_NEEDS_RESET);
	assert_true(vd_r(&blk.v, VM_VIRTIO_ISR, 1) & 2); /* configuration change */
	/* A reset brings it back. */
	vd_start(&blk.v, 1, Q);
	assert_false(vd_status(&blk.v) & VIRTIO_S_NEEDS_RESET);
	assert_int_equal(request(0, 1, 512), 0);
	assert_int_equal(vd_ram[DATA], 'b');
}

/* The PCI configuration access capability reaches the BAR without
 * mapping it: here, the capacity in the device configuration. */
static void test_pci_cfg_window(void **state)
{
	(void)state;
	struct vm_iobus bus;
	struct vm_pci pci;
	struct vlab_err err = {0};
	vm_iobus_init(&bus, NULL);
	assert_int_equal(vm_pci_init(&pci, &bus, 0xc0000000, 0x100000, &err), 0);
	assert_int_equal(vm_pci_plug(&pci, &blk.v.pci, &err), 0);
	unsigned bdf = blk.v.pci.slot << 3, cap = 0;
	for (unsigned c = vm_pci_cfg_read(&pci, bdf, PCI_CAP_PTR, 1); c;
	     c = vm_pci_cfg_read(&pci, bdf, c + 1, 1))
		if (vm_pci_cfg_read(&pci, bdf, c, 1) == 0x09 &&
		    vm_pci_cfg_read(&pci, bdf, c + 3, 1) == 5)
			cap = c;
	assert_true(cap >= 0x40);
	vm_pci_cfg_write(&pci, bdf, cap + 4, 0, 1);		   /* BAR0 */
	vm_pci_cfg_write(&pci, bdf, cap + 8, VM_VIRTIO_DEVCFG, 4); /* offset */
	vm_pci_cfg_write(&pci, bdf, cap + 12, 4, 4);		   /* length */
	assert_int_equal(vm_pci_cfg_read(&pci, bdf, cap + 16, 4), SECTORS);
	/* A write through the window: select queue 0's size register. */
	vm_pci_cfg_write(&pci, bdf, cap + 8, VIRTIO_PCI_Q_SELECT, 4);
	vm_pci_cfg_write(&pci, bdf, cap + 12, 2, 4);
	vm_pci_cfg_write(&pci, bdf, cap + 16, 0, 2);
	vm_pci_cfg_write(&pci, bdf, cap + 8, VIRTIO_PCI_Q_SIZE, 4);
	assert_int_equal(vm_pci_cfg_read(&pci, bdf, cap + 16, 2), Q);
	/* A window past the BAR reads nothing. */
	vm_pci_cfg_write(&pci, bdf, cap + 8, 0x10000, 4);
	vm_pci_cfg_read(&pci, bdf, cap + 16, 4);
	vm_pci_destroy(&pci);
	vm_iobus_destroy(&bus);
}

/* MSI-X: per-queue messages instead of INTx, held while masked. */
static void test_msix(void **state)
{
	(void)state;
	struct vm_iobus bus;
	struct vm_pci pci;
	struct vlab_err err = {0};
	vm_iobus_init(&bus, NULL);
	assert_int_equal(vm_pci_init(&pci, &bus, 0xc0000000, 0x100000, &err), 0);
	assert_int_equal(vm_pci_plug(&pci, &blk.v.pci, &err), 0);
	unsigned bdf = blk.v.pci.slot << 3, cap = 0;
	for (unsigned c = vm_pci_cfg_read(&pci, bdf, PCI_CAP_PTR, 1); c;
	     c = vm_pci_cfg_read(&pci, bdf, c + 1, 1))
		if (vm_pci_cfg_read(&pci, bdf, c, 1) == 0x11)
			cap = c;
	assert_true(cap >= 0x40);
	assert_int_equal(vm_pci_cfg_read(&pci, bdf, cap + 2, 2) & 0x7ff, 1); /* 2 vectors */
	assert_int_equal(vm_pci_cfg_read(&pci, bdf, cap + 4, 4), VM_VIRTIO_MSIX_TABLE); /* BAR0 */

	/* Vector 0: queue 0; vector 1: configuration changes. */
	vd_w(&blk.v, VM_VIRTIO_MSIX_TABLE + 0, 0xfee00000, 4);
	vd_w(&blk.v, VM_VIRTIO_MSIX_TABLE + 8, 0x41, 4);
	vd_w(&blk.v, VM_VIRTIO_MSIX_TABLE + 12, 0, 4); /* unmask */
	vd_w(&blk.v, VIRTIO_PCI_MSIX_CONFIG, 1, 2);
	assert_int_equal(vd_r(&blk.v, VIRTIO_PCI_MSIX_CONFIG, 2), 1);
	vd_w(&blk.v, VIRTIO_PCI_Q_SELECT, 0, 2);
	vd_w(&blk.v, VIRTIO_PCI_Q_MSIX, 7, 2); /* past the table: refused */
	assert_int_equal(vd_r(&blk.v, VIRTIO_PCI_Q_MSIX, 2), 0xffff);
	vd_w(&blk.v, VIRTIO_PCI_Q_MSIX, 0, 2);
	assert_int_equal(vd_r(&blk.v, VIRTIO_PCI_Q_MSIX, 2), 0);
	vm_pci_cfg_write(&pci, bdf, cap + 2, 0x8000, 2); /* enable */

	vd_r(&blk.v, VM_VIRTIO_ISR, 1);
	vd_msis = 0;
	assert_int_equal(request(0, 0, 512), 0);
	assert_int_equal(vd_msis, 1);
	assert_int_equal(vd_msi_addr, 0xfee00000);
	assert_int_equal(vd_msi_data, 0x41);
	assert_int_equal(vd_level[blk.v.pci.gsi], 0); /* no INTx */
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_ISR, 1), 0);

	/* Masked: pending, then delivered on unmask. */
	vd_w(&blk.v, VM_VIRTIO_MSIX_TABLE + 12, 1, 4);
	assert_int_equal(request(0, 0, 512), 0);
	assert_int_equal(vd_msis, 1);
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_MSIX_PBA, 8), 1);
	vd_w(&blk.v, VM_VIRTIO_MSIX_TABLE + 12, 0, 4);
	assert_int_equal(vd_msis, 2);
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_MSIX_PBA, 8), 0);
	/* The function mask holds every vector the same way. */
	vm_pci_cfg_write(&pci, bdf, cap + 2, 0xc000, 2);
	assert_int_equal(request(0, 0, 512), 0);
	assert_int_equal(vd_msis, 2);
	vm_pci_cfg_write(&pci, bdf, cap + 2, 0x8000, 2);
	assert_int_equal(vd_msis, 3);
	/* Vector 1 is still masked: a broken queue's config change waits. */
	vd_kick(&blk.v, 0, Q + 1, Q);
	assert_true(vd_status(&blk.v) & VIRTIO_S_NEEDS_RESET);
	assert_int_equal(vd_r(&blk.v, VM_VIRTIO_MSIX_PBA, 8), 2);
	vm_pci_cfg_write(&pci, bdf, cap + 2, 0, 2); /* back to INTx for the other tests */
	vd_start(&blk.v, 1, Q);
	vm_pci_destroy(&pci);
	vm_iobus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),
	    cmocka_unit_test(test_read_write_flush),
	    cmocka_unit_test(test_bad_requests_fail_alone),
	    cmocka_unit_test(test_readonly),
	    cmocka_unit_test(test_interrupts),
	    cmocka_unit_test(test_short_chain_needs_reset),
	    cmocka_unit_test(test_pci_cfg_window),
	    cmocka_unit_test(test_msix),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
