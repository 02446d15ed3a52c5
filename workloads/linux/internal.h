/* workloads/linux/internal.h: what the Linux shim's files share. */
#ifndef VLAB_WORKLOADS_LINUX_INTERNAL_H
#define VLAB_WORKLOADS_LINUX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Records what failed for plat_error_text() ("what: strerror(code)" when
 * code != 0).  Returns -status. */
int plat_linux_fail(int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* MemAvailable from /proc/meminfo, in bytes; 0 when unknown. */
uint64_t linux_mem_available(void);

/* The memory limit of this process' cgroup (v2 memory.max or v1
 * memory.limit_in_bytes) in bytes, 0 when there is none; *usage (when not
 * NULL) gets the cgroup's current usage. */
uint64_t linux_cgroup_mem_limit(uint64_t *usage);

/* IPv4 addresses of the interfaces other than loopback, "10.77.0.5/24,...". */
void linux_ipv4_addrs(char *buf, size_t cap);

#endif
