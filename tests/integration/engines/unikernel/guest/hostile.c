/* hostile: a test guest that breaks the rules, one way per run, named by
 * its command line.  It says READY first (so the test knows it booted),
 * then misbehaves.  The monitor must stop it with a clear message, never
 * crash, and never touch the host's disk file.  Reaching the end of main
 * means the monitor let the misbehaviour through: exit status 99. */
#include "uk.h"

/* A hypercall with an arbitrary argument value, even one no pointer has. */
static void raw_hcall(unsigned nr, uint32_t value)
{
	__asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"((uint16_t)UK_HC_PORT(nr)) : "memory");
}

static struct uk_hc_io io;
static struct uk_hc_block_io bio;
static uint8_t sector[512];

static void run(const char *c)
{
	uint64_t mem = uk_boot_info->mem_size, cap = uk_block_capacity();
	if (!strcmp(c, "arg-end-of-ram")) { /* the struct straddles the end of RAM */
		raw_hcall(UK_HC_CONSOLE_WRITE, (uint32_t)(mem - 8));
	} else if (!strcmp(c, "arg-past-ram")) {
		raw_hcall(UK_HC_CLOCK, 0xfffffff8u);
	} else if (!strcmp(c, "arg-misaligned")) {
		raw_hcall(UK_HC_CLOCK, (uint32_t)(uintptr_t)&io + 4);
	} else if (!strcmp(c, "buf-end-of-ram")) {
		io = (struct uk_hc_io){.data = mem - 4, .len = 16};
		uk_hcall(UK_HC_CONSOLE_WRITE, &io);
	} else if (!strcmp(c, "buf-wrap")) { /* pointer + length wraps past 2^64 */
		io = (struct uk_hc_io){.data = 0xfffffffffffffff0ull, .len = 0x20};
		uk_hcall(UK_HC_CTL_WRITE, &io);
	} else if (!strcmp(c, "block-past-end")) {
		bio = (struct uk_hc_block_io){.offset = cap, .data = (uintptr_t)sector, .len = 512};
		uk_hcall(UK_HC_BLOCK_WRITE, &bio);
	} else if (!strcmp(c, "block-overflow")) { /* offset + length wraps */
		bio = (struct uk_hc_block_io){
		    .offset = 0ull - 512, .data = (uintptr_t)sector, .len = 1024};
		uk_hcall(UK_HC_BLOCK_WRITE, &bio);
	} else if (!strcmp(c, "block-buf-outside")) { /* a good offset, a bad buffer */
		bio = (struct uk_hc_block_io){.offset = 0, .data = mem - 512, .len = 1024};
		uk_hcall(UK_HC_BLOCK_WRITE, &bio);
	} else if (!strcmp(c, "unknown-hypercall")) {
		raw_hcall(99, (uint32_t)(uintptr_t)&io);
	} else if (!strcmp(c, "byte-out")) {
		__asm__ volatile("outb %%al, %w0"
				 :
				 : "Nd"((uint16_t)UK_HC_PORT(UK_HC_CLOCK)), "a"(0));
	} else if (!strcmp(c, "trap-port")) {
		__asm__ volatile("outl %%eax, %w0" : : "Nd"((uint16_t)UK_TRAP_PORT), "a"(14));
	} else if (!strcmp(c, "exit-status")) {
		struct uk_hc_exit e = {.status = 300};
		uk_hcall(UK_HC_EXIT, &e);
	} else if (!strcmp(c, "unmapped-write")) {
		*(volatile uint64_t *)(1ull << 40) = 1;
	} else if (!strcmp(c, "hlt")) {
		__asm__ volatile("hlt");
	} else if (!strcmp(c, "ud2")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(c, "triple-fault")) { /* no exception vectors left */
		memset((void *)(uintptr_t)UK_IDT_GPA, 0, 4096);
		__asm__ volatile("ud2");
	} else {
		printf("hostile: no case named %s\n", c);
	}
}

int main(int argc, char **argv)
{
	static const char ready[] = "READY hostile\n";
	uk_ctl_write(ready, sizeof(ready) - 1);
	for (int i = 1; i < argc; i++)
		run(argv[i]);
	printf("hostile: the monitor let it through\n");
	return 99;
}
