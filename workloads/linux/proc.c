/* workloads/linux/proc.c: what the kernel tells a process about its
 * machine: available memory (/proc/meminfo), a cgroup's memory limit (v1
 * and v2, both exist in the wild) and the interface addresses. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/linux/internal.h"

uint64_t linux_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

/* A cgroup file holding one number ("max" is no limit): 0 when absent. */
static uint64_t read_number(const char *path)
{
	FILE *f = fopen(path, "re");
	char buf[64];
	uint64_t v = 0;
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && strncmp(buf, "max", 3) != 0)
		v = strtoull(buf, NULL, 10);
	fclose(f);
	return v >= (1ull << 62) ? 0 : v; /* v1 says "unlimited" with ~2^63 */
}

/* Tries dir/<path>/limit_file; returns the limit, fills *usage. */
static uint64_t try_limit(const char *mount, const char *path, const char *limit_file,
			  const char *usage_file, uint64_t *usage)
{
	char p[512];
	if (!strcmp(path, "/"))
		path = "";
	snprintf(p, sizeof(p), "%s%s/%s", mount, path, limit_file);
	uint64_t limit = read_number(p);
	if (limit && usage) {
		snprintf(p, sizeof(p), "%s%s/%s", mount, path, usage_file);
		*usage = read_number(p);
	}
	return limit;
}

uint64_t linux_cgroup_mem_limit(uint64_t *usage)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024];
	uint64_t limit = 0;
	if (usage)
		*usage = 0;
	if (!f)
		return 0;
	while (!limit && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		if (!*ctrls) {
			limit = try_limit("/sys/fs/cgroup", path, "memory.max", "memory.current",
					  usage);
			if (!limit)
				limit = try_limit("/sys/fs/cgroup/unified", path, "memory.max",
						  "memory.current", usage);
			continue;
		}
		char list[256];
		snprintf(list, sizeof(list), ",%s,", ctrls);
		if (strstr(list, ",memory,"))
			limit = try_limit("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes",
					  "memory.usage_in_bytes", usage);
	}
	fclose(f);
	return limit;
}

void linux_ipv4_addrs(char *buf, size_t cap)
{
	struct ifaddrs *all = NULL;
	size_t len = 0;
	buf[0] = '\0';
	if (getifaddrs(&all) < 0)
		return;
	for (struct ifaddrs *a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET ||
		    (a->ifa_flags & IFF_LOOPBACK))
			continue;
		char ip[INET_ADDRSTRLEN];
		const struct sockaddr_in *sin = (const struct sockaddr_in *)a->ifa_addr;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		int prefix = 0;
		if (a->ifa_netmask)
			prefix = __builtin_popcount(
			    ((const struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr);
		int n = snprintf(buf + len, cap - len, "%s%s/%d", len ? "," : "", ip, prefix);
		if (n < 0 || (size_t)n >= cap - len) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	freeifaddrs(all);
}
