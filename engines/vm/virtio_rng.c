/* engines/vm/virtio_rng.c: the entropy device model. */
#include "engines/vm/virtio_rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static void rng_notify(struct vm_virtio *v, unsigned q)
{
	struct vm_rng *r = v->dev;
	while (vm_virtio_pop(v, q, &r->elem) == 1) {
		struct iovec iov[VM_VIRTQ_MAX];
		size_t want = r->elem.in_bytes < VM_RNG_MAX_REQ ? r->elem.in_bytes : VM_RNG_MAX_REQ;
		unsigned k = vm_virtq_slice(&r->elem, 1, 0, want, iov, VM_VIRTQ_MAX);
		size_t done = 0;
		for (unsigned i = 0; i < k; i++) {
			ssize_t g;
			do
				g = getrandom(iov[i].iov_base, iov[i].iov_len, 0);
			while (g < 0 && errno == EINTR);
			if (g <= 0)
				break;
			done += (size_t)g;
			if ((size_t)g < iov[i].iov_len)
				break;
		}
		vm_virtio_push(v, q, r->elem.head, (uint32_t)done);
	}
}

static const struct vm_virtio_ops rng_ops = {
    .name = "virtio-rng",
    .type = 4,
    .class_code = 0x00ff00, /* unclassified */
    .nqueues = 1,
    .notify = rng_notify,
};

void vm_rng_init(struct vm_rng *r, const struct kvm_vm *mem, const struct vm_irq *irq)
{
	memset(r, 0, sizeof(*r));
	vm_virtio_init(&r->v, &rng_ops, r, 0, mem, irq);
}

void vm_rng_destroy(struct vm_rng *r)
{
	vm_virtio_destroy(&r->v);
}
