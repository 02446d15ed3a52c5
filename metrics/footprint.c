/* metrics/footprint.c: PSS of a process tree from /proc/<pid>/smaps_rollup. */
#include "metrics/footprint.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small /proc file whole into buf (NUL-terminated). */
static int slurp(const char *path, char *buf, size_t cap, struct vlab_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s", path);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return vlab_err_set(err, e, "read %s", path);
		}
		if (n == 0 || (len += (size_t)n) == cap - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

int metrics_parse_smaps_rollup(const char *text, struct metrics_smaps *out, struct vlab_err *err)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
	    {"Rss", offsetof(struct metrics_smaps, rss)},
	    {"Pss", offsetof(struct metrics_smaps, pss)},
	    {"Pss_Anon", offsetof(struct metrics_smaps, pss_anon)},
	    {"Pss_File", offsetof(struct metrics_smaps, pss_file)},
	    {"Pss_Shmem", offsetof(struct metrics_smaps, pss_shmem)},
	    {"Swap", offsetof(struct metrics_smaps, swap)},
	    {"SwapPss", offsetof(struct metrics_smaps, swap_pss)},
	};
	int have_pss = 0, lineno = 0;
	memset(out, 0, sizeof(*out));
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		lineno++;
		const char *colon = strchr(line, ':');
		const char *eol = strchr(line, '\n');
		if (!colon || (eol && colon > eol))
			continue; /* the header line: "00400000-... ---p 00000000 00:00 0 [rollup]"
				   */
		size_t kl = (size_t)(colon - line);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strlen(fields[i].key) != kl || strncmp(line, fields[i].key, kl) != 0)
				continue;
			char *end;
			const char *p = colon + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			unsigned long long kb = strtoull(p, &end, 10);
			while (*end == ' ')
				end++;
			if (end == p || errno || strncmp(end, "kB", 2) != 0 ||
			    kb > (UINT64_MAX >> 10))
				return vlab_err_set(
				    err, EINVAL,
				    "smaps_rollup line %d: '%.*s' is not "
				    "a size in kB",
				    lineno, (int)(eol ? eol - line : (long)strlen(line)), line);
			*(uint64_t *)((char *)out + fields[i].off) = (uint64_t)kb << 10;
			if (!strcmp(fields[i].key, "Pss"))
				have_pss = 1;
		}
	}
	return have_pss ? 0 : vlab_err_set(err, EINVAL, "smaps_rollup has no Pss line");
}

int metrics_read_smaps(pid_t pid, struct metrics_smaps *out, struct vlab_err *err)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (slurp(path, buf, sizeof(buf), err) < 0)
		return -1;
	if (metrics_parse_smaps_rollup(buf, out, err) < 0)
		return vlab_err_prefix(err, "%s", path);
	return 0;
}

/* Parent pid from /proc/<pid>/stat, -1 when gone. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, sizeof(buf), NULL) < 0)
		return -1;
	const char *p = strrchr(buf, ')'); /* the name may hold spaces and ')' */
	int ppid;
	char state;
	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return (pid_t)ppid;
}

static void add(struct metrics_smaps *sum, const struct metrics_smaps *s)
{
	sum->rss += s->rss;
	sum->pss += s->pss;
	sum->pss_anon += s->pss_anon;
	sum->pss_file += s->pss_file;
	sum->pss_shmem += s->pss_shmem;
	sum->swap += s->swap;
	sum->swap_pss += s->swap_pss;
}

int metrics_tree_smaps(pid_t root, struct metrics_smaps *sum, size_t *nprocs, struct vlab_err *err)
{
	memset(sum, 0, sizeof(*sum));
	if (nprocs)
		*nprocs = 0;
	struct metrics_smaps s;
	if (metrics_read_smaps(root, &s, err) < 0)
		return -1;
	add(sum, &s);
	size_t count = 1;

	/* One pass over /proc: every process with its parent. */
	size_t n = 0, cap = 256;
	struct {
		pid_t pid, ppid;
		int in;
	} *all = malloc(cap * sizeof(*all));
	if (!all)
		return vlab_err_set(err, ENOMEM, "process table");
	DIR *d = opendir("/proc");
	if (!d) {
		free(all);
		return vlab_err_set(err, errno, "read /proc");
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(e->d_name), ppid = parent_of(pid);
		if (ppid < 0 || pid == root)
			continue;
		if (n == cap) {
			void *bigger = realloc(all, 2 * cap * sizeof(*all));
			if (!bigger)
				break;
			all = bigger;
			cap *= 2;
		}
		all[n].pid = pid;
		all[n].ppid = ppid;
		all[n].in = 0;
		n++;
	}
	closedir(d);
	/* Descendants: repeat until no process joins (trees are shallow). */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			if (all[i].in)
				continue;
			int parent_in = all[i].ppid == root;
			for (size_t j = 0; !parent_in && j < n; j++)
				parent_in = all[j].in && all[j].pid == all[i].ppid;
			if (!parent_in)
				continue;
			all[i].in = changed = 1;
			if (metrics_read_smaps(all[i].pid, &s, NULL) == 0) { /* may have ended */
				add(sum, &s);
				count++;
			}
		}
	}
	free(all);
	if (nprocs)
		*nprocs = count;
	return 0;
}
