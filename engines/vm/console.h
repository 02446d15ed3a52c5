/* engines/vm/console.h: the guest's human console (ttyS0) on its way to
 * the front end.
 *
 * Output is queued in a bounded buffer and written without blocking:
 * a front end that does not read in time loses console text (counted as
 * console.dropped), never stalls the guest or grows our memory.  The
 * queue also spots the kernel's first console line, a boot phase.
 * Thread-safe: vCPU threads write, the I/O thread flushes. */
#ifndef VLAB_ENGINES_VM_CONSOLE_H
#define VLAB_ENGINES_VM_CONSOLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engines/engine.h"

#define VM_CONSOLE_BUF 65536

struct vm_console {
	pthread_mutex_t lock;
	int fd; /* towards the front end, non-blocking; -1 once it is gone */
	struct vlab_child *child;
	int dropped_id;
	char buf[VM_CONSOLE_BUF];
	size_t len;
	uint64_t dropped;
	char line[128]; /* start of the current line, for the phase check */
	size_t linelen;
	int kernel_seen;
};

/* Sets c up over fd (not owned); child receives the "console" phase. */
void vm_console_init(struct vm_console *c, int fd, struct vlab_child *child);
void vm_console_destroy(struct vm_console *c);

/* Queues guest output; writes at once when a line is complete or the
 * buffer is half full. */
void vm_console_write(struct vm_console *c, const void *data, size_t len);

/* Writes what is queued without blocking.  Returns bytes still queued. */
size_t vm_console_flush(struct vm_console *c);

/* Is this a line the kernel printed (not firmware)?  "Linux version ..."
 * or a printk timestamp "[    0.000000] ...". */
int vm_console_is_kernel_line(const char *line, size_t len);

#endif
