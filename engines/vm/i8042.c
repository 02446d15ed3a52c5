/* engines/vm/i8042.c: keyboard controller reset. */
#include "engines/vm/i8042.h"

#include <string.h>

#define STATUS_SYS 0x04 /* self-test passed */
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_RESET 0xfe
#define OUT_NRESET 0x01

void vm_i8042_init(struct vm_i8042 *k, const struct vm_power *power)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->power = power;
}

void vm_i8042_destroy(struct vm_i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static void reset(struct vm_i8042 *k)
{
	if (k->power && k->power->stop)
		k->power->stop(k->power->ctx, VM_STOP_REBOOT);
}

static void data_read(void *dev, uint64_t off, void *data, unsigned len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len); /* no keyboard, nothing to read */
}

static void cmd_read(void *dev, uint64_t off, void *data, unsigned len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len);
	*(uint8_t *)data = STATUS_SYS; /* input buffer empty, no output */
}

static void data_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_i8042 *k = dev;
	(void)off;
	(void)len;
	uint8_t v = *(const uint8_t *)data;
	pthread_mutex_lock(&k->lock);
	int do_reset = k->pending && !(v & OUT_NRESET);
	k->pending = 0;
	pthread_mutex_unlock(&k->lock);
	if (do_reset)
		reset(k);
}

static void cmd_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_i8042 *k = dev;
	(void)off;
	(void)len;
	uint8_t v = *(const uint8_t *)data;
	pthread_mutex_lock(&k->lock);
	k->pending = v == CMD_WRITE_OUTPUT;
	pthread_mutex_unlock(&k->lock);
	if (v == CMD_RESET)
		reset(k);
}

const struct vm_io_ops vm_i8042_data_ops = {.read = data_read, .write = data_write};
const struct vm_io_ops vm_i8042_cmd_ops = {.read = cmd_read, .write = cmd_write};
