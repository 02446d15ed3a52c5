/* engines/vm/power.c: the ACPI PM1a registers: power off. */
#include "engines/vm/power.h"

#include <string.h>

#define SCI_EN 0x0001 /* ACPI mode: always on, there is no SMM to leave */
#define SLP_TYP_SHIFT 10
#define SLP_TYP_MASK 0x1c00
#define SLP_EN 0x2000

const char *vm_stop_name(enum vm_stop_reason why)
{
	switch (why) {
	case VM_RUNNING:
		return "running";
	case VM_STOP_POWEROFF:
		return "poweroff";
	case VM_STOP_REBOOT:
		return "reboot";
	case VM_STOP_TRIPLE_FAULT:
		return "triple fault";
	case VM_STOP_HOST:
		return "stopped by the host";
	default:
		return "error";
	}
}

/* Offsets: 0 PM1 status, 2 PM1 enable, 4 PM1 control. */
static void pm_read(void *dev, uint64_t off, void *data, unsigned len)
{
	const struct vm_pm *pm = dev;
	uint8_t regs[6] = {0};
	uint16_t cnt = (uint16_t)((pm->cnt & ~SLP_EN) | SCI_EN);
	memcpy(regs + 2, &pm->en, 2);
	memcpy(regs + 4, &cnt, 2);
	memset(data, 0, len);
	memcpy(data, regs + off, off + len <= sizeof(regs) ? len : sizeof(regs) - off);
}

static void pm_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_pm *pm = dev;
	uint16_t v = 0;
	memcpy(&v, data, len < 2 ? len : 2);
	if (off == 2 && len == 2) {
		pm->en = v;
	} else if (off == 4 && len == 2) {
		pm->cnt = v;
		if ((v & SLP_EN) && (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT == VM_PM_SLP_TYP_S5 &&
		    pm->power && pm->power->stop)
			pm->power->stop(pm->power->ctx, VM_STOP_POWEROFF);
	}
	/* Status bits are write-one-to-clear; none is ever set. */
}

const struct vm_io_ops vm_pm_ops = {.read = pm_read, .write = pm_write};
