/* engines/container/slice.c: the runtime's latency hint to the scheduler.
 *
 * Linux's EEVDF scheduler (6.12) takes a requested time slice for ordinary
 * tasks (sched_attr.sched_runtime): a short slice gives a task an earlier
 * deadline, so it gets the CPU soon after it wakes or is made, and is
 * preempted sooner; its share of the CPU stays the same.  Starting a
 * container is a chain of short steps in fresh processes, each of which
 * would otherwise wait a full turn behind every busy task on a loaded
 * machine: the runtime, its init and the program's process ask for a short
 * slice, which the program keeps until it has started (its READY) and the
 * runtime gives it the default back, so that what it measures is measured
 * as on the host.  (Older kernels ignore the hint.) */
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engines/container/ct.h"

#define SHORT_SLICE_NS 200000ull /* 0.2 ms; the kernel takes 0.1 to 100 ms */

/* sched_setattr's argument, its first version (SCHED_ATTR_SIZE_VER0):
 * <linux/sched/types.h> cannot be included beside glibc's <sched.h>. */
struct sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static void set_slice(uint64_t ns)
{
	struct sched_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = 0; /* SCHED_OTHER */
	a.sched_runtime = ns; /* 0: the default slice */
	syscall(SYS_sched_setattr, 0, &a, 0);
}

void ct_slice_short(void)
{
	set_slice(SHORT_SLICE_NS);
}

void ct_slice_default(void)
{
	set_slice(0);
}

int ct_slice_default_pid(pid_t pid)
{
	struct sched_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	return (int)syscall(SYS_sched_setattr, pid, &a, 0);
}
