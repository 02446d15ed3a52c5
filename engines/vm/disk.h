/* engines/vm/disk.h: the VM's raw disk image.
 *
 * A raw image is the guest's disk byte for byte.  Like VirtualBox's two
 * choices, it is created either "dynamically allocated" (sparse: the file
 * has its full size but owns disk blocks only where the guest wrote) or
 * "fixed size" (every block reserved up front).  Both backends use the
 * same file: QEMU as a raw drive, our VMM through virtio-blk. */
#ifndef VLAB_ENGINES_VM_DISK_H
#define VLAB_ENGINES_VM_DISK_H

#include <stdint.h>

#include "core/err.h"

enum vm_disk_alloc {
	VM_DISK_DYNAMIC, /* sparse file */
	VM_DISK_FIXED,	 /* every block allocated */
};

/* Creates path as a raw image of size bytes (a multiple of 512), failing
 * when it exists.  The file is removed again on failure. */
int vm_disk_create(const char *path, uint64_t size, enum vm_disk_alloc alloc, struct vlab_err *err);

/* Apparent size and bytes allocated on the host's disk. */
int vm_disk_stat(const char *path, uint64_t *size, uint64_t *allocated, struct vlab_err *err);

/* Opens an existing image for the guest (read-write unless readonly) and
 * checks that it is a regular file or block device of a whole number of
 * 512-byte sectors.  The caller owns the returned descriptor. */
int vm_disk_open(const char *path, int readonly, uint64_t *size, struct vlab_err *err);

#endif
