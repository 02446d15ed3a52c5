/* engines/vm/i8042.h: the PC keyboard controller, only as much as a
 * reboot needs: the status port reads "ready, nothing to read", command
 * 0xfe (pulse reset) and a write of the output port with bit 0 clear both
 * reset the machine.  There is no keyboard: the FADT tells Linux so. */
#ifndef VLAB_ENGINES_VM_I8042_H
#define VLAB_ENGINES_VM_I8042_H

#include <pthread.h>

#include "engines/vm/power.h"

#define VM_I8042_DATA 0x60
#define VM_I8042_CMD 0x64

struct vm_i8042 {
	pthread_mutex_t lock;
	const struct vm_power *power;
	int pending; /* the last command expects a data byte */
};

void vm_i8042_init(struct vm_i8042 *k, const struct vm_power *power);
void vm_i8042_destroy(struct vm_i8042 *k);

/* Handlers for the data port 0x60 and the command/status port 0x64. */
extern const struct vm_io_ops vm_i8042_data_ops, vm_i8042_cmd_ops;

#endif
