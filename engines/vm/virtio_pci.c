/* engines/vm/virtio_pci.c: the modern virtio PCI transport. */
#include "engines/vm/virtio_pci.h"

#include <stdio.h>
#include <string.h>

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_DEVICE_BASE 0x1040 /* + device type: modern-only devices */
#define PCI_CAP_VENDOR 0x09
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define NO_VECTOR VM_MSIX_NO_VECTOR
#define ISR_QUEUE 1
#define ISR_CONFIG 2

/* struct virtio_pci_cap, and the notify variant with its multiplier. */
static unsigned add_cap(struct vm_virtio *v, uint8_t type, uint32_t off, uint32_t len, int notify)
{
	uint8_t c[20] = {PCI_CAP_VENDOR, 0, notify ? 20 : 16, type, 0 /* BAR0 */};
	memcpy(c + 8, &off, 4);
	memcpy(c + 12, &len, 4);
	uint32_t mult = VM_VIRTIO_NOTIFY_MULT;
	if (notify)
		memcpy(c + 16, &mult, 4);
	return vm_pci_dev_cap(&v->pci, c, NULL, c[2]);
}

static void bar_read(void *dev, uint64_t off, void *data, unsigned len);
static void bar_write(void *dev, uint64_t off, const void *data, unsigned len);

/* The window of the PCI config access capability: bar (byte 4), offset
 * (8), length (12: 1, 2 or 4), data (16).  Only BAR0 exists. */
static int cfg_window(struct vm_virtio *v, uint32_t *off, unsigned *len)
{
	const uint8_t *c = v->pci.cfg + v->cfg_cap;
	memcpy(off, c + 8, 4);
	uint32_t l;
	memcpy(&l, c + 12, 4);
	*len = l;
	return c[4] == 0 && (l == 1 || l == 2 || l == 4) && *off < VM_VIRTIO_BAR_SIZE &&
	       *off + l <= VM_VIRTIO_BAR_SIZE;
}

static void cfg_cap_read(struct vm_pci_dev *d, unsigned off, unsigned len)
{
	struct vm_virtio *v = d->owner;
	unsigned data = v->cfg_cap + 16, blen;
	uint32_t boff, val = 0;
	if (off + len <= data || off >= data + 4 || !cfg_window(v, &boff, &blen))
		return;
	bar_read(v, boff, &val, blen);
	memcpy(v->pci.cfg + data, &val, 4);
}

static void cap_write(struct vm_pci_dev *d, unsigned off, unsigned len)
{
	struct vm_virtio *v = d->owner;
	pthread_mutex_lock(&v->lock);
	vm_msix_cap_written(&v->msix, &v->pci, off, len);
	pthread_mutex_unlock(&v->lock);
	unsigned data = v->cfg_cap + 16, blen;
	uint32_t boff, val;
	if (off + len <= data || off >= data + 4 || !cfg_window(v, &boff, &blen))
		return;
	memcpy(&val, v->pci.cfg + data, 4);
	bar_write(v, boff, &val, blen);
}

void vm_virtio_init(struct vm_virtio *v, const struct vm_virtio_ops *ops, void *dev,
		    uint64_t features, const struct kvm_vm *mem, const struct vm_irq *irq)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	v->ops = ops;
	v->dev = dev;
	v->mem = mem;
	v->irq = irq;
	v->features = features | VIRTIO_F_VERSION_1;
	for (unsigned i = 0; i < VM_VIRTIO_MAXQ; i++)
		vm_virtq_reset(&v->q[i], VM_VIRTQ_MAX);
	vm_pci_dev_init(&v->pci, ops->name, VIRTIO_VENDOR, VIRTIO_DEVICE_BASE + ops->type,
			ops->class_code, 1);
	vm_pci_set16(&v->pci, PCI_SUBSYS_VENDOR, VIRTIO_VENDOR);
	vm_pci_set16(&v->pci, PCI_SUBSYS_ID, ops->type);
	v->pci.owner = v;
	vm_pci_dev_bar(&v->pci, 0, VM_VIRTIO_BAR_SIZE, &vm_virtio_bar_ops, v);
	add_cap(v, CAP_COMMON, VM_VIRTIO_COMMON, VIRTIO_PCI_COMMON_LEN, 0);
	add_cap(v, CAP_NOTIFY, VM_VIRTIO_NOTIFY, VM_VIRTIO_NOTIFY_MULT * ops->nqueues, 1);
	add_cap(v, CAP_ISR, VM_VIRTIO_ISR, 1, 0);
	if (ops->cfg_len)
		add_cap(v, CAP_DEVICE, VM_VIRTIO_DEVCFG, ops->cfg_len, 0);
	uint8_t cfg[20] = {PCI_CAP_VENDOR, 0, 20, CAP_PCI_CFG}, wmask[20] = {0};
	wmask[4] = 0xff;	     /* bar */
	memset(wmask + 8, 0xff, 12); /* offset, length, data */
	v->cfg_cap = vm_pci_dev_cap(&v->pci, cfg, wmask, sizeof(cfg));
	v->pci.cap_read = cfg_cap_read;
	v->pci.cap_write = cap_write;
	vm_msix_init(&v->msix, &v->pci, 0, VM_VIRTIO_MSIX_TABLE, VM_VIRTIO_MSIX_PBA,
		     ops->nqueues + 1, irq);
	v->msix_config = NO_VECTOR;
	for (unsigned i = 0; i < VM_VIRTIO_MAXQ; i++)
		v->qvec[i] = NO_VECTOR;
}

void vm_virtio_destroy(struct vm_virtio *v)
{
	pthread_mutex_destroy(&v->lock);
}

/* The INTx line follows the ISR, unless the driver masked INTx or uses
 * MSI-X. */
static void update_irq(struct vm_virtio *v)
{
	int masked = (vm_pci_get16(&v->pci, PCI_COMMAND) & PCI_CMD_INTX_OFF) ||
		     vm_msix_enabled(&v->msix, &v->pci);
	int level = v->isr && !masked;
	uint16_t st = vm_pci_get16(&v->pci, PCI_STATUS) & ~PCI_STATUS_INTX;
	vm_pci_set16(&v->pci, PCI_STATUS, st | (v->isr ? PCI_STATUS_INTX : 0));
	if (level != v->level) {
		v->level = level;
		vm_irq_line(v->irq, v->pci.gsi, level);
	}
}

static void reset(struct vm_virtio *v)
{
	if (v->ops->reset)
		v->ops->reset(v);
	for (unsigned i = 0; i < VM_VIRTIO_MAXQ; i++)
		vm_virtq_reset(&v->q[i], VM_VIRTQ_MAX);
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->status = 0;
	v->isr = 0;
	v->qsel = 0;
	v->broken[0] = '\0';
	v->msix_config = NO_VECTOR;
	for (unsigned i = 0; i < VM_VIRTIO_MAXQ; i++)
		v->qvec[i] = NO_VECTOR;
	update_irq(v);
}

/* An event for the driver: its MSI-X vector, else the ISR bit and INTx. */
static void notify_driver(struct vm_virtio *v, uint8_t isr_bit, uint16_t vector)
{
	if (vm_msix_enabled(&v->msix, &v->pci)) {
		vm_msix_notify(&v->msix, &v->pci, vector);
		return;
	}
	v->isr |= isr_bit;
	update_irq(v);
}

void vm_virtio_fail(struct vm_virtio *v, const char *why)
{
	if (v->status & VIRTIO_S_NEEDS_RESET)
		return;
	snprintf(v->broken, sizeof(v->broken), "%s", why);
	v->status |= VIRTIO_S_NEEDS_RESET;
	notify_driver(v, ISR_CONFIG, v->msix_config);
	if (v->report)
		v->report(v->report_ctx, v->ops->name, why);
}

int vm_virtio_queue_live(const struct vm_virtio *v, unsigned q)
{
	return q < v->ops->nqueues && (v->status & VIRTIO_S_DRIVER_OK) &&
	       !(v->status & VIRTIO_S_NEEDS_RESET) && v->q[q].enabled;
}

int vm_virtio_pop(struct vm_virtio *v, unsigned q, struct vm_virtq_elem *e)
{
	if (!vm_virtio_queue_live(v, q))
		return 0;
	struct vlab_err err = {0};
	int r = vm_virtq_pop(&v->q[q], v->mem, e, &err);
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "queue %u: %s", q, err.msg);
		vm_virtio_fail(v, why);
	}
	return r;
}

void vm_virtio_push(struct vm_virtio *v, unsigned q, uint16_t head, uint32_t len)
{
	vm_virtq_push(&v->q[q], head, len);
	if (vm_virtq_should_notify(&v->q[q]))
		notify_driver(v, ISR_QUEUE, v->qvec[q]);
}

static struct vm_virtq *selected(struct vm_virtio *v)
{
	return v->qsel < v->ops->nqueues ? &v->q[v->qsel] : NULL;
}

/* The common configuration as the driver reads it. */
static void common_image(struct vm_virtio *v, uint8_t *c)
{
	memset(c, 0, VIRTIO_PCI_COMMON_LEN);
	uint32_t df = v->dfselect == 0	 ? (uint32_t)v->features
		      : v->dfselect == 1 ? (uint32_t)(v->features >> 32)
					 : 0;
	uint32_t gf = v->gfselect == 0	 ? (uint32_t)v->driver_features
		      : v->gfselect == 1 ? (uint32_t)(v->driver_features >> 32)
					 : 0;
	uint16_t nq = (uint16_t)v->ops->nqueues;
	memcpy(c + VIRTIO_PCI_DFSELECT, &v->dfselect, 4);
	memcpy(c + VIRTIO_PCI_DF, &df, 4);
	memcpy(c + VIRTIO_PCI_GFSELECT, &v->gfselect, 4);
	memcpy(c + VIRTIO_PCI_GF, &gf, 4);
	memcpy(c + VIRTIO_PCI_MSIX_CONFIG, &v->msix_config, 2);
	memcpy(c + VIRTIO_PCI_NUM_QUEUES, &nq, 2);
	c[VIRTIO_PCI_STATUS] = v->status;
	c[VIRTIO_PCI_CFG_GENERATION] = v->generation;
	memcpy(c + VIRTIO_PCI_Q_SELECT, &v->qsel, 2);
	const struct vm_virtq *q = selected(v);
	if (!q)
		return; /* a queue that does not exist has size 0 */
	uint16_t en = (uint16_t)q->enabled, noff = v->qsel;
	memcpy(c + VIRTIO_PCI_Q_SIZE, &q->size, 2);
	memcpy(c + VIRTIO_PCI_Q_MSIX, &v->qvec[v->qsel], 2);
	memcpy(c + VIRTIO_PCI_Q_ENABLE, &en, 2);
	memcpy(c + VIRTIO_PCI_Q_NOFF, &noff, 2);
	memcpy(c + VIRTIO_PCI_Q_DESC, &q->desc_gpa, 8);
	memcpy(c + VIRTIO_PCI_Q_AVAIL, &q->avail_gpa, 8);
	memcpy(c + VIRTIO_PCI_Q_USED, &q->used_gpa, 8);
}

static void set_status(struct vm_virtio *v, uint8_t val)
{
	if (val == 0) {
		reset(v);
		return;
	}
	if ((val & VIRTIO_S_FEATURES_OK) && !(v->status & VIRTIO_S_FEATURES_OK) &&
	    ((v->driver_features & ~v->features) || !(v->driver_features & VIRTIO_F_VERSION_1)))
		val &= (uint8_t)~VIRTIO_S_FEATURES_OK; /* refused: the driver reads it back */
	v->status = (uint8_t)((val & ~VIRTIO_S_NEEDS_RESET) | (v->status & VIRTIO_S_NEEDS_RESET));
}

/* A write to a queue register: only before the queue is enabled and the
 * driver is OK.  Returns 0 when refused. */
static int queue_writable(struct vm_virtio *v)
{
	const struct vm_virtq *q = selected(v);
	return q && !q->enabled && !(v->status & VIRTIO_S_DRIVER_OK);
}

static void set_half(uint64_t *field, unsigned off, uint32_t val)
{
	if (off & 4)
		*field = (*field & 0xffffffffull) | (uint64_t)val << 32;
	else
		*field = (*field & ~0xffffffffull) | val;
}

static void common_write(struct vm_virtio *v, unsigned off, uint64_t val, unsigned len)
{
	struct vm_virtq *q = selected(v);
	int ok = 1;
	switch (off) {
	case VIRTIO_PCI_DFSELECT:
		v->dfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_GFSELECT:
		v->gfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_GF:
		if (v->status & VIRTIO_S_FEATURES_OK || v->gfselect > 1)
			ok = 0;
		else
			set_half(&v->driver_features, v->gfselect * 4, (uint32_t)val);
		break;
	case VIRTIO_PCI_MSIX_CONFIG:
		/* A vector past the table reads back NO_VECTOR: the driver
		 * learns it was refused. */
		v->msix_config = val < v->msix.n ? (uint16_t)val : NO_VECTOR;
		break;
	case VIRTIO_PCI_Q_MSIX:
		if ((ok = q != NULL))
			v->qvec[v->qsel] = val < v->msix.n ? (uint16_t)val : NO_VECTOR;
		break;
	case VIRTIO_PCI_STATUS:
		set_status(v, (uint8_t)val);
		break;
	case VIRTIO_PCI_Q_SELECT:
		v->qsel = (uint16_t)val;
		break;
	case VIRTIO_PCI_Q_SIZE:
		if ((ok = queue_writable(v)))
			q->size = (uint16_t)val; /* checked when enabled */
		break;
	case VIRTIO_PCI_Q_ENABLE:
		if ((ok = queue_writable(v) && val == 1)) {
			struct vlab_err err = {0};
			if (vm_virtq_enable(q, v->mem, &err) < 0) {
				char why[160];
				snprintf(why, sizeof(why), "queue %u: %s", v->qsel, err.msg);
				vm_virtio_fail(v, why);
			}
		}
		break;
	case VIRTIO_PCI_Q_DESC:
	case VIRTIO_PCI_Q_DESC + 4:
	case VIRTIO_PCI_Q_AVAIL:
	case VIRTIO_PCI_Q_AVAIL + 4:
	case VIRTIO_PCI_Q_USED:
	case VIRTIO_PCI_Q_USED + 4:
		if (!(ok = queue_writable(v)))
			break;
		uint64_t *f = off < VIRTIO_PCI_Q_AVAIL	? &q->desc_gpa
			      : off < VIRTIO_PCI_Q_USED ? &q->avail_gpa
							: &q->used_gpa;
		if (len == 8)
			*f = val;
		else
			set_half(f, off, (uint32_t)val);
		break;
	default:
		ok = 0; /* read-only, or not a register boundary */
	}
	if (!ok)
		v->ignored_writes++;
}

static void bar_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vm_virtio *v = dev;
	memset(data, 0, len);
	pthread_mutex_lock(&v->lock);
	if (vm_msix_read(&v->msix, off, data, len)) {
		/* the MSI-X table or pending bits */
	} else if (off + len <= VIRTIO_PCI_COMMON_LEN) {
		uint8_t c[VIRTIO_PCI_COMMON_LEN];
		common_image(v, c);
		memcpy(data, c + off, len);
	} else if (off == VM_VIRTIO_ISR) {
		*(uint8_t *)data = v->isr; /* reading acknowledges */
		v->isr = 0;
		update_irq(v);
	} else if (off >= VM_VIRTIO_DEVCFG && off + len <= VM_VIRTIO_DEVCFG + v->ops->cfg_len) {
		if (v->ops->cfg_read)
			v->ops->cfg_read(v, (unsigned)(off - VM_VIRTIO_DEVCFG), data, len);
	}
	pthread_mutex_unlock(&v->lock);
}

static void bar_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_virtio *v = dev;
	uint64_t val = 0;
	memcpy(&val, data, len);
	pthread_mutex_lock(&v->lock);
	if (vm_msix_write(&v->msix, &v->pci, off, data, len)) {
		/* the MSI-X table */
	} else if (off + len <= VIRTIO_PCI_COMMON_LEN) {
		common_write(v, (unsigned)off, val, len);
	} else if (off >= VM_VIRTIO_NOTIFY &&
		   off < VM_VIRTIO_NOTIFY + VM_VIRTIO_NOTIFY_MULT * v->ops->nqueues) {
		unsigned q = (unsigned)(off - VM_VIRTIO_NOTIFY) / VM_VIRTIO_NOTIFY_MULT;
		if (vm_virtio_queue_live(v, q) && v->ops->notify)
			v->ops->notify(v, q);
	} else if (off >= VM_VIRTIO_DEVCFG && off + len <= VM_VIRTIO_DEVCFG + v->ops->cfg_len &&
		   v->ops->cfg_write) {
		v->ops->cfg_write(v, (unsigned)(off - VM_VIRTIO_DEVCFG), data, len);
	} else {
		v->ignored_writes++;
	}
	pthread_mutex_unlock(&v->lock);
}

const struct vm_io_ops vm_virtio_bar_ops = {.read = bar_read, .write = bar_write};
