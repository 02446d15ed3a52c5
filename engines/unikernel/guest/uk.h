/* engines/unikernel/guest/uk.h: the vlab library OS, as its application
 * sees it.  The library OS is linked into the application: boot code,
 * an allocator, the libc subset the agent needs, console, clock, the
 * control channel, a block driver and a small network stack (ARP, IPv4,
 * ICMP echo, UDP), all on the hypercalls of uk_abi.h.  Freestanding: no
 * host header, no host libc.
 *
 * The application provides main(); the library OS calls it with the
 * command line split into words and exits with its return value. */
#ifndef VLAB_UK_GUEST_UK_H
#define VLAB_UK_GUEST_UK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "engines/unikernel/uk_abi.h"

#define UK_LIBOS_NAME "vlab-uk"
#define UK_LIBOS_VERSION "0.1"

int main(int argc, char **argv);

/* ---- boot ---- */
extern const struct uk_boot_info *uk_boot_info; /* as the monitor wrote it */
_Noreturn void uk_exit(int status);
/* Prints "panic: ..." on the console and exits with status 255. */
_Noreturn void uk_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- libc subset (standard meaning) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
unsigned long long strtoull(const char *s, char **end, int base);
/* printf family: %d %i %u %x %X %o %c %s %p %%, flags -+ 0#, width,
 * precision, * and the l/ll/z/h/hh/j/t sizes; %f %e %g for doubles. */
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* to the console */
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

/* ---- memory ---- */
/* Page-aligned, zeroed memory (fresh pages are not touched: they cost the
 * host nothing until used).  NULL when there is not enough. */
void *uk_page_alloc(size_t bytes);
void uk_page_free(void *p, size_t bytes);
/* Heap bytes free, and the heap's size. */
size_t uk_heap_free(void);
size_t uk_heap_size(void);
void uk_heap_init(uintptr_t start, uintptr_t end); /* by the boot code */

/* ---- console, clock, control channel, waiting ---- */
void uk_console_write(const void *buf, size_t len);
uint64_t uk_now_ns(void);  /* monotonic */
uint64_t uk_wall_ns(void); /* since the epoch */
void uk_clock_init(void);
/* Control channel: bytes read (0: none yet) or -UK_EPIPE / -UK_EIO. */
long uk_ctl_read(void *buf, size_t len);
/* Writes all of buf: 0, or -UK_EPIPE / -UK_EIO. */
int uk_ctl_write(const void *buf, size_t len);
/* Waits up to timeout_ns for input on the channels in events (UK_POLL_*);
 * returns those ready, with UK_POLL_STOP once the instance is asked to
 * stop.  Network input is handed to the stack before returning (see
 * uk_net_poll). */
unsigned uk_poll(unsigned events, uint64_t timeout_ns);

/* ---- block device ---- */
/* Capacity in bytes (0: no disk).  Offsets and lengths must be multiples
 * of 512; the driver splits large transfers. */
uint64_t uk_block_capacity(void);
int uk_block_read(uint64_t off, void *buf, size_t len);
int uk_block_write(uint64_t off, const void *buf, size_t len);
int uk_block_flush(void);

/* ---- network (net/) ---- */
struct uk_netif {
	int up;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t ip, netmask, gateway; /* network byte order */
};
extern struct uk_netif uk_netif;
/* Asks the monitor for the network; 0, or -UK_ENODEV. */
int uk_net_init(void);
/* Receives and handles every frame waiting (ARP, ICMP echo, UDP into the
 * sockets' queues), without blocking.  Returns how many frames it took. */
int uk_net_poll(void);
/* UDP sockets: a handle >= 0, or -1 (port taken, no room, no network). */
int uk_udp_open(uint16_t port, uint16_t *bound);
/* One queued datagram: its length (truncated to len), 0 when none. */
long uk_udp_recv(int sock, void *buf, size_t len, uint32_t *ip, uint16_t *port);
/* Sends one datagram (fragmented when larger than the MTU): 0, or -1. */
int uk_udp_send(int sock, const void *buf, size_t len, uint32_t ip, uint16_t port);
int uk_udp_pending(int sock); /* datagrams queued */
void uk_udp_close(int sock);

/* ---- hypercalls ---- */
static inline void uk_hcall(enum uk_hc nr, void *arg)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)arg), "Nd"((uint16_t)UK_HC_PORT(nr))
			 : "memory");
}

static inline uint64_t uk_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#endif
