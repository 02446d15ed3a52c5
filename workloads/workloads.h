/* workloads/workloads.h: the workloads (portable C on the plat_* shim),
 * as kernels with typed results (used by the unit tests) and as protocol
 * verbs (used by the agent's verb table in agent.c). */
#ifndef VLAB_WORKLOADS_WORKLOADS_H
#define VLAB_WORKLOADS_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "workloads/agent.h"
#include "workloads/platform.h"

/* ---- cpu: a sieve of Eratosthenes and a dense matrix multiply ---- */

struct wl_cpu_result {
	uint64_t sieve_n; /* integers sieved: 2..sieve_n */
	uint64_t primes;  /* primes found */
	uint64_t int_ops; /* bit marks + candidate tests */
	uint64_t int_ns;
	uint32_t matrix_n; /* n x n doubles */
	uint64_t fp_ops;   /* 2 n^3 floating-point operations */
	uint64_t fp_ns;
	double checksum; /* sum of the product's elements */
};

/* Runs both kernels once.  0, or -PLAT_ENOMEM. */
int wl_cpu_run(uint64_t sieve_n, uint32_t matrix_n, struct wl_cpu_result *res);
/* The matrix dimension used when the request gives only size. */
uint32_t wl_cpu_default_matrix(uint64_t sieve_n);

/* ---- mem: STREAM copy, scale, add, triad ---- */

enum { WL_COPY, WL_SCALE, WL_ADD, WL_TRIAD, WL_STREAM_KERNELS };

struct wl_mem_result {
	uint64_t array_bytes; /* per array (three arrays) */
	uint32_t reps;
	uint64_t best_ns[WL_STREAM_KERNELS]; /* fastest of reps */
	double mbps[WL_STREAM_KERNELS];	     /* 10^6 bytes/s at the best time */
	int checked;			     /* final arrays hold the expected values */
};

int wl_mem_run(uint64_t array_bytes, uint32_t reps, struct wl_mem_result *res);
extern const char *const wl_stream_names[WL_STREAM_KERNELS];

/* ---- disk: sequential write + fsync, read back, verify ---- */

struct wl_disk_result {
	char target[96];
	uint64_t total_bytes, block_bytes;
	uint64_t write_ns, sync_ns, read_ns;
	int cache_dropped;
	int verified;	     /* every byte read back as written */
	uint64_t bad_offset; /* first differing byte when !verified */
};

/* 0 (check res->verified), or a negative plat_status. */
int wl_disk_run(uint64_t total_bytes, uint64_t block_bytes, struct wl_disk_result *res);

/* ---- net-echo: the UDP echo server ---- */

struct wl_echo_stats {
	int running;
	uint16_t port;
	uint32_t max_bytes;
	uint64_t rx_count, tx_count, rx_bytes;
};

/* Starts the server on port (0: any free one).  -PLAT_EBUSY when running. */
int wl_echo_start(uint16_t port, uint32_t max_bytes);
/* Stops it; *st gets its final counters.  Harmless when stopped. */
void wl_echo_stop(struct wl_echo_stats *st);
void wl_echo_stats(struct wl_echo_stats *st);
/* The socket to wait on, -1 when stopped. */
int wl_echo_sock(void);
/* Answers the datagrams queued now (bounded batch). */
void wl_echo_service(void);

/* ---- sysinfo: what the guest sees of its CPU ---- */

struct wl_cpuid {
	char vendor[13];     /* "GenuineIntel" */
	char model[49];	     /* brand string */
	char hypervisor[13]; /* "KVMKVMKVM", "TCGTCGTCGTCG", "" */
	int virtualized;     /* CPUID.1:ECX bit 31 */
	char flags[640];     /* Linux names, comma-separated: "fpu,...,pae,...,nx,lm" */
};

/* Reads CPUID (x86-64; empty elsewhere). */
void wl_cpuid_read(struct wl_cpuid *c);

/* ---- the verbs ---- */

int wl_verb_sysinfo(struct wl_req *r);
int wl_verb_cpu(struct wl_req *r);
int wl_verb_mem(struct wl_req *r);
int wl_verb_disk(struct wl_req *r);
int wl_verb_echo(struct wl_req *r);
int wl_verb_exec(struct wl_req *r);

#endif
