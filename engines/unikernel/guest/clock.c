/* engines/unikernel/guest/clock.c: time without exits.  The monitor hands
 * over its clocks together with the TSC value they correspond to and the
 * TSC's rate; from then on a clock read is one rdtsc (CPL 3 may read it),
 * not a 30-microsecond round trip to the monitor.  Without a known rate,
 * every read asks the monitor. */
#include "uk.h"

static uint64_t tsc_base, mono_base, wall_base;
static uint64_t mult; /* ns per tick, as a 32.32 fixed-point number */

void uk_clock_init(void)
{
	const struct uk_boot_info *bi = uk_boot_info;
	if (!bi->tsc_hz || !bi->tsc_base)
		return;
	tsc_base = bi->tsc_base;
	mono_base = bi->monotonic_base_ns;
	wall_base = bi->wall_base_ns;
	mult = (1000000000ull << 32) / bi->tsc_hz;
}

static uint64_t since_base(void)
{
	uint64_t d = uk_rdtsc() - tsc_base;
	return (uint64_t)(((unsigned __int128)d * mult) >> 32);
}

static void ask(struct uk_hc_clock *c)
{
	*c = (struct uk_hc_clock){0};
	uk_hcall(UK_HC_CLOCK, c);
}

uint64_t uk_now_ns(void)
{
	if (mult)
		return mono_base + since_base();
	struct uk_hc_clock c;
	ask(&c);
	return c.monotonic_ns;
}

uint64_t uk_wall_ns(void)
{
	if (mult)
		return wall_base + since_base();
	struct uk_hc_clock c;
	ask(&c);
	return c.wall_ns;
}
