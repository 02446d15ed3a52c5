/* engines/vm/msix.h: MSI-X for a PCI function (PCI Local Bus 3.0, 6.8.2).
 *
 * Instead of a shared interrupt pin, the device writes a message (an
 * address and a value the guest chose) per event; with KVM that becomes
 * KVM_SIGNAL_MSI, straight to a local APIC vector, and the guest needs no
 * status read to learn which device it was.  The function has a table of
 * vectors in a BAR (address, data, mask per entry) and a pending-bit
 * array; a masked vector keeps its message pending until it is unmasked.
 * Callers hold the owning device's lock. */
#ifndef VLAB_ENGINES_VM_MSIX_H
#define VLAB_ENGINES_VM_MSIX_H

#include <stdint.h>

#include "engines/vm/irq.h"
#include "engines/vm/pci.h"

#define VM_MSIX_MAX 8
#define VM_MSIX_NO_VECTOR 0xffff

struct vm_msix {
	unsigned n;		     /* vectors */
	unsigned cap;		     /* capability offset in configuration space */
	uint32_t table_off, pba_off; /* in the BAR */
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} entry[VM_MSIX_MAX];
	uint64_t pending;
	uint64_t sent; /* messages signalled */
	const struct vm_irq *irq;
};

/* Adds the capability to d: n vectors (<= VM_MSIX_MAX) whose table and
 * pending bits live in BAR bar at table_off and pba_off.  Every vector
 * starts masked. */
void vm_msix_init(struct vm_msix *x, struct vm_pci_dev *d, unsigned bar, uint32_t table_off,
		  uint32_t pba_off, unsigned n, const struct vm_irq *irq);

/* Is MSI-X enabled by the guest (capability's enable bit)? */
int vm_msix_enabled(const struct vm_msix *x, const struct vm_pci_dev *d);

/* Raises vector: signals its message, or marks it pending while masked.
 * VM_MSIX_NO_VECTOR and vectors past the table do nothing. */
void vm_msix_notify(struct vm_msix *x, const struct vm_pci_dev *d, unsigned vector);

/* BAR accesses at off (relative to the BAR) that fall in the table or the
 * pending bits.  Return 1 when handled. */
int vm_msix_read(struct vm_msix *x, uint64_t off, void *data, unsigned len);
int vm_msix_write(struct vm_msix *x, const struct vm_pci_dev *d, uint64_t off, const void *data,
		  unsigned len);

/* The guest wrote configuration space [off, off+len): unmasking the
 * function delivers what is pending. */
void vm_msix_cap_written(struct vm_msix *x, const struct vm_pci_dev *d, unsigned off, unsigned len);

#endif
