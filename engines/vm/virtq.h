/* engines/vm/virtq.h: split virtqueues (virtio 1.x, section 2.7) read out
 * of untrusted guest memory.
 *
 * The driver owns the rings and may rewrite them at any moment, so
 * nothing it wrote is trusted: the ring areas are checked once when the
 * queue is enabled (inside guest RAM, aligned, size a power of two), and
 * every descriptor is copied before it is checked and used: its index
 * below the queue size, its buffer inside guest RAM (kvm_gpa), device-
 * readable buffers before device-writable ones, no indirect tables (not
 * offered), and a chain no longer than the queue (so a loop ends).  An
 * available index that moves by more than the queue size is refused too.
 * A malformed queue makes vm_virtq_pop() fail with the reason: the
 * transport then marks the device as needing a reset and never touches
 * the queue again until it is reset.  The VMM itself carries on. */
#ifndef VLAB_ENGINES_VM_VIRTQ_H
#define VLAB_ENGINES_VM_VIRTQ_H

#include <stdint.h>
#include <sys/uio.h>

#include "core/err.h"
#include "engines/kvm/kvm.h"

#define VM_VIRTQ_MAX 256 /* largest queue we offer */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

struct vm_virtq {
	uint16_t max;  /* offered size */
	uint16_t size; /* what the driver chose (power of two) */
	int enabled;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Resolved when enabled; valid for the machine's life. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* next available entry to take */
	uint16_t used_idx;   /* our copy of used->idx */
};

/* One request: the chain starting at head, as host iovecs.  The first
 * nout are device-readable, the next nin device-writable. */
struct vm_virtq_elem {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_bytes, in_bytes;
	struct iovec iov[VM_VIRTQ_MAX];
};

/* Resets q to offer max entries (no rings, disabled). */
void vm_virtq_reset(struct vm_virtq *q, uint16_t max);

/* Checks the driver's size and ring addresses and enables q; on failure
 * q stays disabled and err says what is wrong. */
int vm_virtq_enable(struct vm_virtq *q, const struct kvm_vm *mem, struct vlab_err *err);

/* Takes the next available chain.  Returns 1 with *e filled, 0 when the
 * driver has made nothing available, -1 with err when the queue is
 * malformed. */
int vm_virtq_pop(struct vm_virtq *q, const struct kvm_vm *mem, struct vm_virtq_elem *e,
		 struct vlab_err *err);

/* Puts a popped chain back (not used after all): it is popped again next. */
void vm_virtq_unpop(struct vm_virtq *q);

/* Returns chain head to the driver with len bytes written into it. */
void vm_virtq_push(struct vm_virtq *q, uint16_t head, uint32_t len);

/* Does the driver want an interrupt for what was pushed? */
int vm_virtq_should_notify(const struct vm_virtq *q);

/* Copies up to len bytes from the device-readable part of e, starting at
 * byte off; returns how many. */
size_t vm_virtq_read(const struct vm_virtq_elem *e, size_t off, void *buf, size_t len);
/* Copies up to len bytes into the device-writable part of e, starting at
 * byte off; returns how many. */
size_t vm_virtq_write(const struct vm_virtq_elem *e, size_t off, const void *buf, size_t len);
/* Fills out (up to max entries) with the iovecs of [off, off+len) of the
 * readable (writable = 0) or writable part of e; returns the count. */
unsigned vm_virtq_slice(const struct vm_virtq_elem *e, int writable, size_t off, size_t len,
			struct iovec *out, unsigned max);

#endif
