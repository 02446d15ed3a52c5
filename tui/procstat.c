/* tui/procstat.c: /proc readers for the instances pane. */
#include "tui/procstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

#define MAX_TREE 512

/* utime+stime of pid in clock ticks; -1 when it is gone. */
static long long proc_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')'. Fields after it start with the state (field 3). */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static void proc_mem(pid_t pid, uint64_t *pss, uint64_t *rss)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	unsigned long long kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Pss: %llu kB", &kb) == 1)
			*pss += kb * 1024;
		else if (sscanf(line, "Rss: %llu kB", &kb) == 1)
			*rss += kb * 1024;
	}
	fclose(f);
}

/* Appends the children of pid (every thread's) to list. */
static void children(pid_t pid, pid_t *list, size_t *n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	int c;
	while (*n < MAX_TREE && fscanf(f, "%d", &c) == 1)
		list[(*n)++] = (pid_t)c;
	fclose(f);
}

int tui_procstat_sample(struct tui_procstat *ps, pid_t root)
{
	if (root <= 0)
		return -1;
	if (ps->root != root) {
		memset(ps, 0, sizeof(*ps));
		ps->root = root;
	}
	pid_t list[MAX_TREE];
	size_t n = 0;
	list[n++] = root;
	uint64_t ticks = 0, pss = 0, rss = 0;
	int alive = 0;
	for (size_t i = 0; i < n; i++) {
		long long t = proc_ticks(list[i]);
		if (t < 0)
			continue;
		alive++;
		ticks += (uint64_t)t;
		proc_mem(list[i], &pss, &rss);
		children(list[i], list, &n);
	}
	if (!alive)
		return -1;
	uint64_t now = vlab_now_ns();
	long hz = sysconf(_SC_CLK_TCK);
	if (ps->at_ns && now > ps->at_ns && hz > 0) {
		double dt = (double)(now - ps->at_ns) / 1e9;
		double used = ticks >= ps->ticks ? (double)(ticks - ps->ticks) / (double)hz : 0;
		ps->cpu_pct = 100.0 * used / dt;
		ps->valid = 1;
	}
	ps->ticks = ticks;
	ps->at_ns = now;
	ps->pss = pss;
	ps->rss = rss;
	ps->nprocs = (unsigned)alive;
	return 0;
}
