/* tests/unit/engines/vm/vdriver.h: a virtio driver for the unit tests.
 *
 * Fake guest memory is a plain buffer registered as the one RAM slot of a
 * struct kvm_vm (kvm_gpa only reads the slot table), so the device models
 * see real rings at real guest-physical addresses.  The driver speaks to
 * a device only through its BAR handlers, as a guest's MMIO would, and
 * an interrupt recorder stands in for KVM's irqchip. */
#ifndef VLAB_TESTS_VDRIVER_H
#define VLAB_TESTS_VDRIVER_H

#include <stdlib.h>
#include <string.h>

#include "engines/vm/virtio_pci.h"

#define VD_RAM (1u << 20)
#define VD_DESC 0x10000u  /* descriptor table of queue q: + q * 0x1000 */
#define VD_AVAIL 0x20000u /* available ring of queue q */
#define VD_USED 0x30000u  /* used ring of queue q */
#define VD_BUF 0x40000u	  /* data buffers */

static struct kvm_vm vd_mem;
static uint8_t *vd_ram;
static int vd_level[32];
static unsigned vd_raises;

static void vd_line(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	if (gsi < 32) {
		vd_raises += level && !vd_level[gsi];
		vd_level[gsi] = level;
	}
}

static unsigned vd_msis;
static uint64_t vd_msi_addr;
static uint32_t vd_msi_data;

static void vd_msi(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	vd_msis++;
	vd_msi_addr = addr;
	vd_msi_data = data;
}

static const struct vm_irq vd_irq = {.line = vd_line, .msi = vd_msi};

static void vd_setup_mem(void)
{
	vd_ram = aligned_alloc(4096, VD_RAM);
	memset(vd_ram, 0, VD_RAM);
	memset(&vd_mem, 0, sizeof(vd_mem));
	vd_mem.nslots = 1;
	vd_mem.slots[0] = (struct kvm_slot){.gpa = 0, .size = VD_RAM, .hva = vd_ram};
	memset(vd_level, 0, sizeof(vd_level));
	vd_raises = 0;
	vd_msis = 0;
}

static void vd_free_mem(void)
{
	free(vd_ram);
	vd_ram = NULL;
}

static void vd_w(struct vm_virtio *v, uint64_t off, uint64_t val, unsigned len)
{
	vm_virtio_bar_ops.write(v, off, &val, len);
}

static uint64_t vd_r(struct vm_virtio *v, uint64_t off, unsigned len)
{
	uint64_t val = 0;
	vm_virtio_bar_ops.read(v, off, &val, len);
	return val;
}

static uint8_t vd_status(struct vm_virtio *v)
{
	return (uint8_t)vd_r(v, VIRTIO_PCI_STATUS, 1);
}

/* Reset, acknowledge, accept VERSION_1 plus features_lo; returns the
 * status read back after FEATURES_OK. */
static uint8_t vd_negotiate(struct vm_virtio *v, uint32_t features_lo, uint32_t features_hi)
{
	vd_w(v, VIRTIO_PCI_STATUS, 0, 1);
	vd_w(v, VIRTIO_PCI_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER, 1);
	vd_w(v, VIRTIO_PCI_GFSELECT, 0, 4);
	vd_w(v, VIRTIO_PCI_GF, features_lo, 4);
	vd_w(v, VIRTIO_PCI_GFSELECT, 1, 4);
	vd_w(v, VIRTIO_PCI_GF, features_hi, 4);
	vd_w(v, VIRTIO_PCI_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK,
	     1);
	return vd_status(v);
}

/* Sets up queue q with size entries at the VD_* addresses and enables it. */
static void vd_queue(struct vm_virtio *v, unsigned q, uint16_t size)
{
	/* A driver starts with empty rings. */
	memset(vd_ram + VD_DESC + q * 0x1000, 0, 0x1000);
	memset(vd_ram + VD_AVAIL + q * 0x1000, 0, 0x1000);
	memset(vd_ram + VD_USED + q * 0x1000, 0, 0x1000);
	vd_w(v, VIRTIO_PCI_Q_SELECT, q, 2);
	vd_w(v, VIRTIO_PCI_Q_SIZE, size, 2);
	vd_w(v, VIRTIO_PCI_Q_DESC, VD_DESC + q * 0x1000, 4);
	vd_w(v, VIRTIO_PCI_Q_DESC + 4, 0, 4);
	vd_w(v, VIRTIO_PCI_Q_AVAIL, VD_AVAIL + q * 0x1000, 4);
	vd_w(v, VIRTIO_PCI_Q_AVAIL + 4, 0, 4);
	vd_w(v, VIRTIO_PCI_Q_USED, VD_USED + q * 0x1000, 4);
	vd_w(v, VIRTIO_PCI_Q_USED + 4, 0, 4);
	vd_w(v, VIRTIO_PCI_Q_ENABLE, 1, 2);
}

static void vd_driver_ok(struct vm_virtio *v)
{
	vd_w(v, VIRTIO_PCI_STATUS,
	     VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK, 1);
}

/* Negotiates, sets up nq queues of size entries, driver OK. */
static void vd_start(struct vm_virtio *v, unsigned nq, uint16_t size)
{
	vd_negotiate(v, 0, 1);
	for (unsigned q = 0; q < nq; q++)
		vd_queue(v, q, size);
	vd_driver_ok(v);
}

static struct vring_desc *vd_desc(unsigned q, unsigned i)
{
	return (struct vring_desc *)(vd_ram + VD_DESC + q * 0x1000) + i;
}

static struct vring_avail *vd_avail(unsigned q)
{
	return (struct vring_avail *)(vd_ram + VD_AVAIL + q * 0x1000);
}

static struct vring_used *vd_used(unsigned q)
{
	return (struct vring_used *)(vd_ram + VD_USED + q * 0x1000);
}

static void vd_set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next)
{
	*vd_desc(q, i) =
	    (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

/* Makes chain head available (ring slot = avail idx) and notifies. */
static void vd_kick(struct vm_virtio *v, unsigned q, uint16_t head, uint16_t size)
{
	struct vring_avail *a = vd_avail(q);
	a->ring[a->idx % size] = head;
	a->idx++;
	vd_w(v, VM_VIRTIO_NOTIFY + VM_VIRTIO_NOTIFY_MULT * q, q, 2);
}

#endif
