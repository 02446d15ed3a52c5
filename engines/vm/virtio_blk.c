/* engines/vm/virtio_blk.c: the block device model. */
#include "engines/vm/virtio_blk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define SECTOR 512
#define ID_BYTES 20

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Reads or writes the whole slice [data_off, data_off+len) of the chain
 * at byte pos of the image, looping over short transfers. */
static int transfer(struct vm_blk *b, const struct vm_virtq_elem *e, int to_guest, size_t off,
		    size_t len, uint64_t pos)
{
	struct iovec iov[VM_VIRTQ_MAX];
	while (len) {
		unsigned n = vm_virtq_slice(e, to_guest, off, len, iov, VM_VIRTQ_MAX);
		ssize_t r = to_guest ? preadv(b->fd, iov, (int)n, (off_t)pos)
				     : pwritev(b->fd, iov, (int)n, (off_t)pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
		len -= (size_t)r;
		pos += (uint64_t)r;
	}
	return 0;
}

/* Serves one request; returns bytes written into the chain, or -1 when
 * the chain itself is malformed. */
static int64_t serve(struct vm_blk *b, const struct vm_virtq_elem *e)
{
	struct blk_req_hdr h;
	if (e->out_bytes < sizeof(h) || e->in_bytes < 1)
		return -1;
	vm_virtq_read(e, 0, &h, sizeof(h));
	uint64_t out_data = e->out_bytes - sizeof(h); /* bytes after the header */
	uint64_t in_data = e->in_bytes - 1;	      /* bytes before the status */
	uint8_t status = VIRTIO_BLK_S_OK;
	uint64_t written = 0;
	uint64_t pos = h.sector * SECTOR;
	int overflow = h.sector > UINT64_MAX / SECTOR;

	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		if (overflow || in_data % SECTOR || pos > b->bytes || in_data > b->bytes - pos ||
		    transfer(b, e, 1, 0, in_data, pos) < 0)
			status = VIRTIO_BLK_S_IOERR;
		else
			written = in_data;
		vlab_counter_add(b->counters, b->c_read, 1);
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly || overflow || out_data % SECTOR || pos > b->bytes ||
		    out_data > b->bytes - pos || transfer(b, e, 0, sizeof(h), out_data, pos) < 0)
			status = VIRTIO_BLK_S_IOERR;
		vlab_counter_add(b->counters, b->c_write, 1);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		vlab_counter_add(b->counters, b->c_flush, 1);
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = in_data < ID_BYTES ? in_data : ID_BYTES;
		written = vm_virtq_write(e, 0, b->serial, n);
		break;
	}
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
	if (status != VIRTIO_BLK_S_OK)
		vlab_counter_add(b->counters, b->c_err, 1);
	/* The status byte is the last writable byte of the chain. */
	vm_virtq_write(e, e->in_bytes - 1, &status, 1);
	return (int64_t)(written + 1);
}

static void blk_notify(struct vm_virtio *v, unsigned q)
{
	struct vm_blk *b = v->dev;
	while (vm_virtio_pop(v, q, &b->elem) == 1) {
		int64_t n = serve(b, &b->elem);
		if (n < 0) {
			char why[96];
			snprintf(why, sizeof(why),
				 "queue %u: request %u has no room for its header or status", q,
				 b->elem.head);
			vm_virtio_fail(v, why);
			return;
		}
		vm_virtio_push(v, q, b->elem.head, (uint32_t)n);
	}
}

/* struct virtio_blk_config: capacity (sectors), size_max, seg_max. */
static void blk_cfg_read(struct vm_virtio *v, unsigned off, void *data, unsigned len)
{
	struct vm_blk *b = v->dev;
	uint8_t cfg[16] = {0};
	uint64_t sectors = b->bytes / SECTOR;
	uint32_t seg_max = VM_VIRTQ_MAX - 2;
	memcpy(cfg, &sectors, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(data, cfg + off, len);
}

static const struct vm_virtio_ops blk_ops = {
    .name = "virtio-blk",
    .type = 2,
    .class_code = 0x018000, /* mass storage, other */
    .nqueues = 1,
    .cfg_len = 16,
    .cfg_read = blk_cfg_read,
    .notify = blk_notify,
};

void vm_blk_init(struct vm_blk *b, int fd, uint64_t bytes, int readonly, const char *serial,
		 const struct kvm_vm *mem, const struct vm_irq *irq, struct vlab_counters *counters)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->bytes = bytes - bytes % SECTOR;
	b->readonly = readonly;
	strncpy(b->serial, serial ? serial : "", sizeof(b->serial));
	b->counters = counters;
	b->c_read = vlab_counters_id(counters, "blk.read");
	b->c_write = vlab_counters_id(counters, "blk.write");
	b->c_flush = vlab_counters_id(counters, "blk.flush");
	b->c_err = vlab_counters_id(counters, "blk.error");
	uint64_t f = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH | (readonly ? VIRTIO_BLK_F_RO : 0);
	vm_virtio_init(&b->v, &blk_ops, b, f, mem, irq);
}

void vm_blk_destroy(struct vm_blk *b)
{
	vm_virtio_destroy(&b->v);
}
