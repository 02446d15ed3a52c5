/* engines/vm/power.h: how the guest turns the machine off or resets it.
 *
 * Devices that can end the machine call a struct vm_power; the machine
 * stops every vCPU and the VMM exits with the reason.  Two devices use it:
 *   - the ACPI PM1a registers the FADT points at: writing SLP_TYP 5 (the
 *     DSDT's \_S5) with SLP_EN to PM1a control is "power off";
 *   - the i8042 keyboard controller (i8042.c): command 0xfe pulses the
 *     CPU reset line, the PC's classic reboot (the FADT's reset register
 *     points there too). */
#ifndef VLAB_ENGINES_VM_POWER_H
#define VLAB_ENGINES_VM_POWER_H

#include "engines/vm/iobus.h"

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,     /* the guest powered off */
	VM_STOP_REBOOT,	      /* the guest reset the machine */
	VM_STOP_TRIPLE_FAULT, /* the CPU shut down: the guest crashed */
	VM_STOP_HOST,	      /* the front end asked us to stop */
	VM_STOP_ERROR,	      /* the VMM could not go on */
};

struct vm_power {
	void (*stop)(void *ctx, enum vm_stop_reason why);
	void *ctx;
};

/* "poweroff", "reboot", ... */
const char *vm_stop_name(enum vm_stop_reason why);

/* PM1a event block (status, enable: 2 bytes each), then PM1a control. */
#define VM_PM1A_EVT 0x600
#define VM_PM1A_CNT 0x604
#define VM_PM_PORTS 6
#define VM_PM_SLP_TYP_S5 5

struct vm_pm {
	const struct vm_power *power;
	uint16_t en, cnt; /* what the guest wrote */
};

/* The PM1a registers at VM_PM1A_EVT: dev is a struct vm_pm. */
extern const struct vm_io_ops vm_pm_ops;

#endif
