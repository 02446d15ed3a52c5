/* engines/vm/virtio_rng.h: a virtio entropy device (virtio 1.x, section
 * 5.4): the driver gives writable buffers, the device fills them from the
 * host's getrandom(2), at most 64 KiB per request. */
#ifndef VLAB_ENGINES_VM_VIRTIO_RNG_H
#define VLAB_ENGINES_VM_VIRTIO_RNG_H

#include "engines/vm/virtio_pci.h"

#define VM_RNG_MAX_REQ 65536

struct vm_rng {
	struct vm_virtio v;
	struct vm_virtq_elem elem;
};

void vm_rng_init(struct vm_rng *r, const struct kvm_vm *mem, const struct vm_irq *irq);
void vm_rng_destroy(struct vm_rng *r);

#endif
