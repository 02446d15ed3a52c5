/* engines/counters.c: the shared counter page. */
#include "engines/counters.h"

#include <string.h>

void vlab_counters_init(struct vlab_counters *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->magic = VLAB_COUNTERS_MAGIC;
}

size_t vlab_counters_count(const struct vlab_counters *cs)
{
	if (!cs || cs->magic != VLAB_COUNTERS_MAGIC)
		return 0;
	uint32_t n = __atomic_load_n(&cs->n, __ATOMIC_ACQUIRE);
	return n > VLAB_COUNTERS_MAX ? VLAB_COUNTERS_MAX : n;
}

int vlab_counters_id(struct vlab_counters *cs, const char *name)
{
	if (!cs)
		return -1;
	size_t n = vlab_counters_count(cs);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(cs->c[i].name, name, VLAB_COUNTER_NAME))
			return (int)i;
	if (n == VLAB_COUNTERS_MAX)
		return -1;
	strncpy(cs->c[n].name, name, VLAB_COUNTER_NAME - 1);
	cs->c[n].name[VLAB_COUNTER_NAME - 1] = '\0';
	cs->c[n].value = 0;
	__atomic_store_n(&cs->n, (uint32_t)n + 1, __ATOMIC_RELEASE);
	return (int)n;
}

uint64_t vlab_counters_get(const struct vlab_counters *cs, const char *name)
{
	size_t n = vlab_counters_count(cs);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(cs->c[i].name, name, VLAB_COUNTER_NAME))
			return __atomic_load_n(&cs->c[i].value, __ATOMIC_RELAXED);
	return 0;
}

size_t vlab_counters_snapshot(const struct vlab_counters *cs, struct vlab_counter *out,
			      size_t max)
{
	size_t n = vlab_counters_count(cs);
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		memcpy(out[i].name, cs->c[i].name, VLAB_COUNTER_NAME);
		out[i].name[VLAB_COUNTER_NAME - 1] = '\0';
		out[i].value = __atomic_load_n(&cs->c[i].value, __ATOMIC_RELAXED);
	}
	return n;
}
