/* engines/vm/virtio_net.c: the network device model. */
#include "engines/vm/virtio_net.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define VIRTIO_NET_F_MAC (1ull << 5)
#define RXQ 0
#define TXQ 1

static void transmit(struct vm_net *n)
{
	struct vm_virtio *v = &n->v;
	while (vm_virtio_pop(v, TXQ, &n->tx) == 1) {
		struct iovec iov[VM_VIRTQ_MAX];
		uint64_t len = n->tx.out_bytes;
		if (len > VM_NET_HDR && len - VM_NET_HDR <= VM_NET_FRAME_MAX) {
			unsigned k = vm_virtq_slice(&n->tx, 0, VM_NET_HDR, len - VM_NET_HDR, iov,
						    VM_VIRTQ_MAX);
			ssize_t w;
			do
				w = writev(n->fd, iov, (int)k);
			while (w < 0 && errno == EINTR);
			/* A full or gone wire drops the frame, as a real NIC. */
			vlab_counter_add(n->counters, w < 0 ? n->c_drop : n->c_tx, 1);
		} else {
			vlab_counter_add(n->counters, n->c_drop, 1);
		}
		vm_virtio_push(v, TXQ, n->tx.head, 0);
	}
}

static void net_notify(struct vm_virtio *v, unsigned q)
{
	struct vm_net *n = v->dev;
	if (q == TXQ) {
		transmit(n);
	} else if (q == RXQ && !n->rx_wanted) {
		/* New receive buffers: wake the I/O thread (after unlocking
		 * is not possible here, so the kick must not take v->lock). */
		n->rx_wanted = 1;
		if (n->rx_kick)
			n->rx_kick(n->kick_ctx);
	}
}

static void net_reset(struct vm_virtio *v)
{
	struct vm_net *n = v->dev;
	n->rx_wanted = 1;
}

int vm_net_receive(struct vm_net *n)
{
	struct vm_virtio *v = &n->v;
	int starved = 0;
	pthread_mutex_lock(&v->lock);
	for (;;) {
		int r = vm_virtio_pop(v, RXQ, &n->rx);
		if (r <= 0) {
			/* No buffer (or a broken queue): wait for the driver. */
			starved = 1;
			n->rx_wanted = 0;
			break;
		}
		struct iovec iov[VM_VIRTQ_MAX];
		if (n->rx.in_bytes <= VM_NET_HDR) {
			vm_virtio_fail(v, "queue 0: receive buffer smaller than the header");
			starved = 1;
			break;
		}
		unsigned k = vm_virtq_slice(&n->rx, 1, VM_NET_HDR, n->rx.in_bytes - VM_NET_HDR, iov,
					    VM_VIRTQ_MAX);
		ssize_t got;
		do
			got = readv(n->fd, iov, (int)k);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			vm_virtq_unpop(&v->q[RXQ]); /* nothing on the wire: keep the buffer */
			break;
		}
		uint8_t hdr[VM_NET_HDR] = {0};
		hdr[10] = 1; /* num_buffers */
		vm_virtq_write(&n->rx, 0, hdr, sizeof(hdr));
		vlab_counter_add(n->counters, n->c_rx, 1);
		vm_virtio_push(v, RXQ, n->rx.head, (uint32_t)(VM_NET_HDR + (size_t)got));
	}
	pthread_mutex_unlock(&v->lock);
	return starved;
}

/* struct virtio_net_config: mac[6] (status, max pairs: not offered). */
static void net_cfg_read(struct vm_virtio *v, unsigned off, void *data, unsigned len)
{
	struct vm_net *n = v->dev;
	uint8_t cfg[8] = {0};
	memcpy(cfg, n->mac, 6);
	memcpy(data, cfg + off, len);
}

static const struct vm_virtio_ops net_ops = {
    .name = "virtio-net",
    .type = 1,
    .class_code = 0x020000, /* network, Ethernet */
    .nqueues = 2,
    .cfg_len = 8,
    .cfg_read = net_cfg_read,
    .notify = net_notify,
    .reset = net_reset,
};

void vm_net_init(struct vm_net *n, int fd, const uint8_t mac[6], const struct kvm_vm *mem,
		 const struct vm_irq *irq, struct vlab_counters *counters)
{
	memset(n, 0, sizeof(*n));
	n->fd = fd;
	memcpy(n->mac, mac, 6);
	n->rx_wanted = 1;
	n->counters = counters;
	n->c_rx = vlab_counters_id(counters, "net.rx");
	n->c_tx = vlab_counters_id(counters, "net.tx");
	n->c_drop = vlab_counters_id(counters, "net.drop");
	vm_virtio_init(&n->v, &net_ops, n, VIRTIO_NET_F_MAC, mem, irq);
}

void vm_net_destroy(struct vm_net *n)
{
	vm_virtio_destroy(&n->v);
}
