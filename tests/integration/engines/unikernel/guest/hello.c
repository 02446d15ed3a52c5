/* hello: the well-behaved test guest.  Says hello on the console and the
 * control channel, then does what its command line asks, in order:
 *   echo        answers control-channel lines "<id> <words>" with
 *               "<id> ok <words>" (the agent protocol's shape) until "<id> bye"
 *               or a stop request
 *   spin        computes for ever, ignoring stop requests
 *   disk        writes a pattern to the block device, flushes, reads it back
 *   clock       checks the clock moves forward
 *   exit=N      exits with status N (default 0)
 */
#include "uk.h"

static int disk(void)
{
	uint64_t cap = uk_block_capacity();
	static uint8_t buf[64 << 10], back[64 << 10];
	if (cap < sizeof(buf)) {
		printf("disk: capacity %lu too small\n", (unsigned long)cap);
		return 1;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memcpy(buf, "VLAB-UK-DISK", 12);
	uint64_t off = cap - sizeof(buf); /* the last bytes of the disk */
	if (uk_block_write(0, buf, 4096) < 0 || uk_block_write(off, buf, sizeof(buf)) < 0 ||
	    uk_block_flush() < 0 || uk_block_read(off, back, sizeof(back)) < 0) {
		printf("disk: I/O failed\n");
		return 1;
	}
	if (memcmp(buf, back, sizeof(buf))) {
		printf("disk: read back differs\n");
		return 1;
	}
	/* Out of range requests are refused by the driver, not sent. */
	if (uk_block_write(cap, buf, 512) == 0 || uk_block_read(1, back, 512) == 0) {
		printf("disk: bad request accepted\n");
		return 1;
	}
	printf("disk: ok capacity=%lu\n", (unsigned long)cap);
	return 0;
}

static int echo(void)
{
	char line[256];
	size_t len = 0;
	for (;;) {
		unsigned got = uk_poll(UK_POLL_CTL, 5000000000ull);
		if (got & UK_POLL_STOP)
			return 0; /* asked to stop: a clean exit */
		if (!(got & UK_POLL_CTL))
			return 1;
		long n = uk_ctl_read(line + len, sizeof(line) - 1 - len);
		if (n < 0)
			return 1;
		len += (size_t)n;
		line[len] = '\0';
		char *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			char *rest = strchr(line, ' ');
			if (rest && !strcmp(rest, " bye"))
				return 0;
			if (rest)
				*rest++ = '\0';
			char out[300];
			int k = snprintf(out, sizeof(out), "%s ok %s\n", line, rest ? rest : "");
			if (uk_ctl_write(out, (size_t)k) < 0)
				return 1;
			size_t left = len - (size_t)(nl + 1 - line);
			memmove(line, nl + 1, left + 1);
			len = left;
		}
		if (len == sizeof(line) - 1)
			return 1;
	}
}

static int clock(void)
{
	uint64_t a = uk_now_ns(), w = uk_wall_ns();
	uk_poll(0, 2000000); /* 2 ms */
	uint64_t b = uk_now_ns();
	if (b < a + 2000000 || b > a + 2000000000ull || w < 1600000000ull * 1000000000ull) {
		printf("clock: bad: %lu -> %lu, wall %lu\n", (unsigned long)a, (unsigned long)b,
		       (unsigned long)w);
		return 1;
	}
	printf("clock: ok slept=%luus\n", (unsigned long)((b - a) / 1000));
	return 0;
}

int main(int argc, char **argv)
{
	char ready[128];
	int n = snprintf(ready, sizeof(ready), "READY hello t=%lu mem=%lu\n",
			 (unsigned long)uk_now_ns(), (unsigned long)uk_boot_info->mem_size);
	uk_ctl_write(ready, (size_t)n);
	printf("hello from the unikernel: %d args, %.1f MiB heap\n", argc - 1,
	       (double)uk_heap_size() / (1 << 20));
	int status = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "echo"))
			status |= echo();
		else if (!strcmp(argv[i], "disk"))
			status |= disk();
		else if (!strcmp(argv[i], "clock"))
			status |= clock();
		else if (!strcmp(argv[i], "spin"))
			for (volatile uint64_t x = 0;; x++)
				;
		else if (!strncmp(argv[i], "exit=", 5))
			return (int)strtoull(argv[i] + 5, 0, 10);
	}
	return status;
}
