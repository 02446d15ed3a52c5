/* engines/vm/uart.h: a 16550A UART (the PC's 8250 family), enough for
 * Linux's 8250 driver and its probes: divisor latch, scratch register,
 * FIFO control, loopback (the MSR mirror of MCR that autoconfig checks),
 * and the interrupt rules of the real chip (received data, THR empty).
 *
 * The host side is a pair of bounded buffers:
 *   rx: bytes for the guest, pushed by the VMM's I/O thread; when full,
 *       the I/O thread stops reading its descriptor (backpressure).
 *   tx: bytes the guest sent; the host drains them (peek, then consume).
 *       While fewer than 16 bytes are free the UART reports its THR busy,
 *       so a guest that waits for THRE is held back instead of losing
 *       data; what a guest writes regardless is dropped and counted.
 * Thread-safe: vCPU threads do register I/O, the I/O thread pushes and
 * pulls. */
#ifndef VLAB_ENGINES_VM_UART_H
#define VLAB_ENGINES_VM_UART_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engines/vm/iobus.h"
#include "engines/vm/irq.h"

#define VM_UART_COM1 0x3f8
#define VM_UART_COM2 0x2f8
#define VM_UART_COM1_IRQ 4
#define VM_UART_COM2_IRQ 3
#define VM_UART_PORTS 8
#define VM_UART_RXBUF 4096
#define VM_UART_TXBUF 4096

struct vm_uart_host {
	/* The guest wrote: tx has bytes to pull.  Called without the UART's
	 * lock, from the vCPU thread. */
	void (*tx_ready)(void *ctx);
	/* rx became empty after the host found it full: push more. */
	void (*rx_room)(void *ctx);
	void *ctx;
};

struct vm_uart {
	pthread_mutex_t lock;
	unsigned gsi;
	const struct vm_irq *irq;
	struct vm_uart_host host;
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, fcr;
	int thri;  /* THR-empty interrupt pending */
	int level; /* current state of the interrupt line */
	uint8_t rx[VM_UART_RXBUF];
	size_t rx_head, rx_len;
	int rx_starved; /* the host found rx full */
	uint8_t tx[VM_UART_TXBUF];
	size_t tx_len;
	uint64_t tx_lost; /* bytes written while the THR was busy */
};

/* A reset UART on interrupt line gsi.  irq and host must outlive u. */
void vm_uart_init(struct vm_uart *u, unsigned gsi, const struct vm_irq *irq,
		  const struct vm_uart_host *host);
void vm_uart_destroy(struct vm_uart *u);

/* Register I/O handlers for VM_UART_PORTS ports (offsets 0-7). */
extern const struct vm_io_ops vm_uart_ops;

/* Queues bytes for the guest; returns how many fit (bounded by rx). */
size_t vm_uart_rx_push(struct vm_uart *u, const void *data, size_t len);
/* Bytes rx can take now. */
size_t vm_uart_rx_room(struct vm_uart *u);
/* Copies up to max bytes the guest sent, oldest first, leaving them
 * queued; returns how many. */
size_t vm_uart_tx_peek(struct vm_uart *u, void *buf, size_t max);
/* Drops the first n queued bytes (delivered by the host). */
void vm_uart_tx_consume(struct vm_uart *u, size_t n);

#endif
