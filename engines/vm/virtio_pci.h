/* engines/vm/virtio_pci.h: the virtio PCI transport, modern layout
 * (virtio 1.x, section 4.1): a PCI function whose vendor capabilities
 * point into one memory BAR:
 *
 *   BAR0 + 0x0000  common configuration (features, status, queues)
 *   BAR0 + 0x1000  ISR status (read to acknowledge; drives INTx)
 *   BAR0 + 0x2000  device-specific configuration
 *   BAR0 + 0x3000  notifications: queue q at 0x3000 + 4 * q
 *   BAR0 + 0x4000  MSI-X table (one vector per queue and one for
 *                  configuration changes), pending bits at 0x5000
 *
 * and a PCI configuration access capability, the window through which a
 * driver that cannot map BARs yet reaches them (pick bar, offset and
 * length in the capability, then read or write its data bytes).
 *
 * The device models (virtio_blk.c, virtio_net.c, virtio_rng.c) fill in a
 * struct vm_virtio_ops; the transport does feature negotiation, the status
 * state machine, queue setup, and interrupts: MSI-X when the driver
 * enables it, else INTx (level-triggered, acknowledged by reading the ISR).
 * Rules a malicious driver cannot bend: features it accepts must have been
 * offered, queue registers are frozen once the queue is enabled or the
 * driver is OK, and a malformed queue puts the device in DEVICE_NEEDS_RESET
 * (and its queues out of service) until the driver resets it. */
#ifndef VLAB_ENGINES_VM_VIRTIO_PCI_H
#define VLAB_ENGINES_VM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdint.h>

#include "engines/kvm/kvm.h"
#include "engines/vm/irq.h"
#include "engines/vm/msix.h"
#include "engines/vm/pci.h"
#include "engines/vm/virtq.h"

#define VM_VIRTIO_MAXQ 4
#define VM_VIRTIO_BAR_SIZE 0x8000
#define VM_VIRTIO_COMMON 0x0000
#define VM_VIRTIO_ISR 0x1000
#define VM_VIRTIO_DEVCFG 0x2000
#define VM_VIRTIO_NOTIFY 0x3000
#define VM_VIRTIO_NOTIFY_MULT 4
#define VM_VIRTIO_MSIX_TABLE 0x4000
#define VM_VIRTIO_MSIX_PBA 0x5000

/* Device status bits. */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 64
#define VIRTIO_S_FAILED 128

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Common configuration layout (struct virtio_pci_common_cfg). */
#define VIRTIO_PCI_DFSELECT 0x00
#define VIRTIO_PCI_DF 0x04
#define VIRTIO_PCI_GFSELECT 0x08
#define VIRTIO_PCI_GF 0x0c
#define VIRTIO_PCI_MSIX_CONFIG 0x10
#define VIRTIO_PCI_NUM_QUEUES 0x12
#define VIRTIO_PCI_STATUS 0x14
#define VIRTIO_PCI_CFG_GENERATION 0x15
#define VIRTIO_PCI_Q_SELECT 0x16
#define VIRTIO_PCI_Q_SIZE 0x18
#define VIRTIO_PCI_Q_MSIX 0x1a
#define VIRTIO_PCI_Q_ENABLE 0x1c
#define VIRTIO_PCI_Q_NOFF 0x1e
#define VIRTIO_PCI_Q_DESC 0x20
#define VIRTIO_PCI_Q_AVAIL 0x28
#define VIRTIO_PCI_Q_USED 0x30
#define VIRTIO_PCI_COMMON_LEN 0x38

struct vm_virtio;

struct vm_virtio_ops {
	const char *name; /* "virtio-blk": also the counter dev.<name> */
	uint16_t type;	  /* virtio device ID: 1 net, 2 block, 4 entropy */
	uint32_t class_code;
	unsigned nqueues;
	unsigned cfg_len; /* bytes of device-specific configuration */
	/* All called with the device lock held. */
	void (*cfg_read)(struct vm_virtio *v, unsigned off, void *data, unsigned len);
	void (*cfg_write)(struct vm_virtio *v, unsigned off, const void *data, unsigned len);
	/* The driver notified queue q (enabled, driver OK, not broken). */
	void (*notify)(struct vm_virtio *v, unsigned q);
	/* The driver reset the device: forget per-request state. */
	void (*reset)(struct vm_virtio *v);
};

struct vm_virtio {
	pthread_mutex_t lock;
	struct vm_pci_dev pci;
	const struct vm_virtio_ops *ops;
	void *dev; /* the device model */
	const struct kvm_vm *mem;
	const struct vm_irq *irq;
	uint64_t features; /* offered, VERSION_1 included */
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, generation, isr;
	int level; /* INTx line */
	uint16_t qsel;
	struct vm_virtq q[VM_VIRTIO_MAXQ];
	struct vm_msix msix;
	uint16_t msix_config, qvec[VM_VIRTIO_MAXQ]; /* MSI-X vectors chosen */
	unsigned cfg_cap;			    /* offset of the PCI config access capability */
	uint64_t ignored_writes;		    /* writes the state machine refused */
	char broken[160];			    /* why the device needs a reset, "" if fine */
	/* Optional: told when the device breaks (the VMM logs it). */
	void (*report)(void *ctx, const char *dev, const char *why);
	void *report_ctx;
};

/* Sets v up as a PCI function for ops, offering features (plus
 * VERSION_1).  mem and irq must outlive v. */
void vm_virtio_init(struct vm_virtio *v, const struct vm_virtio_ops *ops, void *dev,
		    uint64_t features, const struct kvm_vm *mem, const struct vm_irq *irq);
void vm_virtio_destroy(struct vm_virtio *v);

/* The BAR handlers (also driven directly by the unit tests). */
extern const struct vm_io_ops vm_virtio_bar_ops;

/* Lock held: pop the next chain of queue q.  Returns 1, 0 (none) or -1
 * after marking the device broken (the reason is logged in v->broken). */
int vm_virtio_pop(struct vm_virtio *v, unsigned q, struct vm_virtq_elem *e);
/* Lock held: returns chains to the driver and interrupts it if wanted. */
void vm_virtio_push(struct vm_virtio *v, unsigned q, uint16_t head, uint32_t len);
/* Lock held: the device must be reset (a malformed queue, say). */
void vm_virtio_fail(struct vm_virtio *v, const char *why);
/* Lock held: is the driver running and queue q usable? */
int vm_virtio_queue_live(const struct vm_virtio *v, unsigned q);

#endif
