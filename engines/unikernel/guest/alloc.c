/* engines/unikernel/guest/alloc.c: the heap: one address-ordered free list
 * with coalescing, and aligned allocations for page-sized workload buffers.
 *
 * The heap is [image_end, mem_size - UK_STACK_BYTES).  Memory above `clean`
 * (the highest brk ever) has never been handed out, so it is still the
 * zeros the monitor mapped: zeroed allocations touch (and make the host
 * commit) only what may be dirty.
 * A block is a 16-byte header, then the payload; a free block keeps the
 * next free block's address in its payload. */
#include "uk.h"

#define HDR 16u
#define MIN_BLOCK 32u
#define TAG_USED 0x75736564u  /* "used" */
#define TAG_FREE 0x66726565u  /* "free" */
#define TAG_INNER 0x696e6e72u /* header of an aligned payload inside a block */

struct blk {
	size_t size; /* header included */
	size_t tag;
	struct blk *next; /* free blocks only */
};

static struct blk *free_list;
static uintptr_t heap_lo, heap_hi, brk, clean;
static size_t used_bytes;

void uk_heap_init(uintptr_t start, uintptr_t end)
{
	heap_lo = brk = clean = (start + 15) & ~(uintptr_t)15;
	heap_hi = end & ~(uintptr_t)15;
	free_list = 0;
	used_bytes = 0;
}

size_t uk_heap_size(void)
{
	return heap_hi - heap_lo;
}

size_t uk_heap_free(void)
{
	return heap_hi - heap_lo - used_bytes;
}

/* Inserts [b, b + size) into the free list, merging with its neighbours;
 * a block that ends at brk goes back to the untouched top instead. */
static void release(struct blk *b, size_t size)
{
	struct blk **pp = &free_list, *prev = 0;
	while (*pp && *pp < b) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	b->size = size;
	b->tag = TAG_FREE;
	b->next = *pp;
	if (b->next && (uintptr_t)b + b->size == (uintptr_t)b->next) {
		b->size += b->next->size;
		b->next = b->next->next;
	}
	if (prev && (uintptr_t)prev + prev->size == (uintptr_t)b) {
		prev->size += b->size;
		prev->next = b->next;
		b = prev;
	} else {
		*pp = b;
	}
	if ((uintptr_t)b + b->size == brk) {
		/* Unlink b (the last free block) and lower brk. */
		struct blk **q = &free_list;
		while (*q != b)
			q = &(*q)->next;
		*q = b->next;
		brk = (uintptr_t)b;
	}
}

/* Carves size bytes whose payload is align-aligned out of [start, end);
 * returns the header address or 0.  *front gets the bytes left before it. */
static uintptr_t fit(uintptr_t start, uintptr_t end, size_t size, size_t align, size_t *front)
{
	uintptr_t pay = (start + HDR + align - 1) & ~(uintptr_t)(align - 1);
	while (pay - HDR != start && pay - HDR - start < MIN_BLOCK)
		pay += align;
	uintptr_t h = pay - HDR;
	if (h < start || h + size < h || h + size > end)
		return 0;
	*front = h - start;
	return h;
}

static void *take(size_t n, size_t align, int zeroed)
{
	if (n > heap_hi - heap_lo)
		return 0;
	size_t size = (n + HDR + 15) & ~(size_t)15;
	if (size < MIN_BLOCK)
		size = MIN_BLOCK;
	uintptr_t h = 0, end = 0;
	size_t front = 0;
	struct blk **pp;
	for (pp = &free_list; *pp; pp = &(*pp)->next) {
		uintptr_t s = (uintptr_t)*pp;
		if ((h = fit(s, s + (*pp)->size, size, align, &front)))
			break;
	}
	if (h) {
		struct blk *b = *pp;
		end = (uintptr_t)b + b->size;
		*pp = b->next; /* unlink; the pieces go back below */
		if (front)
			release(b, front);
	} else {
		h = fit(brk, heap_hi, size, align, &front);
		if (!h)
			return 0;
		uintptr_t old = brk;
		brk = h + size;
		end = brk;
		if (front)
			release((struct blk *)old, front);
	}
	if (end - (h + size) >= MIN_BLOCK)
		release((struct blk *)(h + size), end - (h + size));
	else
		size = end - h;
	struct blk *b = (struct blk *)h;
	b->size = size;
	b->tag = TAG_USED;
	used_bytes += size;
	uintptr_t pay = h + HDR;
	if (zeroed && pay < clean)
		memset((void *)pay, 0, (h + size < clean ? h + size : clean) - pay);
	if (brk > clean)
		clean = brk;
	return (void *)pay;
}

static struct blk *header(void *p)
{
	struct blk *b = (struct blk *)((uintptr_t)p - HDR);
	if ((uintptr_t)p < heap_lo + HDR || (uintptr_t)p >= brk || (uintptr_t)p % 16 ||
	    b->tag != TAG_USED)
		uk_panic("free/realloc of %p: not an allocated block", p);
	return b;
}

void *malloc(size_t n)
{
	return take(n, 16, 0);
}

void free(void *p)
{
	if (!p)
		return;
	struct blk *b = header(p);
	used_bytes -= b->size;
	release(b, b->size);
}

void *calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return 0;
	return take(n * size, 16, 1);
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	struct blk *b = header(p);
	size_t have = b->size - HDR;
	if (n <= have)
		return p;
	void *q = malloc(n);
	if (q) {
		memcpy(q, p, have);
		free(p);
	}
	return q;
}

void *uk_page_alloc(size_t bytes)
{
	if (bytes > heap_hi - heap_lo)
		return 0;
	bytes = (bytes + 4095) & ~(size_t)4095;
	return take(bytes, 4096, 1);
}

void uk_page_free(void *p, size_t bytes)
{
	(void)bytes;
	free(p);
}
