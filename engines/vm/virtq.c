/* engines/vm/virtq.c: checked access to split virtqueues. */
#include "engines/vm/virtq.h"

#include <errno.h>
#include <string.h>

void vm_virtq_reset(struct vm_virtq *q, uint16_t max)
{
	memset(q, 0, sizeof(*q));
	q->max = q->size = max;
}

int vm_virtq_enable(struct vm_virtq *q, const struct kvm_vm *mem, struct vlab_err *err)
{
	uint16_t n = q->size;
	if (n == 0 || n > q->max || (n & (n - 1)))
		return vlab_err_set(err, 0, "queue size %u is not a power of two in [1, %u]", n,
				    q->max);
	if (q->desc_gpa & 15 || q->avail_gpa & 1 || q->used_gpa & 3)
		return vlab_err_set(
		    err, EINVAL, "misaligned ring (descriptors %#llx, available %#llx, used %#llx)",
		    (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
		    (unsigned long long)q->used_gpa);
	/* Each area with its event field (unused here, but part of it). */
	q->desc = kvm_gpa(mem, q->desc_gpa, 16ull * n);
	q->avail = kvm_gpa(mem, q->avail_gpa, 6ull + 2ull * n);
	q->used = kvm_gpa(mem, q->used_gpa, 6ull + 8ull * n);
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL;
		q->avail = NULL;
		q->used = NULL;
		return vlab_err_set(err, EFAULT,
				    "ring outside guest RAM (descriptors %#llx, available %#llx, "
				    "used %#llx, size %u)",
				    (unsigned long long)q->desc_gpa,
				    (unsigned long long)q->avail_gpa,
				    (unsigned long long)q->used_gpa, n);
	}
	q->last_avail = 0;
	q->used_idx = 0;
	q->enabled = 1;
	return 0;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int vm_virtq_pop(struct vm_virtq *q, const struct kvm_vm *mem, struct vm_virtq_elem *e,
		 struct vlab_err *err)
{
	if (!q->enabled)
		return 0;
	uint16_t avail = load16(&q->avail->idx);
	uint16_t pending = (uint16_t)(avail - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return vlab_err_set(err, EPROTO,
				    "available index jumped by %u, more than the queue size %u",
				    pending, q->size);
	/* The ring entry is read only after the index (acquire above). */
	uint16_t head = __atomic_load_n(&q->avail->ring[q->last_avail % q->size], __ATOMIC_RELAXED);
	if (head >= q->size)
		return vlab_err_set(err, EPROTO,
				    "descriptor index %u is not below the queue size %u", head,
				    q->size);
	memset(e, 0, offsetof(struct vm_virtq_elem, iov));
	e->head = head;
	uint16_t i = head;
	for (unsigned count = 0;; count++) {
		if (count == q->size)
			return vlab_err_set(
			    err, ELOOP,
			    "descriptor chain from %u loops or is longer than the queue", head);
		struct vring_desc d;
		memcpy(&d, &q->desc[i], sizeof(d)); /* the driver may change it: use one copy */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return vlab_err_set(err, EPROTO,
					    "descriptor %u is indirect (not negotiated)", i);
		int w = !!(d.flags & VRING_DESC_F_WRITE);
		if (!w && e->nin)
			return vlab_err_set(
			    err, EPROTO, "descriptor %u: device-readable after device-writable", i);
		if (d.len) {
			void *p = kvm_gpa(mem, d.addr, d.len);
			if (!p)
				return vlab_err_set(
				    err, EFAULT,
				    "descriptor %u: buffer %#llx+%u is outside guest RAM", i,
				    (unsigned long long)d.addr, d.len);
			e->iov[e->nout + e->nin] = (struct iovec){.iov_base = p, .iov_len = d.len};
			if (w) {
				e->nin++;
				e->in_bytes += d.len;
			} else {
				e->nout++;
				e->out_bytes += d.len;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return vlab_err_set(err, EPROTO,
					    "descriptor %u: next %u is not below the queue size %u",
					    i, d.next, q->size);
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void vm_virtq_unpop(struct vm_virtq *q)
{
	q->last_avail--;
}

void vm_virtq_push(struct vm_virtq *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u = &q->used->ring[q->used_idx % q->size];
	__atomic_store_n(&u->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
	q->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

int vm_virtq_should_notify(const struct vm_virtq *q)
{
	/* Order our used->idx store before reading the driver's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

unsigned vm_virtq_slice(const struct vm_virtq_elem *e, int writable, size_t off, size_t len,
			struct iovec *out, unsigned max)
{
	unsigned first = writable ? e->nout : 0, n = writable ? e->nin : e->nout, k = 0;
	for (unsigned i = 0; i < n && len && k < max; i++) {
		const struct iovec *v = &e->iov[first + i];
		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t take = v->iov_len - off < len ? v->iov_len - off : len;
		out[k++] = (struct iovec){.iov_base = (char *)v->iov_base + off, .iov_len = take};
		len -= take;
		off = 0;
	}
	return k;
}

static size_t copy(const struct vm_virtq_elem *e, int writable, size_t off, void *buf, size_t len)
{
	struct iovec v[VM_VIRTQ_MAX];
	unsigned n = vm_virtq_slice(e, writable, off, len, v, VM_VIRTQ_MAX);
	size_t done = 0;
	for (unsigned i = 0; i < n; i++) {
		if (writable)
			memcpy(v[i].iov_base, (const char *)buf + done, v[i].iov_len);
		else
			memcpy((char *)buf + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	return done;
}

size_t vm_virtq_read(const struct vm_virtq_elem *e, size_t off, void *buf, size_t len)
{
	return copy(e, 0, off, buf, len);
}

size_t vm_virtq_write(const struct vm_virtq_elem *e, size_t off, const void *buf, size_t len)
{
	return copy(e, 1, off, (void *)buf, len);
}
