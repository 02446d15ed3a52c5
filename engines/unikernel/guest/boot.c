/* engines/unikernel/guest/boot.c: from the monitor's boot info to main():
 * check the contract, set up the heap and the clock, split the command
 * line into words, run the application and exit with its status. */
#include "uk.h"

_Static_assert(__builtin_offsetof(struct uk_boot_info, first_tsc) == UK_BOOT_FIRST_TSC_OFFSET,
	       "start.S stamps first_tsc at the wrong offset");

const struct uk_boot_info *uk_boot_info;

#define MAX_ARGS 32

_Noreturn void uk_exit(int status)
{
	struct uk_hc_exit e = {.status = (uint64_t)(status & 0xff)};
	for (;;)
		uk_hcall(UK_HC_EXIT, &e);
}

_Noreturn void uk_panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	uk_console_write("panic: ", 7);
	uk_console_write(msg, (size_t)n);
	uk_exit(255);
}

/* Splits the command line copy in place at spaces. */
static int split(char *s, char **argv)
{
	int argc = 0;
	argv[argc++] = UK_LIBOS_NAME;
	while (*s && argc < MAX_ARGS) {
		while (*s == ' ')
			*s++ = '\0';
		if (!*s)
			break;
		argv[argc++] = s;
		while (*s && *s != ' ')
			s++;
	}
	argv[argc] = 0;
	return argc;
}

_Noreturn void uk_boot(const struct uk_boot_info *bi);

_Noreturn void uk_boot(const struct uk_boot_info *bi)
{
	static char cmdline[UK_CMDLINE_MAX];
	static char *argv[MAX_ARGS + 1];
	uk_boot_info = bi;
	if (bi->magic != UK_BOOT_MAGIC || bi->abi_version != UK_ABI_VERSION)
		uk_panic("boot info: magic %#x ABI %u, expected %#x ABI %u", bi->magic,
			 bi->abi_version, UK_BOOT_MAGIC, UK_ABI_VERSION);
	uintptr_t heap_end = bi->mem_size - UK_STACK_BYTES;
	if (bi->image_end >= heap_end)
		uk_panic("no room for a heap: image ends at %#lx, stack starts at %#lx",
			 (unsigned long)bi->image_end, (unsigned long)heap_end);
	uk_heap_init(bi->image_end, heap_end);
	uk_clock_init();
	if (bi->devices & UK_DEV_NET)
		uk_net_init(); /* answers ARP and ping from now on, whenever we wait */
	size_t n = bi->cmdline_len < sizeof(cmdline) - 1 ? bi->cmdline_len : sizeof(cmdline) - 1;
	memcpy(cmdline, (const char *)(uintptr_t)bi->cmdline, n);
	cmdline[n] = '\0';
	int argc = split(cmdline, argv);
	uk_exit(main(argc, argv));
}
