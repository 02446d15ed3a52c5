/* engines/vm/pci.h: the PCI bus: a host bridge at 00:00.0 decoding
 * configuration mechanism #1 (address at port 0xcf8, data at 0xcfc-0xcff),
 * and the devices plugged into it, one per slot.
 *
 * Like firmware would, the bus gives each device's BARs an address in the
 * MMIO window and turns decoding on; the guest may move them later, and
 * the bus then moves the ranges in the I/O registry.  Each slot's INTA#
 * is wired to its own IOAPIC input, GSI 16 + slot (the guest learns this
 * from the ACPI _PRT; the Interrupt Line register says it too). */
#ifndef VLAB_ENGINES_VM_PCI_H
#define VLAB_ENGINES_VM_PCI_H

#include <pthread.h>
#include <stdint.h>

#include "engines/vm/iobus.h"

#define VM_PCI_CONFIG_ADDR 0xcf8
#define VM_PCI_CONFIG_DATA 0xcfc
#define VM_PCI_SLOTS 8 /* slot 0 is the host bridge */
#define VM_PCI_GSI_BASE 16
#define VM_PCI_BARS 6

/* Standard configuration header offsets. */
#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_CMD_IO 0x1
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CMD_INTX_OFF 0x400
#define PCI_STATUS_CAPS 0x10
#define PCI_STATUS_INTX 0x08

struct vm_pci;

struct vm_pci_bar {
	uint32_t size; /* power of two; 0: unused */
	const struct vm_io_ops *ops;
	void *dev;
	const char *name;
	uint64_t mapped; /* address registered in the I/O registry, 0: none */
};

struct vm_pci_dev {
	uint8_t cfg[256];   /* little endian, as the guest sees it */
	uint8_t wmask[256]; /* bits the guest may change */
	struct vm_pci_bar bar[VM_PCI_BARS];
	uint8_t cap_end;  /* next free byte for capabilities */
	uint8_t cap_last; /* offset of the last capability, 0: none */
	unsigned slot, gsi;
	const char *name;
	/* Optional: the device sees writes to its capabilities (off >= 0x40)
	 * after they are stored in cfg.  Called with the bus lock held. */
	void (*cap_write)(struct vm_pci_dev *d, unsigned off, unsigned len);
	/* Optional: the device may refresh cfg bytes of its capabilities
	 * before the guest reads [off, off+len).  Bus lock held. */
	void (*cap_read)(struct vm_pci_dev *d, unsigned off, unsigned len);
	void *owner;
};

struct vm_pci {
	pthread_mutex_t lock;
	uint32_t addr; /* CONFIG_ADDRESS */
	struct vm_pci_dev host;
	struct vm_pci_dev *slot[VM_PCI_SLOTS];
	struct vm_iobus *bus;
	uint64_t mmio_next, mmio_end; /* where BARs go */
};

/* An empty bus (the host bridge in slot 0) whose BARs are placed in
 * [mmio_base, mmio_base + mmio_size).  Registers ports 0xcf8-0xcff. */
int vm_pci_init(struct vm_pci *pci, struct vm_iobus *bus, uint64_t mmio_base, uint64_t mmio_size,
		struct vlab_err *err);
void vm_pci_destroy(struct vm_pci *pci);

/* Fills a device's identity (header type 0, INTA#). */
void vm_pci_dev_init(struct vm_pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);
/* Declares memory BAR i of size bytes (a power of two >= 16) with its
 * handlers; registered once the device is plugged in. */
void vm_pci_dev_bar(struct vm_pci_dev *d, unsigned i, uint32_t size, const struct vm_io_ops *ops,
		    void *dev);
/* Appends a capability (body[0] is its ID, body[1] is filled in as the
 * next pointer); wmask (NULL: read-only) says which bits of it the guest
 * may write.  Returns its offset in configuration space, 0 when full. */
unsigned vm_pci_dev_cap(struct vm_pci_dev *d, const void *body, const void *wmask, unsigned len);

/* Plugs d into the first free slot: sets its interrupt line, places and
 * maps its BARs, enables decoding. */
int vm_pci_plug(struct vm_pci *pci, struct vm_pci_dev *d, struct vlab_err *err);

/* Configuration space access, as mechanism #1 gives it (also used by the
 * unit tests): bdf is bus << 8 | slot << 3 | function. */
uint32_t vm_pci_cfg_read(struct vm_pci *pci, unsigned bdf, unsigned off, unsigned len);
void vm_pci_cfg_write(struct vm_pci *pci, unsigned bdf, unsigned off, uint32_t val, unsigned len);

static inline uint16_t vm_pci_get16(const struct vm_pci_dev *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static inline uint32_t vm_pci_get32(const struct vm_pci_dev *d, unsigned off)
{
	return (uint32_t)vm_pci_get16(d, off) | (uint32_t)vm_pci_get16(d, off + 2) << 16;
}

static inline void vm_pci_set16(struct vm_pci_dev *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void vm_pci_set32(struct vm_pci_dev *d, unsigned off, uint32_t v)
{
	vm_pci_set16(d, off, (uint16_t)v);
	vm_pci_set16(d, off + 2, (uint16_t)(v >> 16));
}

#endif
