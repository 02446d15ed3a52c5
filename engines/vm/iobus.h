/* engines/vm/iobus.h: where guest I/O goes.  A registry of port and MMIO
 * ranges, as in kvmtool: each device registers the ranges it decodes with
 * its read/write handlers, and the vCPU loop dispatches every KVM_EXIT_IO
 * and KVM_EXIT_MMIO through vm_iobus_access().
 *
 * Ranges may move while the guest runs (a PCI BAR the guest reprograms),
 * so the registry is guarded by a read-write lock: lookup takes it
 * shared, (un)registration exclusive.  Handlers run after the lookup, with
 * no bus lock held, so they may (un)register ranges themselves; they use
 * their own locks for device state, and devices outlive the bus.
 * Accesses no device claims are counted and read as all ones, like an
 * empty bus. */
#ifndef VLAB_ENGINES_VM_IOBUS_H
#define VLAB_ENGINES_VM_IOBUS_H

#include <pthread.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/counters.h"

enum vm_space {
	VM_PIO,	 /* x86 I/O ports: in/out */
	VM_MMIO, /* guest-physical addresses outside RAM */
};

struct vm_io_ops {
	/* offset is relative to the range's base; len is 1, 2, 4 or 8. */
	void (*read)(void *dev, uint64_t offset, void *data, unsigned len);
	void (*write)(void *dev, uint64_t offset, const void *data, unsigned len);
};

#define VM_IOBUS_MAX 64

struct vm_io_range {
	enum vm_space space;
	uint64_t base, len;
	const struct vm_io_ops *ops;
	void *dev;
	const char *name; /* "uart0": counted as dev.<name> */
	int counter;
};

struct vm_iobus {
	pthread_rwlock_t lock;
	struct vm_io_range r[VM_IOBUS_MAX];
	unsigned n;
	struct vlab_counters *counters; /* may be NULL */
	int unclaimed_id;
	uint64_t unclaimed; /* accesses no device claimed */
};

/* counters (optional) receives dev.<name> and dev.unclaimed. */
void vm_iobus_init(struct vm_iobus *bus, struct vlab_counters *counters);
void vm_iobus_destroy(struct vm_iobus *bus);

/* Claims [base, base+len) in space for dev.  Fails on overlap with a
 * claimed range or when the registry is full.  name must outlive bus. */
int vm_iobus_register(struct vm_iobus *bus, enum vm_space space, uint64_t base, uint64_t len,
		      const struct vm_io_ops *ops, void *dev, const char *name,
		      struct vlab_err *err);

/* Releases the range of dev that starts at base (no-op when absent). */
void vm_iobus_unregister(struct vm_iobus *bus, enum vm_space space, uint64_t base, void *dev);

/* Dispatches one access of len bytes (1, 2, 4 or 8).  An access that no
 * range wholly contains reads as all ones and is dropped on write.
 * Returns 1 when a device handled it, 0 when unclaimed. */
int vm_iobus_access(struct vm_iobus *bus, enum vm_space space, uint64_t addr, void *data,
		    unsigned len, int is_write);

#endif
