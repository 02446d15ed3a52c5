/* engines/vm/pci.c: configuration mechanism #1, BAR placement and moves. */
#include "engines/vm/pci.h"

#include <errno.h>
#include <string.h>

/* The host bridge looks like the i440FX of QEMU's "pc" machine, so lspci
 * reads the same under both backends. */
#define HOST_VENDOR 0x8086
#define HOST_DEVICE 0x1237
#define CLASS_HOST_BRIDGE 0x060000

void vm_pci_dev_init(struct vm_pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	vm_pci_set16(d, PCI_VENDOR, vendor);
	vm_pci_set16(d, PCI_DEVICE, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	vm_pci_set16(d, PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
	d->cap_end = 0x40;
	/* What the guest may write in the header: command (I/O, memory, bus
	 * master, INTx disable), cache line, latency timer, interrupt line.
	 * BARs are handled apart. */
	d->wmask[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_CMD_INTX_OFF >> 8;
	d->wmask[0x0c] = d->wmask[0x0d] = 0xff;
	d->wmask[PCI_INT_LINE] = 0xff;
}

void vm_pci_dev_bar(struct vm_pci_dev *d, unsigned i, uint32_t size, const struct vm_io_ops *ops,
		    void *dev)
{
	d->bar[i] = (struct vm_pci_bar){.size = size, .ops = ops, .dev = dev, .name = d->name};
}

unsigned vm_pci_dev_cap(struct vm_pci_dev *d, const void *body, const void *wmask, unsigned len)
{
	unsigned off = (d->cap_end + 3u) & ~3u;
	if (len < 2 || off + len > sizeof(d->cfg))
		return 0;
	memcpy(d->cfg + off, body, len);
	if (wmask)
		memcpy(d->wmask + off, wmask, len);
	d->cfg[off + 1] = 0;
	d->wmask[off] = d->wmask[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (uint8_t)off;
	else
		d->cfg[PCI_CAP_PTR] = (uint8_t)off;
	vm_pci_set16(d, PCI_STATUS, vm_pci_get16(d, PCI_STATUS) | PCI_STATUS_CAPS);
	d->cap_last = (uint8_t)off;
	d->cap_end = (uint8_t)(off + len);
	return off;
}

/* Registers each BAR where the guest put it while memory decoding is on,
 * and only then (bus lock held). */
static void remap(struct vm_pci *pci, struct vm_pci_dev *d)
{
	int on = vm_pci_get16(d, PCI_COMMAND) & PCI_CMD_MEM;
	for (unsigned i = 0; i < VM_PCI_BARS; i++) {
		struct vm_pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		uint64_t addr = vm_pci_get32(d, PCI_BAR0 + 4 * i) & ~0xfull;
		uint64_t want = on ? addr : 0;
		if (want == b->mapped)
			continue;
		if (b->mapped)
			vm_iobus_unregister(pci->bus, VM_MMIO, b->mapped, b->dev);
		b->mapped = 0;
		/* A BAR placed over another device's stays off until moved. */
		if (want && vm_iobus_register(pci->bus, VM_MMIO, want, b->size, b->ops, b->dev,
					      b->name, NULL) == 0)
			b->mapped = want;
	}
}

static struct vm_pci_dev *lookup(struct vm_pci *pci, unsigned bdf)
{
	unsigned bus = bdf >> 8, slot = (bdf >> 3) & 0x1f, fn = bdf & 7;
	if (bus != 0 || fn != 0 || slot >= VM_PCI_SLOTS)
		return NULL;
	return pci->slot[slot];
}

uint32_t vm_pci_cfg_read(struct vm_pci *pci, unsigned bdf, unsigned off, unsigned len)
{
	uint32_t v = 0xffffffffu >> (32 - 8 * len);
	pthread_mutex_lock(&pci->lock);
	struct vm_pci_dev *d = lookup(pci, bdf);
	if (d && off < 256 && len <= 256 - off) {
		if (off + len > 0x40 && d->cap_read)
			d->cap_read(d, off, len);
		v = 0;
		for (unsigned i = 0; i < len; i++)
			v |= (uint32_t)d->cfg[off + i] << (8 * i);
	}
	pthread_mutex_unlock(&pci->lock);
	return v;
}

void vm_pci_cfg_write(struct vm_pci *pci, unsigned bdf, unsigned off, uint32_t val, unsigned len)
{
	pthread_mutex_lock(&pci->lock);
	struct vm_pci_dev *d = lookup(pci, bdf);
	if (!d || off >= 256 || len > 256 - off)
		goto out;
	int bars = 0, caps = 0;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * VM_PCI_BARS) {
			if (d->bar[(o - PCI_BAR0) / 4].size) {
				d->cfg[o] = b;
				bars = 1;
			}
			continue;
		}
		d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (b & d->wmask[o]));
		caps |= o >= 0x40;
	}
	/* A BAR keeps only the address bits its size allows (sizing: write
	 * all ones, read back ~(size - 1)); memory, 32-bit, not prefetchable. */
	for (unsigned i = 0; bars && i < VM_PCI_BARS; i++)
		if (d->bar[i].size)
			vm_pci_set32(d, PCI_BAR0 + 4 * i,
				     vm_pci_get32(d, PCI_BAR0 + 4 * i) & ~(d->bar[i].size - 1));
	if (d != &pci->host)
		remap(pci, d);
	if (caps && d->cap_write)
		d->cap_write(d, off, len);
out:
	pthread_mutex_unlock(&pci->lock);
}

static void addr_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vm_pci *pci = dev;
	pthread_mutex_lock(&pci->lock);
	uint32_t v = pci->addr >> (8 * off);
	pthread_mutex_unlock(&pci->lock);
	memcpy(data, &v, len);
}

static void addr_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_pci *pci = dev;
	/* Only a full dword at 0xcf8 is a configuration address. */
	if (off != 0 || len != 4)
		return;
	pthread_mutex_lock(&pci->lock);
	memcpy(&pci->addr, data, 4);
	pthread_mutex_unlock(&pci->lock);
}

/* The current CONFIG_ADDRESS as bdf and register, or -1 when disabled. */
static int target(struct vm_pci *pci, unsigned *bdf, unsigned *reg)
{
	pthread_mutex_lock(&pci->lock);
	uint32_t a = pci->addr;
	pthread_mutex_unlock(&pci->lock);
	if (!(a & 0x80000000u))
		return -1;
	*bdf = (a >> 8) & 0xffff;
	*reg = a & 0xfc;
	return 0;
}

static void data_read(void *dev, uint64_t off, void *data, unsigned len)
{
	unsigned bdf, reg;
	uint32_t v = 0xffffffffu;
	if (target(dev, &bdf, &reg) == 0)
		v = vm_pci_cfg_read(dev, bdf, reg + (unsigned)off, len);
	memcpy(data, &v, len);
}

static void data_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	unsigned bdf, reg;
	uint32_t v = 0;
	memcpy(&v, data, len);
	if (target(dev, &bdf, &reg) == 0)
		vm_pci_cfg_write(dev, bdf, reg + (unsigned)off, v, len);
}

static const struct vm_io_ops addr_ops = {.read = addr_read, .write = addr_write};
static const struct vm_io_ops data_ops = {.read = data_read, .write = data_write};

int vm_pci_init(struct vm_pci *pci, struct vm_iobus *bus, uint64_t mmio_base, uint64_t mmio_size,
		struct vlab_err *err)
{
	memset(pci, 0, sizeof(*pci));
	pthread_mutex_init(&pci->lock, NULL);
	pci->bus = bus;
	pci->mmio_next = mmio_base;
	pci->mmio_end = mmio_base + mmio_size;
	vm_pci_dev_init(&pci->host, "pci-host", HOST_VENDOR, HOST_DEVICE, CLASS_HOST_BRIDGE, 2);
	vm_pci_set16(&pci->host, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_IO);
	pci->slot[0] = &pci->host;
	if (vm_iobus_register(bus, VM_PIO, VM_PCI_CONFIG_ADDR, 4, &addr_ops, pci, "pci-cfg", err) <
		0 ||
	    vm_iobus_register(bus, VM_PIO, VM_PCI_CONFIG_DATA, 4, &data_ops, pci, "pci-cfg", err) <
		0)
		return -1;
	return 0;
}

void vm_pci_destroy(struct vm_pci *pci)
{
	pthread_mutex_destroy(&pci->lock);
}

int vm_pci_plug(struct vm_pci *pci, struct vm_pci_dev *d, struct vlab_err *err)
{
	int rc = -1;
	pthread_mutex_lock(&pci->lock);
	unsigned s = 1;
	while (s < VM_PCI_SLOTS && pci->slot[s])
		s++;
	if (s == VM_PCI_SLOTS) {
		vlab_err_set(err, ENOSPC, "PCI: no free slot for %s", d->name);
		goto out;
	}
	for (unsigned i = 0; i < VM_PCI_BARS; i++) {
		uint32_t size = d->bar[i].size;
		if (!size)
			continue;
		uint64_t at = (pci->mmio_next + size - 1) & ~(uint64_t)(size - 1);
		if (at + size > pci->mmio_end) {
			vlab_err_set(err, ENOSPC, "PCI: MMIO window full placing %s BAR%u", d->name,
				     i);
			goto out;
		}
		vm_pci_set32(d, PCI_BAR0 + 4 * i, (uint32_t)at);
		pci->mmio_next = at + size;
	}
	d->slot = s;
	d->gsi = VM_PCI_GSI_BASE + s;
	d->cfg[PCI_INT_LINE] = (uint8_t)d->gsi;
	d->cfg[PCI_INT_PIN] = 1; /* INTA# */
	vm_pci_set16(d, PCI_COMMAND, PCI_CMD_MEM);
	pci->slot[s] = d;
	remap(pci, d);
	for (unsigned i = 0; i < VM_PCI_BARS; i++)
		if (d->bar[i].size && !d->bar[i].mapped) {
			vlab_err_set(err, EBUSY, "PCI: %s BAR%u overlaps another device", d->name,
				     i);
			goto out;
		}
	rc = 0;
out:
	pthread_mutex_unlock(&pci->lock);
	return rc;
}
