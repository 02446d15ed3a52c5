/* engines/vm/rtc.h: the PC's CMOS real-time clock (MC146818): index port
 * 0x70, data port 0x71.  The time registers read the host's clock (UTC),
 * in BCD or binary and 12- or 24-hour form as register B asks; the update
 * is never "in progress"; the rest of the 128 bytes of CMOS is plain
 * memory.  Linux reads it at boot, and so can a student's guest. */
#ifndef VLAB_ENGINES_VM_RTC_H
#define VLAB_ENGINES_VM_RTC_H

#include <pthread.h>
#include <stdint.h>

#include "engines/vm/iobus.h"

#define VM_RTC_PORT 0x70

struct vm_rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
};

void vm_rtc_init(struct vm_rtc *r);
void vm_rtc_destroy(struct vm_rtc *r);

/* Two ports at 0x70. */
extern const struct vm_io_ops vm_rtc_ops;

#endif
