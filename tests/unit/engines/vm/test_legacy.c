/* tests/unit/engines/vm/test_legacy.c: the PC's small devices and the
 * console queue: i8042 reset (both ways a guest asks), ACPI power off
 * (S5 only), the CMOS clock, and the bounded console with its boot-phase
 * spotting. */
#include "tests/vtest.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/vm/console.h"
#include "engines/vm/i8042.h"
#include "engines/vm/power.h"
#include "engines/vm/rtc.h"

static enum vm_stop_reason stopped;

static void stop(void *ctx, enum vm_stop_reason why)
{
	(void)ctx;
	stopped = why;
}

static const struct vm_power power = {.stop = stop};

static void out8(const struct vm_io_ops *ops, void *dev, uint64_t off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

static uint8_t in8(const struct vm_io_ops *ops, void *dev, uint64_t off)
{
	uint8_t v;
	ops->read(dev, off, &v, 1);
	return v;
}

static void test_i8042_reset(void **state)
{
	(void)state;
	struct vm_i8042 k;
	vm_i8042_init(&k, &power);
	stopped = VM_RUNNING;
	assert_int_equal(in8(&vm_i8042_cmd_ops, &k, 0) & 0x02, 0); /* input buffer empty */
	out8(&vm_i8042_cmd_ops, &k, 0, 0xd1);			   /* write output port ... */
	out8(&vm_i8042_data_ops, &k, 0, 0x03); /* ... with reset high: nothing */
	assert_int_equal(stopped, VM_RUNNING);
	out8(&vm_i8042_cmd_ops, &k, 0, 0xfe); /* pulse reset */
	assert_int_equal(stopped, VM_STOP_REBOOT);
	stopped = VM_RUNNING;
	out8(&vm_i8042_cmd_ops, &k, 0, 0xd1);
	out8(&vm_i8042_data_ops, &k, 0, 0x02); /* reset line low */
	assert_int_equal(stopped, VM_STOP_REBOOT);
	vm_i8042_destroy(&k);
}

static void test_acpi_poweroff(void **state)
{
	(void)state;
	struct vm_pm pm = {.power = &power};
	uint16_t v;
	stopped = VM_RUNNING;
	vm_pm_ops.read(&pm, 4, &v, 2);
	assert_true(v & 1); /* SCI_EN: ACPI mode */
	v = 5 << 10;	    /* SLP_TYP 5 without SLP_EN: only prepares */
	vm_pm_ops.write(&pm, 4, &v, 2);
	assert_int_equal(stopped, VM_RUNNING);
	v = 3 << 10 | 1 << 13; /* another sleep state: not ours */
	vm_pm_ops.write(&pm, 4, &v, 2);
	assert_int_equal(stopped, VM_RUNNING);
	v = 5 << 10 | 1 << 13;
	vm_pm_ops.write(&pm, 4, &v, 2);
	assert_int_equal(stopped, VM_STOP_POWEROFF);
	assert_string_equal(vm_stop_name(VM_STOP_POWEROFF), "poweroff");
}

static void test_cmos_clock(void **state)
{
	(void)state;
	struct vm_rtc r;
	vm_rtc_init(&r);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	out8(&vm_rtc_ops, &r, 0, 0x0b);
	assert_int_equal(in8(&vm_rtc_ops, &r, 1) & 0x06, 0x02); /* 24 h, BCD */
	out8(&vm_rtc_ops, &r, 0, 0x0a);
	assert_int_equal(in8(&vm_rtc_ops, &r, 1) & 0x80, 0); /* no update in progress */
	/* Every field as gmtime_r() has it (a second boundary aside). */
	const struct {
		unsigned reg;
		int *want;
		int add;
	} f[] = {{0x09, &tm.tm_year, 0}, {0x08, &tm.tm_mon, 1},	 {0x07, &tm.tm_mday, 0},
		 {0x06, &tm.tm_wday, 1}, {0x04, &tm.tm_hour, 0}, {0x02, &tm.tm_min, 0}};
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		out8(&vm_rtc_ops, &r, 0, (uint8_t)f[i].reg);
		uint8_t v = in8(&vm_rtc_ops, &r, 1);
		assert_int_equal((v >> 4) * 10 + (v & 15), (*f[i].want + f[i].add) % 100);
	}
	out8(&vm_rtc_ops, &r, 0, 0x32);
	assert_int_equal(in8(&vm_rtc_ops, &r, 1), 0x20);
	/* Binary mode, and plain CMOS memory. */
	out8(&vm_rtc_ops, &r, 0, 0x0b);
	out8(&vm_rtc_ops, &r, 1, 0x06);
	out8(&vm_rtc_ops, &r, 0, 0x08);
	assert_int_equal(in8(&vm_rtc_ops, &r, 1), tm.tm_mon + 1);
	out8(&vm_rtc_ops, &r, 0, 0x40);
	out8(&vm_rtc_ops, &r, 1, 0x77);
	assert_int_equal(in8(&vm_rtc_ops, &r, 1), 0x77);
	vm_rtc_destroy(&r);
}

static void test_console(void **state)
{
	(void)state;
	assert_true(vm_console_is_kernel_line("[    0.000000] Linux version 6.1", 32));
	assert_true(vm_console_is_kernel_line("[   12.5] x", 11));
	assert_false(vm_console_is_kernel_line("SeaBIOS (version 1.16)", 22));
	assert_false(vm_console_is_kernel_line("[ ok ]", 6));
	assert_true(vm_console_is_kernel_line("Linux version 6.1.0", 19));

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	struct vm_console *c = malloc(sizeof(*c));
	vm_console_init(c, sv[0], NULL);
	vm_console_write(c, "hello\n", 6);
	char buf[64];
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 6);
	/* Nobody reads: the queue fills to its bound, then drops. */
	static char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		vm_console_write(c, chunk, sizeof(chunk));
	assert_true(c->dropped > 0);
	assert_true(c->len <= VM_CONSOLE_BUF);
	vm_console_destroy(c);
	free(c);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_i8042_reset),
	    cmocka_unit_test(test_acpi_poweroff),
	    cmocka_unit_test(test_cmos_clock),
	    cmocka_unit_test(test_console),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
