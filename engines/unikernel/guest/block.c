/* engines/unikernel/guest/block.c: the block driver.  The monitor checks
 * every request; the driver checks first anyway, so a bad offset is an
 * error the application sees rather than a stopped guest, and splits
 * transfers into the largest pieces the monitor takes per call (each call
 * is an exit: fewer, larger calls are faster). */
#include "uk.h"

static struct uk_hc_block_info info;
static int probed;

uint64_t uk_block_capacity(void)
{
	if (!probed) {
		info = (struct uk_hc_block_info){0};
		uk_hcall(UK_HC_BLOCK_INFO, &info);
		if (info.ret < 0 || !info.block_size || !info.max_io)
			info = (struct uk_hc_block_info){.ret = -UK_ENODEV};
		probed = 1;
	}
	return info.ret < 0 ? 0 : info.capacity;
}

static int transfer(enum uk_hc nr, uint64_t off, const void *buf, size_t len)
{
	uint64_t cap = uk_block_capacity();
	if (!cap)
		return -UK_ENODEV;
	if (off % info.block_size || len % info.block_size || off > cap || len > cap - off)
		return -UK_EIO;
	while (len) {
		size_t n = len < info.max_io ? len : (size_t)info.max_io;
		struct uk_hc_block_io io = {.offset = off, .data = (uintptr_t)buf, .len = n};
		uk_hcall(nr, &io);
		if (io.ret < 0)
			return (int)io.ret;
		off += n;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

int uk_block_read(uint64_t off, void *buf, size_t len)
{
	return transfer(UK_HC_BLOCK_READ, off, buf, len);
}

int uk_block_write(uint64_t off, const void *buf, size_t len)
{
	return transfer(UK_HC_BLOCK_WRITE, off, buf, len);
}

int uk_block_flush(void)
{
	if (!uk_block_capacity())
		return -UK_ENODEV;
	struct uk_hc_block_io io = {0};
	uk_hcall(UK_HC_BLOCK_FLUSH, &io);
	return (int)io.ret;
}
