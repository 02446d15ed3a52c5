/* engines/unikernel/uk_abi.h: the one contract between the unikernel
 * monitor (engines/unikernel/, host side) and its guest, the library OS
 * (engines/unikernel/guest/).  Nothing else crosses that line.
 *
 * The guest is a static x86-64 ELF.  The monitor maps guest RAM at
 * guest-physical 0 (identity-mapped, 2 MiB pages, all user-accessible),
 * loads the ELF and starts it directly in 64-bit mode at its entry point at
 * CPL 3 with IOPL 3, so the guest never needs a privileged instruction:
 *
 *   rip = ELF entry, rsp = mem_size (top of RAM, 16-byte aligned),
 *   rdi = UK_BOOT_INFO_GPA (struct uk_boot_info), interrupts off, SSE on.
 *
 * There are no interrupts: the guest waits with the poll hypercall.
 *
 * A hypercall is one 32-bit `out` (outl %eax, %dx) to port UK_HC_PORT(nr)
 * whose value is the guest-physical address of the call's argument struct.
 * The struct must be 8-byte aligned and lie wholly inside guest RAM; every
 * address and length inside it is checked the same way.  Anything else (an
 * unknown port, a wrong access size, a bad address, a length or offset out
 * of range) is an invalid hypercall: the monitor stops the guest at once
 * with a message saying what was wrong.  Results come back in the struct's
 * `ret` field: >= 0 on success (bytes moved, or 0), a negative UK_E* code on
 * a failure the guest may handle.
 *
 * Guest faults (page fault, general protection, invalid opcode ...) are
 * caught by exception stubs the monitor writes at UK_IDT_GPA/UK_TRAP_GPA;
 * they report to the monitor through UK_TRAP_PORT, which the guest itself
 * must never use.
 *
 * Freestanding: this header needs only <stdint.h>.  Assembly may include it
 * for the constants. */
#ifndef VLAB_ENGINES_UNIKERNEL_UK_ABI_H
#define VLAB_ENGINES_UNIKERNEL_UK_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define UK_ABI_VERSION 1
#define UK_BOOT_MAGIC 0x4b554c56u /* "VLUK" in memory order */

/* ---- guest-physical memory map ---- */
#define UK_PT_GPA 0x1000ull	   /* page tables (monitor-written) */
#define UK_GDT_GPA 0x8000ull	   /* GDT + TSS with its I/O bitmap, 16 KiB */
#define UK_BOOT_INFO_GPA 0xc000ull /* struct uk_boot_info, then the command line */
#define UK_IDT_GPA 0xd000ull	   /* exception vectors 0..31 */
#define UK_TRAP_GPA 0xe000ull	   /* exception stubs */
#define UK_TRAP_STACK 0x10000ull   /* top of the exception stack (4 KiB below) */
#define UK_IMAGE_MIN 0x100000ull   /* lowest address an ELF segment may occupy */
#define UK_STACK_BYTES                                                                             \
	0x100000ull /* the top 1 MiB of RAM is the stack: no                                       \
		     * segment may load there */
#define UK_MEM_MIN (4ull << 20)
#define UK_MEM_MAX (2ull << 30) /* addresses must fit the 32-bit `out` */
#define UK_MEM_ALIGN (2ull << 20)
#define UK_CMDLINE_MAX 2048 /* bytes, NUL included */

/* ---- hypercalls ---- */
#define UK_HC_PORT_BASE 0x500
#define UK_HC_PORT(nr) (UK_HC_PORT_BASE + (nr))
#define UK_TRAP_PORT 0x4ff /* monitor's exception stubs only */

#define UK_NET_FRAME_MAX 1514 /* Ethernet header + 1500, no FCS */
#define UK_POLL_CTL (1u << 0)
#define UK_POLL_NET (1u << 1)
#define UK_POLL_STOP (1u << 2) /* out only: the instance is asked to stop; exit soon */
#define UK_POLL_MAX_NS (3600ull * 1000000000ull)
#define UK_BOOT_FIRST_TSC_OFFSET 88 /* for the entry code in assembly */

#ifndef __ASSEMBLER__
/* A guest-physical address.  The monitor never dereferences one without
 * checking it first. */
typedef uint64_t uk_gpa_t;

enum uk_hc {
	UK_HC_CONSOLE_WRITE = 0, /* struct uk_hc_io: the human console */
	UK_HC_CLOCK = 1,	 /* struct uk_hc_clock */
	UK_HC_POLL = 2,		 /* struct uk_hc_poll */
	UK_HC_BLOCK_INFO = 3,	 /* struct uk_hc_block_info */
	UK_HC_BLOCK_READ = 4,	 /* struct uk_hc_block_io */
	UK_HC_BLOCK_WRITE = 5,	 /* struct uk_hc_block_io */
	UK_HC_BLOCK_FLUSH = 6,	 /* struct uk_hc_block_io (only ret is used) */
	UK_HC_NET_INFO = 7,	 /* struct uk_hc_net_info */
	UK_HC_NET_SEND = 8,	 /* struct uk_hc_io: one Ethernet frame */
	UK_HC_NET_RECV = 9,	 /* struct uk_hc_net_recv: one Ethernet frame, or UK_EAGAIN */
	UK_HC_CTL_READ = 10,	 /* struct uk_hc_io: the control channel, never blocks */
	UK_HC_CTL_WRITE = 11,	 /* struct uk_hc_io: the control channel, all or error */
	UK_HC_EXIT = 12,	 /* struct uk_hc_exit: does not return */
	UK_HC_COUNT
};

/* Failure codes, returned negated in `ret`. */
enum uk_errno {
	UK_EAGAIN = 1, /* nothing there now (net/ctl receive) */
	UK_EIO = 2,    /* the host's side of the device failed */
	UK_ENODEV = 3, /* the device is not present */
	UK_EPIPE = 4,  /* the peer closed the channel (control) */
};

/* Devices present (uk_boot_info.devices). */
#define UK_DEV_CONSOLE (1u << 0)
#define UK_DEV_CONTROL (1u << 1)
#define UK_DEV_BLOCK (1u << 2)
#define UK_DEV_NET (1u << 3)

/* Written by the monitor before the first instruction, at UK_BOOT_INFO_GPA.
 * The command line follows it (cmdline points there). */
struct uk_boot_info {
	uint32_t magic;	      /* UK_BOOT_MAGIC */
	uint32_t abi_version; /* UK_ABI_VERSION */
	uint64_t mem_size;    /* RAM is [0, mem_size) */
	uint64_t image_end;   /* first byte above the loaded image, page aligned:
			       * the heap may use [image_end, mem_size - UK_STACK_BYTES) */
	uint64_t devices;     /* UK_DEV_* */
	uk_gpa_t cmdline;     /* NUL-terminated */
	uint64_t cmdline_len; /* bytes before the NUL */
	uint64_t cpus;	      /* vCPUs (1) */
	/* Time without a hypercall: the guest's TSC read tsc_base when the
	 * host's clocks read monotonic_base_ns and wall_base_ns, and it ticks
	 * tsc_hz times a second.  tsc_hz 0: unknown, use UK_HC_CLOCK. */
	uint64_t tsc_hz;
	uint64_t tsc_base;
	uint64_t monotonic_base_ns;
	uint64_t wall_base_ns;
	/* The guest's first instruction stores rdtsc here: the monitor reports
	 * when the guest started from it. */
	uint64_t first_tsc;
};
/* CONSOLE_WRITE, NET_SEND, CTL_READ, CTL_WRITE. */
struct uk_hc_io {
	uk_gpa_t data; /* buffer */
	uint64_t len;  /* bytes to write / room to read into */
	int64_t ret;   /* bytes moved, or -UK_E* */
};

struct uk_hc_clock {
	uint64_t monotonic_ns; /* out: host CLOCK_MONOTONIC */
	uint64_t wall_ns;      /* out: host CLOCK_REALTIME, since the epoch */
	int64_t ret;
};

/* Waits until one of the channels in `events` (UK_POLL_*) has input, or
 * timeout_ns passes (0: just look), at most UK_POLL_MAX_NS.  Once the
 * instance is asked to stop (SIGTERM), every poll returns at once with
 * UK_POLL_STOP in ready: a guest that then exits ends cleanly, one that
 * does not is stopped by the monitor a second later. */
struct uk_hc_poll {
	uint64_t timeout_ns; /* at most UK_POLL_MAX_NS */
	uint64_t events;     /* UK_POLL_* to wait for */
	uint64_t ready;	     /* out: UK_POLL_* with input waiting */
	int64_t ret;	     /* 0, also on timeout */
	/* Optional (net_data != 0): when a frame is waiting, it is received
	 * into this buffer right away, as UK_HC_NET_RECV would do, saving the
	 * exit that would fetch it. */
	uk_gpa_t net_data;
	uint64_t net_len;
	int64_t net_ret;   /* out: frame length, or -UK_EAGAIN */
	uint64_t net_more; /* out: 1 when another frame is already waiting */
};

struct uk_hc_block_info {
	uint64_t capacity;   /* out: bytes */
	uint64_t block_size; /* out: offsets and lengths are multiples of it */
	uint64_t max_io;     /* out: most bytes one read or write may move */
	int64_t ret;	     /* -UK_ENODEV when there is no disk */
};

/* Reads or writes len bytes at byte offset; both multiples of block_size,
 * offset + len <= capacity, len <= max_io. */
struct uk_hc_block_io {
	uint64_t offset;
	uk_gpa_t data;
	uint64_t len;
	int64_t ret;
};

struct uk_hc_net_info {
	uint8_t mac[6];	  /* out: the guest's own address */
	uint16_t mtu;	  /* out: IP MTU (frames are at most mtu + 14 bytes) */
	uint32_t ip;	  /* out: IPv4, network byte order; 0 when unassigned */
	uint32_t netmask; /* out: network byte order */
	uint32_t gateway; /* out: the lab network's host side, network order */
	uint32_t reserved;
	int64_t ret; /* -UK_ENODEV when there is no network */
};

/* One received frame.  `more` saves the exit that would only learn that
 * nothing else is waiting. */
struct uk_hc_net_recv {
	uk_gpa_t data; /* room for at least mtu + 14 bytes */
	uint64_t len;
	int64_t ret;   /* frame length, or -UK_EAGAIN when none is waiting */
	uint64_t more; /* out: 1 when another frame is already waiting */
};

struct uk_hc_exit {
	uint64_t status; /* 0..255: the instance's exit status */
};

/* Both sides compile these: a layout change is a compile error. */
_Static_assert(sizeof(struct uk_boot_info) == 96, "uk_boot_info layout");
_Static_assert(sizeof(struct uk_hc_io) == 24, "uk_hc_io layout");
_Static_assert(sizeof(struct uk_hc_clock) == 24, "uk_hc_clock layout");
_Static_assert(sizeof(struct uk_hc_poll) == 64, "uk_hc_poll layout");
_Static_assert(sizeof(struct uk_hc_block_info) == 32, "uk_hc_block_info layout");
_Static_assert(sizeof(struct uk_hc_block_io) == 32, "uk_hc_block_io layout");
_Static_assert(sizeof(struct uk_hc_net_info) == 32, "uk_hc_net_info layout");
_Static_assert(sizeof(struct uk_hc_net_recv) == 32, "uk_hc_net_recv layout");
_Static_assert(sizeof(struct uk_hc_exit) == 8, "uk_hc_exit layout");
#endif /* !__ASSEMBLER__ */

#endif
