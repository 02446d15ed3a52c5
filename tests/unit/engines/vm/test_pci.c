/* tests/unit/engines/vm/test_pci.c: the I/O registry and the PCI bus:
 * mechanism #1 through ports 0xcf8/0xcfc, the host bridge, absent slots,
 * read-only identity, BAR sizing and moves (the MMIO range follows the
 * BAR; decoding off unmaps it), the capability list, INTx wiring. */
#include "tests/vtest.h"

#include "engines/vm/pci.h"

static struct vm_iobus bus;
static struct vm_pci pci;
static struct vm_pci_dev dev;
static unsigned hits;
static uint64_t last_off;

static void bar_read(void *d, uint64_t off, void *data, unsigned len)
{
	(void)d;
	hits++;
	last_off = off;
	memset(data, 0x5a, len);
}

static const struct vm_io_ops bar_ops = {.read = bar_read};

static int setup(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	vm_iobus_init(&bus, NULL);
	if (vm_pci_init(&pci, &bus, 0xc0000000, 0x100000, &err) < 0)
		return -1;
	vm_pci_dev_init(&dev, "testdev", 0x1234, 0xabcd, 0x020000, 3);
	vm_pci_dev_bar(&dev, 0, 0x4000, &bar_ops, &dev);
	uint8_t cap[8] = {0x09, 0, 8, 1, 2, 3, 4, 5};
	vm_pci_dev_cap(&dev, cap, NULL, sizeof(cap));
	vm_pci_dev_cap(&dev, cap, NULL, sizeof(cap));
	hits = 0;
	return vm_pci_plug(&pci, &dev, &err);
}

static int teardown(void **state)
{
	(void)state;
	vm_pci_destroy(&pci);
	vm_iobus_destroy(&bus);
	return 0;
}

/* Mechanism #1, as a guest does it: address to 0xcf8, data at 0xcfc+. */
static uint32_t cfg_read(unsigned slot, unsigned off, unsigned len)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc), v = 0;
	vm_iobus_access(&bus, VM_PIO, 0xcf8, &a, 4, 1);
	vm_iobus_access(&bus, VM_PIO, 0xcfc + (off & 3), &v, len, 0);
	return v;
}

static void cfg_write(unsigned slot, unsigned off, uint32_t v, unsigned len)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc);
	vm_iobus_access(&bus, VM_PIO, 0xcf8, &a, 4, 1);
	vm_iobus_access(&bus, VM_PIO, 0xcfc + (off & 3), &v, len, 1);
}

static uint32_t mmio_read(uint64_t addr)
{
	uint32_t v = 0;
	vm_iobus_access(&bus, VM_MMIO, addr, &v, 4, 0);
	return v;
}

static void test_host_bridge_and_empty_slots(void **state)
{
	(void)state;
	assert_int_equal(cfg_read(0, 0, 4), 0x12378086);
	assert_int_equal(cfg_read(0, 0x0a, 2), 0x0600); /* class: host bridge */
	assert_int_equal(cfg_read(5, 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(31, 0, 2), 0xffff);
	/* Bus 1 and function 1 do not exist. */
	uint32_t a = 0x80000000u | 1 << 16, v;
	vm_iobus_access(&bus, VM_PIO, 0xcf8, &a, 4, 1);
	vm_iobus_access(&bus, VM_PIO, 0xcfc, &v, 4, 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(cfg_read(1, 0, 4) == 0xffffffff, 0);
	uint32_t fn1 = 0x80000000u | 1 << 11 | 1 << 8;
	vm_iobus_access(&bus, VM_PIO, 0xcf8, &fn1, 4, 1);
	vm_iobus_access(&bus, VM_PIO, 0xcfc, &v, 4, 0);
	assert_int_equal(v, 0xffffffff);
	/* Without the enable bit, nothing is addressed. */
	uint32_t off = 1 << 11;
	vm_iobus_access(&bus, VM_PIO, 0xcf8, &off, 4, 1);
	vm_iobus_access(&bus, VM_PIO, 0xcfc, &v, 4, 0);
	assert_int_equal(v, 0xffffffff);
}

static void test_identity_is_read_only(void **state)
{
	(void)state;
	assert_int_equal(dev.slot, 1);
	assert_int_equal(cfg_read(1, 0, 4), 0xabcd1234);
	cfg_write(1, 0, 0xffffffff, 4);
	assert_int_equal(cfg_read(1, 0, 4), 0xabcd1234);
	assert_int_equal(cfg_read(1, 0x08, 4), 0x02000003); /* class, revision */
	/* INTA#, wired to GSI 16 + slot. */
	assert_int_equal(cfg_read(1, PCI_INT_PIN, 1), 1);
	assert_int_equal(cfg_read(1, PCI_INT_LINE, 1), 17);
	cfg_write(1, PCI_INT_LINE, 11, 1); /* the line register is the OS's */
	assert_int_equal(cfg_read(1, PCI_INT_LINE, 1), 11);
}

static void test_capability_list(void **state)
{
	(void)state;
	assert_true(cfg_read(1, PCI_STATUS, 2) & PCI_STATUS_CAPS);
	unsigned first = cfg_read(1, PCI_CAP_PTR, 1), n = 0;
	assert_int_equal(first, 0x40);
	for (unsigned c = first; c && n < 10; c = cfg_read(1, c + 1, 1), n++)
		assert_int_equal(cfg_read(1, c, 1), 0x09);
	assert_int_equal(n, 2);
	cfg_write(1, 0x43, 0xee, 1); /* read-only capability bytes */
	assert_int_equal(cfg_read(1, 0x43, 1), 1);
}

static void test_bar_sizing_and_moves(void **state)
{
	(void)state;
	uint32_t bar = cfg_read(1, PCI_BAR0, 4);
	assert_int_equal(bar, 0xc0000000); /* placed by the bus, like firmware */
	assert_true(cfg_read(1, PCI_COMMAND, 2) & PCI_CMD_MEM);
	assert_int_equal(mmio_read(bar + 0x10), 0x5a5a5a5a);
	assert_int_equal(last_off, 0x10);

	/* Sizing: decoding off, all ones in, ~(size - 1) out. */
	cfg_write(1, PCI_COMMAND, 0, 2);
	assert_int_equal(mmio_read(bar), 0xffffffff); /* off: nobody answers */
	cfg_write(1, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(cfg_read(1, PCI_BAR0, 4), ~(0x4000u - 1));
	/* Move it and turn decoding back on. */
	cfg_write(1, PCI_BAR0, 0xd0000000, 4);
	cfg_write(1, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	unsigned before = hits;
	assert_int_equal(mmio_read(0xd0000000 + 0x3ffc), 0x5a5a5a5a);
	assert_int_equal(hits, before + 1);
	assert_int_equal(mmio_read(bar), 0xffffffff);	     /* the old place is empty */
	assert_int_equal(mmio_read(0xd0004000), 0xffffffff); /* just past the BAR */
	assert_true(bus.unclaimed >= 3);
	/* Unused BARs stay zero. */
	cfg_write(1, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(cfg_read(1, PCI_BAR0 + 4, 4), 0);
}

static void test_registry_refuses_overlaps(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	assert_int_equal(vm_iobus_register(&bus, VM_PIO, 0xcfa, 4, &bar_ops, NULL, "clash", &err),
			 -1);
	assert_non_null(strstr(err.msg, "overlaps pci-cfg"));
	assert_int_equal(vm_iobus_register(&bus, VM_PIO, 0x10, 0, &bar_ops, NULL, "empty", &err),
			 -1);
	assert_int_equal(vm_iobus_register(&bus, VM_MMIO, 0xcf8, 4, &bar_ops, NULL, "mmio", &err),
			 0);
	/* An access straddling a range's end is not the range's. */
	uint32_t v;
	assert_int_equal(vm_iobus_access(&bus, VM_MMIO, 0xcfa, &v, 4, 0), 0);
	assert_int_equal(v, 0xffffffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_host_bridge_and_empty_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity_is_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capability_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_sizing_and_moves, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registry_refuses_overlaps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
