/* engines/vm/virtio_blk.h: a virtio block device backed by a raw image
 * file (virtio 1.x, section 5.2): read, write, flush and get-ID requests,
 * one queue, served synchronously when the driver notifies it.
 *
 * A request outside the disk, on a read-only disk, or of a type we do not
 * know fails with an error status for that request alone; a malformed
 * chain (no room for the header or the status byte) breaks the device
 * until the driver resets it. */
#ifndef VLAB_ENGINES_VM_VIRTIO_BLK_H
#define VLAB_ENGINES_VM_VIRTIO_BLK_H

#include <stdint.h>

#include "engines/counters.h"
#include "engines/vm/virtio_pci.h"

struct vm_blk {
	struct vm_virtio v;
	int fd; /* the image (not owned) */
	uint64_t bytes;
	int readonly;
	char serial[20];
	struct vm_virtq_elem elem;
	struct vlab_counters *counters;
	int c_read, c_write, c_flush, c_err;
};

/* A disk of bytes (a multiple of 512) over fd.  counters may be NULL. */
void vm_blk_init(struct vm_blk *b, int fd, uint64_t bytes, int readonly, const char *serial,
		 const struct kvm_vm *mem, const struct vm_irq *irq,
		 struct vlab_counters *counters);
void vm_blk_destroy(struct vm_blk *b);

#endif
