/* engines/counters.h: named event counters shared live between an instance
 * process and the front end (one shared memory page).
 *
 * The instance registers names ("exit.io", "exit.hlt", "hypercall.net_send")
 * and bumps them from its run loop; the front end reads them at any time
 * without a message round trip.  Writers: one process (any of its threads,
 * atomically).  Readers: lock-free. */
#ifndef VLAB_ENGINES_COUNTERS_H
#define VLAB_ENGINES_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define VLAB_COUNTERS_MAX 96
#define VLAB_COUNTER_NAME 40
#define VLAB_COUNTERS_MAGIC 0x564c4354u /* "VLCT" */

struct vlab_counter {
	char name[VLAB_COUNTER_NAME];
	uint64_t value;
};

struct vlab_counters {
	uint32_t magic;
	uint32_t n; /* published entries (release/acquire) */
	struct vlab_counter c[VLAB_COUNTERS_MAX];
};

/* Initialises a zeroed block. */
void vlab_counters_init(struct vlab_counters *cs);

/* Index of name, registering it when new; -1 when the table is full (the
 * counter is then silently not kept).  Not thread-safe against concurrent
 * registration: register in setup, bump anywhere. */
int vlab_counters_id(struct vlab_counters *cs, const char *name);

static inline void vlab_counter_add(struct vlab_counters *cs, int id, uint64_t by)
{
	if (cs && id >= 0)
		__atomic_fetch_add(&cs->c[id].value, by, __ATOMIC_RELAXED);
}

/* Number of published counters (entries 0..n-1 are readable). */
size_t vlab_counters_count(const struct vlab_counters *cs);

/* Current value of name, 0 when absent. */
uint64_t vlab_counters_get(const struct vlab_counters *cs, const char *name);

/* Copies names and values into out (up to max); returns how many. */
size_t vlab_counters_snapshot(const struct vlab_counters *cs, struct vlab_counter *out,
			      size_t max);

#endif
