/* engines/vm/uart.c: the 16550A model. */
#include "engines/vm/uart.h"

#include <string.h>

/* Register offsets (DLAB selects the divisor latch at 0 and 1). */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* THR empty */
#define IER_RLSI 0x04 /* line status */
#define IER_MSI 0x08  /* modem status */
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define TX_FIFO 16

void vm_uart_init(struct vm_uart *u, unsigned gsi, const struct vm_irq *irq,
		  const struct vm_uart_host *host)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->gsi = gsi;
	u->irq = irq;
	if (host)
		u->host = *host;
	/* A cable is plugged in: the host is always ready. */
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->mcr = MCR_OUT2;
	u->dll = 12; /* 9600 baud, what firmware leaves */
}

void vm_uart_destroy(struct vm_uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

static int thr_empty(const struct vm_uart *u)
{
	return VM_UART_TXBUF - u->tx_len >= TX_FIFO;
}

static uint8_t iir(const struct vm_uart *u)
{
	uint8_t fifo = u->fcr & FCR_ENABLE ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_len)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Drives the interrupt line from the register state (lock held). */
static void update_irq(struct vm_uart *u)
{
	int level = !(iir(u) & IIR_NONE);
	if (level != u->level) {
		u->level = level;
		vm_irq_line(u->irq, u->gsi, level);
	}
}

/* The modem status register; in loopback it mirrors the outputs. */
static uint8_t msr(const struct vm_uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return u->msr;
	uint8_t m = 0;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static size_t rx_put(struct vm_uart *u, const uint8_t *p, size_t n)
{
	size_t room = VM_UART_RXBUF - u->rx_len;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++)
		u->rx[(u->rx_head + u->rx_len + i) % VM_UART_RXBUF] = p[i];
	u->rx_len += n;
	return n;
}

static uint8_t reg_read(struct vm_uart *u, unsigned reg, int *room)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->rx_len)
			return 0;
		uint8_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % VM_UART_RXBUF;
		if (--u->rx_len == 0 && u->rx_starved) {
			u->rx_starved = 0;
			*room = 1;
		}
		return c;
	case IER:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case IIR_FCR: {
		uint8_t v = iir(u);
		/* Reading the IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thri = 0;
		return v;
	}
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return (u->rx_len ? LSR_DR : 0) | (thr_empty(u) ? LSR_THRE : 0) |
		       (u->tx_len == 0 ? LSR_TEMT : 0);
	case MSR:
		return msr(u);
	default:
		return u->scr;
	}
}

/* Returns 1 when the host should be told that tx has data. */
static int reg_write(struct vm_uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return 0;
		}
		u->thri = 0;
		if (u->mcr & MCR_LOOP) {
			rx_put(u, &v, 1);
		} else if (u->tx_len < VM_UART_TXBUF) {
			u->tx[u->tx_len++] = v;
		} else {
			u->tx_lost++;
		}
		/* The byte leaves at once: the THR is empty again if the
		 * host has room, and says so with an interrupt. */
		if (thr_empty(u))
			u->thri = 1;
		return !(u->mcr & MCR_LOOP);
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return 0;
		}
		if ((v ^ u->ier) & IER_THRI)
			u->thri = (v & IER_THRI) && thr_empty(u);
		u->ier = v & 0x0f;
		return 0;
	case IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->rx_len = 0;
		return 0;
	case LCR:
		u->lcr = v;
		return 0;
	case MCR:
		u->mcr = v & 0x1f;
		return 0;
	case SCR:
		u->scr = v;
		return 0;
	default: /* LSR and MSR are read-only */
		return 0;
	}
}

static void uart_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vm_uart *u = dev;
	int room = 0;
	pthread_mutex_lock(&u->lock);
	uint8_t v = reg_read(u, (unsigned)off, &room);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	memset(data, 0, len);
	*(uint8_t *)data = v;
	if (room && u->host.rx_room)
		u->host.rx_room(u->host.ctx);
}

static void uart_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_uart *u = dev;
	(void)len;
	pthread_mutex_lock(&u->lock);
	int tx = reg_write(u, (unsigned)off, *(const uint8_t *)data);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (tx && u->host.tx_ready)
		u->host.tx_ready(u->host.ctx);
}

const struct vm_io_ops vm_uart_ops = {.read = uart_read, .write = uart_write};

size_t vm_uart_rx_push(struct vm_uart *u, const void *data, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = rx_put(u, data, len);
	if (n < len)
		u->rx_starved = 1;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t vm_uart_rx_room(struct vm_uart *u)
{
	pthread_mutex_lock(&u->lock);
	size_t room = VM_UART_RXBUF - u->rx_len;
	if (!room)
		u->rx_starved = 1;
	pthread_mutex_unlock(&u->lock);
	return room;
}

size_t vm_uart_tx_peek(struct vm_uart *u, void *buf, size_t max)
{
	pthread_mutex_lock(&u->lock);
	size_t n = u->tx_len < max ? u->tx_len : max;
	memcpy(buf, u->tx, n);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void vm_uart_tx_consume(struct vm_uart *u, size_t n)
{
	pthread_mutex_lock(&u->lock);
	if (n > u->tx_len)
		n = u->tx_len;
	int was_full = !thr_empty(u);
	memmove(u->tx, u->tx + n, u->tx_len - n);
	u->tx_len -= n;
	if (was_full && thr_empty(u) && (u->ier & IER_THRI))
		u->thri = 1;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}
