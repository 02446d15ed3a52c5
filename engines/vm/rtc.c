/* engines/vm/rtc.c: the CMOS clock. */
#include "engines/vm/rtc.h"

#include <string.h>
#include <time.h>

enum {
	SEC = 0,
	MIN = 2,
	HOUR = 4,
	WDAY = 6,
	MDAY = 7,
	MON = 8,
	YEAR = 9,
	REG_A = 10,
	REG_B = 11,
	REG_C = 12,
	REG_D = 13,
	CENTURY = 0x32
};
#define B_24H 0x02
#define B_BINARY 0x04
#define D_VALID 0x80

void vm_rtc_init(struct vm_rtc *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[REG_B] = B_24H;
	r->cmos[REG_D] = D_VALID;
}

void vm_rtc_destroy(struct vm_rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}

static uint8_t enc(const struct vm_rtc *r, int v)
{
	return r->cmos[REG_B] & B_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* UTC calendar fields of now.  By hand, not gmtime_r(): glibc reads
 * /etc/localtime on its first call, and the confined VMM may open
 * nothing (engines/confine.h).  Days to civil date: H. Hinnant's
 * algorithm, proleptic Gregorian. */
static void utc_now(struct tm *tm)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t t = ts.tv_sec, days = t / 86400, secs = t % 86400;
	if (secs < 0)
		secs += 86400, days--;
	memset(tm, 0, sizeof(*tm));
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	tm->tm_mday = (int)d;
	tm->tm_mon = (int)m - 1;
	tm->tm_year = (int)(yoe + era * 400 + (m <= 2)) - 1900;
}

static uint8_t reg(struct vm_rtc *r, unsigned i)
{
	struct tm tm;
	utc_now(&tm);
	switch (i) {
	case SEC:
		return enc(r, tm.tm_sec);
	case MIN:
		return enc(r, tm.tm_min);
	case HOUR:
		if (r->cmos[REG_B] & B_24H)
			return enc(r, tm.tm_hour);
		return (uint8_t)(enc(r, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12) |
				 (tm.tm_hour >= 12 ? 0x80 : 0));
	case WDAY:
		return enc(r, tm.tm_wday + 1);
	case MDAY:
		return enc(r, tm.tm_mday);
	case MON:
		return enc(r, tm.tm_mon + 1);
	case YEAR:
		return enc(r, tm.tm_year % 100);
	case CENTURY:
		return enc(r, 19 + tm.tm_year / 100);
	case REG_A:
		return r->cmos[REG_A] & 0x7f; /* never "update in progress" */
	case REG_C:
		return 0; /* no interrupt flags */
	default:
		return r->cmos[i];
	}
}

static void rtc_read(void *dev, uint64_t off, void *data, unsigned len)
{
	struct vm_rtc *r = dev;
	memset(data, 0, len);
	pthread_mutex_lock(&r->lock);
	*(uint8_t *)data = off == 0 ? 0xff : reg(r, r->index);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	struct vm_rtc *r = dev;
	(void)len;
	uint8_t v = *(const uint8_t *)data;
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = v & 0x7f; /* bit 7 masks NMIs on a real PC */
	else if (r->index == REG_A || r->index == REG_B || r->index > REG_D)
		r->cmos[r->index] = v; /* the clock itself follows the host */
	pthread_mutex_unlock(&r->lock);
}

const struct vm_io_ops vm_rtc_ops = {.read = rtc_read, .write = rtc_write};
