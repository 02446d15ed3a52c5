/* engines/vm/iobus.c: the registry of port and MMIO ranges. */
#include "engines/vm/iobus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void vm_iobus_init(struct vm_iobus *bus, struct vlab_counters *counters)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
	bus->counters = counters;
	bus->unclaimed_id = vlab_counters_id(counters, "dev.unclaimed");
}

void vm_iobus_destroy(struct vm_iobus *bus)
{
	pthread_rwlock_destroy(&bus->lock);
}

int vm_iobus_register(struct vm_iobus *bus, enum vm_space space, uint64_t base, uint64_t len,
		      const struct vm_io_ops *ops, void *dev, const char *name,
		      struct vlab_err *err)
{
	if (len == 0 || base + len < base)
		return vlab_err_set(err, EINVAL, "%s: empty or wrapping I/O range at %#llx", name,
				    (unsigned long long)base);
	pthread_rwlock_wrlock(&bus->lock);
	int rc = 0;
	for (unsigned i = 0; i < bus->n; i++) {
		const struct vm_io_range *o = &bus->r[i];
		if (o->space == space && base < o->base + o->len && o->base < base + len) {
			rc = vlab_err_set(err, EBUSY, "%s: %s range %#llx+%#llx overlaps %s", name,
					  space == VM_PIO ? "port" : "MMIO",
					  (unsigned long long)base, (unsigned long long)len,
					  o->name);
			goto out;
		}
	}
	if (bus->n == VM_IOBUS_MAX) {
		rc = vlab_err_set(err, ENOSPC, "%s: more than %d I/O ranges", name, VM_IOBUS_MAX);
		goto out;
	}
	char cname[VLAB_COUNTER_NAME];
	snprintf(cname, sizeof(cname), "dev.%s", name);
	/* Counter names are registered before the vCPUs run (setup) or, for
	 * a moving BAR, reuse the name registered the first time. */
	bus->r[bus->n++] = (struct vm_io_range){
	    .space = space,
	    .base = base,
	    .len = len,
	    .ops = ops,
	    .dev = dev,
	    .name = name,
	    .counter = vlab_counters_id(bus->counters, cname),
	};
out:
	pthread_rwlock_unlock(&bus->lock);
	return rc;
}

void vm_iobus_unregister(struct vm_iobus *bus, enum vm_space space, uint64_t base, void *dev)
{
	pthread_rwlock_wrlock(&bus->lock);
	for (unsigned i = 0; i < bus->n; i++)
		if (bus->r[i].space == space && bus->r[i].base == base && bus->r[i].dev == dev) {
			bus->r[i] = bus->r[--bus->n];
			break;
		}
	pthread_rwlock_unlock(&bus->lock);
}

int vm_iobus_access(struct vm_iobus *bus, enum vm_space space, uint64_t addr, void *data,
		    unsigned len, int is_write)
{
	/* Find the range under the lock, call its handler after: a handler
	 * may move ranges (a PCI BAR write), and devices outlive the bus, so
	 * a range unregistered meanwhile still has a valid device. */
	struct vm_io_range hit = {.ops = NULL};
	pthread_rwlock_rdlock(&bus->lock);
	for (unsigned i = 0; i < bus->n; i++) {
		const struct vm_io_range *r = &bus->r[i];
		if (r->space == space && addr >= r->base && addr - r->base < r->len &&
		    len <= r->len - (addr - r->base)) {
			hit = *r;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!hit.ops) {
		__atomic_fetch_add(&bus->unclaimed, 1, __ATOMIC_RELAXED);
		vlab_counter_add(bus->counters, bus->unclaimed_id, 1);
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	vlab_counter_add(bus->counters, hit.counter, 1);
	if (is_write) {
		if (hit.ops->write)
			hit.ops->write(hit.dev, addr - hit.base, data, len);
	} else if (hit.ops->read) {
		hit.ops->read(hit.dev, addr - hit.base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return 1;
}
