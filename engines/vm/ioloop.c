/* engines/vm/ioloop.c: the VMM's I/O thread, and the UARTs' host sides.
 *
 *   console fd  <->  uart0 (ttyS0): output through the bounded console
 *                    queue (console.h), input into the UART's rx buffer
 *   control fd  <->  uart1 (ttyS1): the agent's channel; output is never
 *                    dropped: while the front end does not read, the UART
 *                    reports a busy THR and the guest waits
 *   net fd       ->  virtio-net receive buffers
 *
 * A descriptor is polled for input only while its UART (or the NIC) has
 * room, so a flooding peer is held back by the kernel's socket buffers,
 * not by our memory.  vCPU threads wake the loop through an eventfd. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "engines/vm/machine.h"

#define PARTIAL_FLUSH_MS 20

void vm_machine_wake(struct vm_machine *m)
{
	uint64_t one = 1;
	if (write(m->wake_fd, &one, sizeof(one)) < 0) {
		/* already pending (EAGAIN): the loop will wake anyway */
	}
}

/* ttyS0 output: straight into the console queue (never blocks). */
static void console_tx(void *ctx)
{
	struct vm_machine *m = ctx;
	uint8_t buf[VM_UART_TXBUF];
	pthread_mutex_lock(&m->con_lock);
	size_t n = vm_uart_tx_peek(&m->uart[0], buf, sizeof(buf));
	vm_uart_tx_consume(&m->uart[0], n);
	if (n)
		vm_console_write(&m->console, buf, n); /* in order: under con_lock */
	pthread_mutex_unlock(&m->con_lock);
}

/* ttyS1 output: writes whole lines at once (the agent's answers leave
 * without delay); a partial line, or a front end that is not reading,
 * is left to the I/O loop. */
static void control_flush(struct vm_machine *m, int all)
{
	uint8_t buf[VM_UART_TXBUF];
	pthread_mutex_lock(&m->ctl_lock);
	size_t n = vm_uart_tx_peek(&m->uart[1], buf, sizeof(buf));
	size_t upto = n;
	if (!all) {
		while (upto && buf[upto - 1] != '\n')
			upto--;
	}
	size_t done = 0;
	m->ctl_blocked = 0;
	while (done < upto) {
		ssize_t w = write(m->cfg.control_fd, buf + done, upto - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			done = n; /* the front end is gone: drop what is queued */
			break;
		}
		if (w <= 0) {
			m->ctl_blocked = 1; /* the front end's socket is full */
			break;
		}
		done += (size_t)w;
	}
	vm_uart_tx_consume(&m->uart[1], done);
	int left = n > done;
	int wake = left && !m->ctl_waiting;
	if (wake)
		m->ctl_since = vlab_now_ns();
	m->ctl_waiting = left;
	pthread_mutex_unlock(&m->ctl_lock);
	if (wake)
		vm_machine_wake(m);
}

static void control_tx(void *ctx)
{
	control_flush(ctx, 0);
}

static void rx_room(void *ctx)
{
	vm_machine_wake(ctx);
}

static void net_kick(void *ctx)
{
	vm_machine_wake(ctx);
}

void vm_machine_uart_hosts(struct vm_machine *m, struct vm_uart_host *con, struct vm_uart_host *ctl)
{
	*con = (struct vm_uart_host){.tx_ready = console_tx, .rx_room = rx_room, .ctx = m};
	*ctl = (struct vm_uart_host){.tx_ready = control_tx, .rx_room = rx_room, .ctx = m};
}

/* Moves what fd has into the UART, as much as it can take.  Returns -1
 * when fd is at its end. */
static int feed(struct vm_uart *u, int fd)
{
	uint8_t buf[VM_UART_RXBUF];
	size_t room = vm_uart_rx_room(u);
	if (!room)
		return 0;
	ssize_t n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n == 0)
		return -1;
	if (n > 0)
		vm_uart_rx_push(u, buf, (size_t)n);
	return 0;
}

int vm_machine_io_loop(struct vm_machine *m, volatile int *stop_flag)
{
	int con_open = m->cfg.console_fd >= 0, ctl_open = m->cfg.control_fd >= 0;
	if (m->net)
		m->net->rx_kick = net_kick, m->net->kick_ctx = m;
	while (__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE) == VM_RUNNING) {
		if (stop_flag && *stop_flag) {
			vm_machine_stop(m, VM_STOP_HOST, "stopped by the front end");
			break;
		}
		int con_in = con_open && vm_uart_rx_room(&m->uart[0]);
		int ctl_in = ctl_open && vm_uart_rx_room(&m->uart[1]);
		int net_in = m->net && __atomic_load_n(&m->net->rx_wanted, __ATOMIC_ACQUIRE);
		/* ttyS1 output left over: a partial line goes out after a short
		 * wait (the rest of it usually follows), output the front end
		 * cannot take yet when its socket has room again. */
		pthread_mutex_lock(&m->ctl_lock);
		int ctl_out = ctl_open && m->ctl_waiting;
		int ctl_full = ctl_out && m->ctl_blocked;
		pthread_mutex_unlock(&m->ctl_lock);
		size_t con_left = vm_console_flush(&m->console);
		struct pollfd p[4] = {
		    {.fd = m->wake_fd, .events = POLLIN},
		    {.fd = con_in ? m->cfg.console_fd : -1, .events = POLLIN},
		    {.fd = ctl_in || ctl_full ? m->cfg.control_fd : -1,
		     .events = (short)((ctl_in ? POLLIN : 0) | (ctl_full ? POLLOUT : 0))},
		    {.fd = net_in ? m->cfg.net_fd : -1, .events = POLLIN},
		};
		int ms = con_left ? PARTIAL_FLUSH_MS : -1;
		if (ctl_out && !ctl_full) {
			uint64_t waited = (vlab_now_ns() - m->ctl_since) / 1000000;
			if (waited >= PARTIAL_FLUSH_MS) {
				control_flush(m, 1);
				continue;
			}
			ms = PARTIAL_FLUSH_MS - (int)waited;
		}
		int r = poll(p, 4, ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		if (p[0].revents) {
			uint64_t v;
			if (read(m->wake_fd, &v, sizeof(v)) < 0) {
				/* nothing pending */
			}
		}
		if (p[1].revents & POLLIN && feed(&m->uart[0], m->cfg.console_fd) < 0)
			con_open = 0;
		else if (p[1].revents & (POLLHUP | POLLERR))
			con_open = 0;
		if (p[2].revents & POLLIN && feed(&m->uart[1], m->cfg.control_fd) < 0)
			ctl_open = 0;
		if (p[2].revents & POLLOUT)
			control_flush(m, 1);
		if (p[3].revents & POLLIN)
			vm_net_receive(m->net);
	}
	return 0;
}

int vm_machine_run(struct vm_machine *m, volatile int *stop_flag, struct vlab_err *err)
{
	if (vm_vcpus_start(m, err) < 0)
		return -1;
	if (vm_machine_io_loop(m, stop_flag) < 0)
		vm_machine_stop(m, VM_STOP_ERROR, "the I/O loop failed");
	vm_vcpus_join(m);
	/* What the guest said last still reaches the front end. */
	control_flush(m, 1);
	vm_console_flush(&m->console);
	return (int)m->stop;
}
