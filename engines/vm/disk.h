/* engines/vm/disk.h: the VM's raw disk image.
 *
 * A raw image is the guest's disk byte for byte.  Like VirtualBox's two
 * choices, it is created either "dynamically allocated" (sparse: the file
 * has its full size but owns disk blocks only where the guest wrote) or
 * "fixed size" (every block reserved up front).  Both backends use the
 * same file: QEMU as a raw drive, our VMM through virtio-blk. */
#ifndef VLAB_ENGINES_VM_DISK_H
#define VLAB_ENGINES_VM_DISK_H

#include <pthread.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/counters.h"

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

/* The live counter "disk.alloc_bytes": the image's bytes allocated on the
 * host, refreshed every VM_DISK_WATCH_MS by a thread while the guest runs,
 * so a lab sees a dynamically allocated disk grow as the guest writes. */
#define VM_DISK_WATCH_MS 200

struct vm_disk_watch {
	struct vlab_counters *cs;
	int id;  /* the counter */
	int fd;  /* the image, opened for fstat only; owned */
	int stop;
	int running;
	pthread_t thread;
};

/* Registers the counter in cs (call during setup, before the guest runs),
 * publishes the current figure and starts the thread.  On failure nothing
 * is left running. */
int vm_disk_watch_start(struct vm_disk_watch *w, const char *path, struct vlab_counters *cs,
			struct vlab_err *err);
/* Publishes a last figure, stops the thread, closes (safe when not started). */
void vm_disk_watch_stop(struct vm_disk_watch *w);

#endif
