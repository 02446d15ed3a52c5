/* tests/unit/engines/vm/test_uart.c: the 16550A model as Linux's 8250
 * driver probes and drives it: scratch and divisor registers, the FIFO
 * signature in IIR, loopback's MSR mirror, the THR-empty interrupt rules,
 * received data, and the bounded buffers on both sides. */
#include "tests/vtest.h"

#include "engines/vm/uart.h"

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static struct vm_uart u;
static int level, tx_ready_calls, rx_room_calls;

static void line(void *ctx, unsigned gsi, int l)
{
	(void)ctx;
	assert_int_equal(gsi, 4);
	level = l;
}

static void tx_ready(void *ctx)
{
	(void)ctx;
	tx_ready_calls++;
}

static void rx_room(void *ctx)
{
	(void)ctx;
	rx_room_calls++;
}

static const struct vm_irq irq = {.line = line};
static const struct vm_uart_host host = {.tx_ready = tx_ready, .rx_room = rx_room};

static int setup(void **state)
{
	(void)state;
	level = tx_ready_calls = rx_room_calls = 0;
	vm_uart_init(&u, 4, &irq, &host);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_uart_destroy(&u);
	return 0;
}

static uint8_t rd(unsigned reg)
{
	uint8_t v;
	vm_uart_ops.read(&u, reg, &v, 1);
	return v;
}

static void wr(unsigned reg, uint8_t v)
{
	vm_uart_ops.write(&u, reg, &v, 1);
}

static void test_probe_registers(void **state)
{
	(void)state;
	wr(SCR, 0xa5);
	assert_int_equal(rd(SCR), 0xa5);
	wr(LCR, 0x80); /* DLAB: divisor latch at 0 and 1 */
	wr(RBR, 0x01);
	wr(IER, 0x00);
	assert_int_equal(rd(RBR), 0x01);
	assert_int_equal(rd(IER), 0x00);
	wr(LCR, 0x03); /* 8N1 */
	assert_int_equal(rd(LCR), 0x03);
	/* FIFO enabled: IIR's top bits say 16550A. */
	wr(FCR, 0x07);
	assert_int_equal(rd(IIR) & 0xc0, 0xc0);
	/* Loopback: MSR mirrors MCR (Linux's autoconfig expects 0x90 here). */
	wr(MCR, 0x10 | 0x0a);
	assert_int_equal(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0x0b);
	assert_int_equal(rd(MSR) & 0xb0, 0xb0); /* a cable: DCD, DSR, CTS */
	assert_int_equal(rd(LSR) & 0x60, 0x60); /* THR and transmitter empty */
}

static void test_transmit_and_thri(void **state)
{
	(void)state;
	assert_int_equal(rd(IIR) & 0x0f, 0x01); /* nothing pending */
	wr(IER, 0x02);				/* enable THR-empty */
	assert_int_equal(level, 1);
	assert_int_equal(rd(IIR) & 0x0f, 0x02);
	assert_int_equal(level, 0); /* reading IIR acknowledged it */
	assert_int_equal(rd(IIR) & 0x0f, 0x01);
	wr(RBR, 'h');
	wr(RBR, 'i');
	assert_int_equal(tx_ready_calls, 2);
	assert_int_equal(level, 1); /* the byte left: THR empty again */
	char out[8];
	assert_int_equal(vm_uart_tx_peek(&u, out, sizeof(out)), 2);
	assert_memory_equal(out, "hi", 2);
	vm_uart_tx_consume(&u, 2);
	assert_int_equal(vm_uart_tx_peek(&u, out, sizeof(out)), 0);
	/* Loopback data goes back to the receiver, not out. */
	wr(MCR, 0x10);
	wr(RBR, 'L');
	assert_int_equal(rd(LSR) & 1, 1);
	assert_int_equal(rd(RBR), 'L');
	assert_int_equal(tx_ready_calls, 2);
}

static void test_receive(void **state)
{
	(void)state;
	wr(IER, 0x01);
	assert_int_equal(vm_uart_rx_push(&u, "ok\n", 3), 3);
	assert_int_equal(level, 1);
	assert_int_equal(rd(IIR) & 0x0f, 0x04);
	assert_int_equal(rd(LSR) & 1, 1);
	assert_int_equal(rd(RBR), 'o');
	assert_int_equal(rd(RBR), 'k');
	assert_int_equal(rd(RBR), '\n');
	assert_int_equal(rd(LSR) & 1, 0);
	assert_int_equal(level, 0);
	/* FCR can clear what is queued. */
	vm_uart_rx_push(&u, "xyz", 3);
	wr(FCR, 0x03);
	assert_int_equal(rd(LSR) & 1, 0);
}

static void test_bounded_buffers(void **state)
{
	(void)state;
	static char big[VM_UART_RXBUF + 100];
	memset(big, 'x', sizeof(big));
	/* Input: only what fits is taken; the host is told when room returns. */
	assert_int_equal(vm_uart_rx_push(&u, big, sizeof(big)), VM_UART_RXBUF);
	assert_int_equal(vm_uart_rx_room(&u), 0);
	for (int i = 0; i < VM_UART_RXBUF; i++)
		rd(RBR);
	assert_int_equal(rx_room_calls, 1);
	assert_int_equal(vm_uart_rx_room(&u), VM_UART_RXBUF);
	/* Output: a host that does not drain makes the THR busy. */
	for (int i = 0; i < VM_UART_TXBUF - 16; i++)
		wr(RBR, 'y');
	assert_int_equal(rd(LSR) & 0x20, 0x20);
	wr(RBR, 'y');
	assert_int_equal(rd(LSR) & 0x20, 0); /* fewer than 16 free: busy */
	for (int i = 0; i < 100; i++)
		wr(RBR, 'z'); /* a guest ignoring THRE loses bytes, we do not grow */
	assert_int_equal(u.tx_len, VM_UART_TXBUF);
	assert_true(u.tx_lost > 0);
	wr(IER, 0x02);
	rd(IIR);
	vm_uart_tx_consume(&u, 1024);
	assert_int_equal(rd(LSR) & 0x20, 0x20);
	assert_int_equal(level, 1); /* room again: THR-empty interrupt */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_probe_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transmit_and_thri, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounded_buffers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
