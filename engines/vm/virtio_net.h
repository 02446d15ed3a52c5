/* engines/vm/virtio_net.h: a virtio network device (virtio 1.x, section
 * 5.1) whose wire is a descriptor carrying one Ethernet frame per read and
 * write: a TAP device in the lab network (IFF_TAP | IFF_NO_PI), or a
 * datagram socket in tests.
 *
 * Queue 0 receives, queue 1 transmits.  Transmit runs when the driver
 * notifies; receive runs in the VMM's I/O thread when the wire has a
 * frame and the driver has given buffers.  Every frame carries the 12-byte
 * virtio_net_hdr in the rings (no offloads are offered, so it is zero on
 * the way in and ignored on the way out).  A frame too big for the buffer
 * it is given is truncated by the wire and counted. */
#ifndef VLAB_ENGINES_VM_VIRTIO_NET_H
#define VLAB_ENGINES_VM_VIRTIO_NET_H

#include <stdint.h>

#include "engines/counters.h"
#include "engines/vm/virtio_pci.h"

#define VM_NET_HDR 12
#define VM_NET_FRAME_MAX 65550

struct vm_net {
	struct vm_virtio v;
	int fd; /* the wire, non-blocking (not owned) */
	uint8_t mac[6];
	int rx_wanted; /* the I/O thread should read the wire */
	struct vm_virtq_elem rx, tx;
	/* Told (without the device lock) when the driver adds receive
	 * buffers after the wire had to wait: poll the wire again. */
	void (*rx_kick)(void *ctx);
	void *kick_ctx;
	struct vlab_counters *counters;
	int c_rx, c_tx, c_drop;
};

/* A NIC with address mac over fd.  counters may be NULL. */
void vm_net_init(struct vm_net *n, int fd, const uint8_t mac[6], const struct kvm_vm *mem,
		 const struct vm_irq *irq, struct vlab_counters *counters);
void vm_net_destroy(struct vm_net *n);

/* I/O thread: moves frames from the wire into receive buffers until the
 * wire is empty or the driver has no buffer left.  Returns 1 when it
 * stopped for lack of buffers (stop polling the wire until rx_kick), 0
 * otherwise. */
int vm_net_receive(struct vm_net *n);

#endif
