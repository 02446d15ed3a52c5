/* tests/fuzz/fuzz_virtq.c: the VMM's virtqueue walker (engines/vm/virtq.c),
 * which reads descriptor rings a hostile guest wrote.
 *
 * Input: [0..1] the queue size the driver chose, [2..13] the three ring
 * addresses (each taken modulo a little more than guest RAM, so that most
 * land inside and some straddle its end), then the guest's memory: the
 * rest of the input copied to guest-physical 0 of a 64 KiB fake guest (one
 * memory slot, no KVM).  The queue is enabled and drained the way a device
 * does: pop, read the request, write an answer, push.
 * Properties: a malformed queue is refused with the reason, and once
 * refused the device stops; a popped chain has at most `size` buffers,
 * each inside guest RAM, readable ones first, byte counts that add up;
 * reads, writes and slices move exactly the bytes the chain holds from an
 * offset, never more. */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "engines/vm/virtq.h"

#define MEM (64u << 10)

static uint8_t mem[MEM];
static uint8_t buf[1 << 17];
static struct vm_virtq_elem e;

static uint64_t gpa(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v % (MEM + 0x100);
}

static size_t expect(uint64_t total, size_t off, size_t len)
{
	return off >= total ? 0 : total - off < len ? (size_t)(total - off) : len;
}

static void check_elem(const struct vm_virtq *q, unsigned step)
{
	FUZZ_CHECK(e.head < q->size, "head %u", e.head);
	FUZZ_CHECK(e.nout + e.nin <= q->size, "%u buffers in a queue of %u", e.nout + e.nin,
		   q->size);
	uint64_t out = 0, in = 0;
	for (unsigned i = 0; i < e.nout + e.nin; i++) {
		const uint8_t *b = e.iov[i].iov_base;
		FUZZ_CHECK(b >= mem && b <= mem + MEM && e.iov[i].iov_len <= (size_t)(mem + MEM - b),
			   "buffer %u outside guest RAM", i);
		FUZZ_CHECK(e.iov[i].iov_len > 0, "empty buffer %u kept", i);
		*(i < e.nout ? &out : &in) += e.iov[i].iov_len;
	}
	FUZZ_CHECK(out == e.out_bytes && in == e.in_bytes, "byte counts do not add up");
	/* a read and a write from an offset, as a device would */
	size_t off = (step * 37u) % 600, len = 1 + (step * 101u) % 4000;
	FUZZ_CHECK(vm_virtq_read(&e, off, buf, len) == expect(out, off, len), "read size");
	memset(buf, 0xa5, len);
	FUZZ_CHECK(vm_virtq_write(&e, off, buf, len) == expect(in, off, len), "write size");
	struct iovec v[8];
	unsigned n = vm_virtq_slice(&e, step & 1, off, len, v, 8);
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += v[i].iov_len;
	FUZZ_CHECK(n <= 8 && total <= expect(step & 1 ? in : out, off, len), "slice too long");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 14)
		return 0;
	struct kvm_vm vm = {.sys_fd = -1, .fd = -1, .nslots = 1};
	vm.slots[0] = (struct kvm_slot){.gpa = 0, .size = MEM, .hva = mem};
	size_t img = size - 14 < MEM ? size - 14 : MEM;
	memcpy(mem, data + 14, img);
	memset(mem + img, 0, MEM - img);

	struct vm_virtq q;
	vm_virtq_reset(&q, VM_VIRTQ_MAX);
	memcpy(&q.size, data, 2);
	q.desc_gpa = gpa(data + 2);
	q.avail_gpa = gpa(data + 6);
	q.used_gpa = gpa(data + 10);
	struct vlab_err err = {0};
	if (vm_virtq_enable(&q, &vm, &err) < 0) {
		FUZZ_CHECK(err.msg[0] && !q.enabled, "refused without a reason, or left enabled");
		return 0;
	}
	FUZZ_CHECK(q.size && !(q.size & (q.size - 1)) && q.size <= VM_VIRTQ_MAX, "size %u", q.size);
	for (unsigned step = 0; step < 2u * VM_VIRTQ_MAX; step++) {
		int r = vm_virtq_pop(&q, &vm, &e, &err);
		if (r < 0) {
			FUZZ_CHECK(err.msg[0], "malformed queue refused without a reason");
			break; /* the transport marks the device broken: no more pops */
		}
		if (r == 0)
			break;
		FUZZ_CHECK(r == 1, "pop returned %d", r);
		check_elem(&q, step);
		if (step % 5 == 4) { /* not used after all: popped again next */
			uint16_t head = e.head;
			vm_virtq_unpop(&q);
			FUZZ_CHECK(vm_virtq_pop(&q, &vm, &e, &err) != 0, "unpopped chain gone");
			if (e.head != head)
				break; /* the guest rewrote the ring under us (our own push) */
		}
		uint16_t before = q.used_idx;
		vm_virtq_push(&q, e.head, (uint32_t)e.in_bytes);
		FUZZ_CHECK(q.used_idx == (uint16_t)(before + 1), "push did not advance used_idx");
		vm_virtq_should_notify(&q);
	}
	return 0;
}
