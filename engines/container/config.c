/* engines/container/config.c: the container's options (what a spec may
 * say) and their parsing into struct ct_config. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/container/ct.h"

const struct vlab_opt_desc ct_opts[] = {
	{.name = "rootfs", .type = VLAB_OPT_STRING,
	 .help = "image folder, the overlay's read-only lower layer (default: the built rootfs)"},
	{.name = "program", .type = VLAB_OPT_STRING,
	 .help = "program to run inside, a path in the image (default: the probe agent)"},
	{.name = "args", .type = VLAB_OPT_STRING, .def = "",
	 .help = "its arguments, separated by spaces"},
	{.name = "sh", .type = VLAB_OPT_STRING,
	 .help = "a shell command line (/bin/sh -c) to run instead of program"},
	{.name = "hostname", .type = VLAB_OPT_STRING,
	 .help = "host name inside (default: the instance name)"},
	{.name = "memory", .type = VLAB_OPT_SIZE, .def = "256M", .max = 1ull << 50,
	 .help = "memory limit (cgroup), 0 for none; over it the kernel OOM-kills"},
	{.name = "pids", .type = VLAB_OPT_UINT, .def = "128", .min = 0, .max = 4194304,
	 .help = "most processes and threads at once (cgroup), 0 for no limit"},
	{.name = "cpu", .type = VLAB_OPT_UINT, .def = "0", .min = 0, .max = 102400,
	 .help = "CPU quota in percent of one CPU (50: half a CPU), 0 for none"},
	{.name = "userns", .type = VLAB_OPT_BOOL, .def = "off",
	 .help = "a user namespace (always on when not root: rootless mode)"},
	{.name = "seccomp", .type = VLAB_OPT_BOOL, .def = "on",
	 .help = "the default seccomp profile (denies mount, unshare, bpf, ... with EPERM)"},
	{.name = "seccomp.deny", .type = VLAB_OPT_STRING, .def = "",
	 .help = "more syscalls to deny, by name, comma separated (e.g. uname,getpid)"},
	{.name = "seccomp.allow", .type = VLAB_OPT_STRING, .def = "",
	 .help = "syscalls to take out of the default profile, by name"},
	{.name = "cap.add", .type = VLAB_OPT_STRING, .def = "",
	 .help = "capabilities to keep besides the default set (e.g. net_admin)"},
	{.name = "cap.drop", .type = VLAB_OPT_STRING, .def = "",
	 .help = "capabilities to drop from the default set (e.g. net_raw), or all"},
	/* net=on: a veth into the lab network; otherwise loopback only. */
	VLAB_LABNET_OPTS,
	{.name = "stop_grace", .type = VLAB_OPT_DURATION, .def = "1s",
	 .help = "on stop, time between SIGTERM and SIGKILL"},
	{0},
};

/* Finds the probe agent in the image. */
static int find_agent(const char *rootfs, char *out, size_t len)
{
	static const char *const where[] = {"/usr/bin/vlab-agent", "/bin/vlab-agent",
					    "/sbin/vlab-agent", "/vlab-agent", NULL};
	for (int i = 0; where[i]; i++) {
		char p[VLAB_PATH_MAX];
		if (snprintf(p, sizeof(p), "%s%s", rootfs, where[i]) >= (int)sizeof(p))
			continue;
		if (access(p, F_OK) == 0) {
			snprintf(out, len, "%s", where[i]);
			return 0;
		}
	}
	return -1;
}

static int build_argv(const struct vlab_spec *spec, struct ct_config *cfg, struct vlab_err *err)
{
	const char *sh = vlab_spec_get(spec, "sh");
	const char *program = vlab_spec_get(spec, "program");
	const char *args = vlab_spec_get(spec, "args");
	char agent[256];
	size_t n = 0;

	if (sh && program)
		return vlab_err_set(err, EINVAL, "container: give either sh or program, not both");
	if (!sh && !program) {
		if (find_agent(cfg->rootfs, agent, sizeof(agent)) < 0)
			return vlab_err_set(err, ENOENT,
					    "container: no vlab-agent in the image %s (make images, "
					    "or give program= or sh=)",
					    cfg->rootfs);
		program = agent;
	}
	size_t need = (sh ? strlen(sh) + 16 : strlen(program) + 1) + (args ? strlen(args) + 1 : 0);
	cfg->argstore = malloc(need + 1);
	if (!cfg->argstore)
		return vlab_err_set(err, ENOMEM, "container: argv");
	char *p = cfg->argstore;
	if (sh) {
		cfg->argv[n++] = strcpy(p, "/bin/sh");
		p += 8;
		cfg->argv[n++] = strcpy(p, "-c");
		p += 3;
		cfg->argv[n++] = strcpy(p, sh);
		return 0;
	}
	if (program[0] != '/')
		return vlab_err_set(err, EINVAL, "container: program '%s' must be an absolute path",
				    program);
	cfg->argv[n++] = strcpy(p, program);
	p += strlen(program) + 1;
	if (args && *args) {
		strcpy(p, args);
		char *save = NULL;
		for (char *t = strtok_r(p, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
			if (n == CT_ARGV_MAX - 1)
				return vlab_err_set(err, E2BIG, "container: more than %d args",
						    CT_ARGV_MAX - 2);
			cfg->argv[n++] = t;
		}
	}
	cfg->argv[n] = NULL;
	return 0;
}

int ct_syscall_list(const char *list, int *out, int max, int *n, const char *what,
		    struct vlab_err *err)
{
	char buf[2048];
	*n = 0;
	if (!list || !*list)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return vlab_err_set(err, E2BIG, "%s: list too long", what);
	char *save = NULL;
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		int nr = seccomp_syscall_resolve_name(t);
		if (nr == __NR_SCMP_ERROR)
			return vlab_err_set(err, EINVAL, "%s: no system call named '%s'", what, t);
		if (*n == max)
			return vlab_err_set(err, E2BIG, "%s: more than %d system calls", what, max);
		out[(*n)++] = nr;
	}
	return 0;
}

int ct_cap_list(const char *list, uint64_t *mask, const char *what, struct vlab_err *err)
{
	char buf[1024];
	*mask = 0;
	if (!list || !*list)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return vlab_err_set(err, E2BIG, "%s: list too long", what);
	char *save = NULL;
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (!strcasecmp(t, "all")) {
			*mask = ~0ull;
			continue;
		}
		char name[64];
		snprintf(name, sizeof(name), "%s%s", strncasecmp(t, "cap_", 4) ? "cap_" : "", t);
		for (char *c = name; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		cap_value_t v;
		if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
			return vlab_err_set(err, EINVAL, "%s: no capability named '%s'", what, t);
		*mask |= 1ull << v;
	}
	return 0;
}

/* Reads /etc/subuid (or subgid) for user "root": the range a user
 * namespace created by root maps to.  100000 when there is none. */
static uid_t sub_base(const char *file)
{
	FILE *f = fopen(file, "re");
	unsigned long base = 100000, count = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		char who[64];
		unsigned long b, c;
		if (sscanf(line, "%63[^:]:%lu:%lu", who, &b, &c) == 3 &&
		    (!strcmp(who, "root") || !strcmp(who, "0")) && c >= 65536) {
			base = b;
			count = c;
			break;
		}
	}
	if (f)
		fclose(f);
	(void)count;
	return (uid_t)base;
}

int ct_config_parse(const struct vlab_spec *spec, struct ct_config *cfg, struct vlab_err *err)
{
	const char *s;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "%s", spec->name);
	s = vlab_spec_get(spec, "hostname");
	if (s && (strlen(s) == 0 || strlen(s) > 64 || strchr(s, '/')))
		return vlab_err_set(err, EINVAL, "container: hostname '%s' must be 1-64 characters",
				    s);
	snprintf(cfg->hostname, sizeof(cfg->hostname), "%s", s ? s : spec->name);

	s = vlab_spec_get(spec, "rootfs");
	if (s) {
		if (snprintf(cfg->rootfs, sizeof(cfg->rootfs), "%s", s) >= (int)sizeof(cfg->rootfs))
			return vlab_err_set(err, ENAMETOOLONG, "container: rootfs path");
	} else if (vlab_image_path(VLAB_IMAGE_ROOTFS, cfg->rootfs, sizeof(cfg->rootfs), err) < 0) {
		return vlab_err_prefix(err, "container");
	}
	/* overlayfs splits its options on ',' and ':'; refuse rather than guess. */
	if (cfg->rootfs[0] != '/' || strpbrk(cfg->rootfs, ",:\\"))
		return vlab_err_set(err, EINVAL,
				    "container: rootfs '%s' must be an absolute path without ',' ':' "
				    "or '\\'",
				    cfg->rootfs);
	struct stat st;
	if (stat(cfg->rootfs, &st) < 0)
		return vlab_err_set(err, errno, "container: image %s%s", cfg->rootfs,
				    s ? "" : " (make images)");
	if (!S_ISDIR(st.st_mode))
		return vlab_err_set(err, ENOTDIR, "container: image %s is not a folder", cfg->rootfs);

	const struct vlab_opt_desc *o = ct_opts;
	int b;
	if (vlab_spec_size(spec, o, "memory", &cfg->memory, err) < 0 ||
	    vlab_spec_uint(spec, o, "pids", &cfg->pids, err) < 0 ||
	    vlab_spec_uint(spec, o, "cpu", &cfg->cpu, err) < 0 ||
	    vlab_spec_bool(spec, o, "seccomp", &cfg->seccomp, err) < 0 ||
	    vlab_spec_bool(spec, o, "userns", &b, err) < 0 ||
	    vlab_spec_duration(spec, o, "stop_grace", &cfg->grace_ns, err) < 0)
		return vlab_err_prefix(err, "container");
	if (cfg->memory && cfg->memory < (4u << 20))
		return vlab_err_set(err, EINVAL, "container: memory=%llu is below 4M",
				    (unsigned long long)cfg->memory);
	cfg->host_uid = geteuid();
	cfg->host_gid = getegid();
	cfg->rootless = cfg->host_uid != 0;
	cfg->userns = b || cfg->rootless;
	if (vlab_labnet_cfg_from_spec(spec, &cfg->labnet, err) < 0)
		return vlab_err_prefix(err, "container");
	cfg->net = cfg->labnet.on;
	if (cfg->net && cfg->rootless)
		return vlab_err_set(err, EPERM, "container: net=on needs root (the lab network is "
					       "a namespace of the host's)");
	if (cfg->userns && !cfg->rootless)
		cfg->map_base = sub_base("/etc/subuid");
	if (ct_syscall_list(vlab_spec_get(spec, "seccomp.deny"), cfg->deny, CT_MAX_SYSCALLS,
			    &cfg->ndeny, "container: seccomp.deny", err) < 0 ||
	    ct_syscall_list(vlab_spec_get(spec, "seccomp.allow"), cfg->allow, CT_MAX_SYSCALLS,
			    &cfg->nallow, "container: seccomp.allow", err) < 0)
		return -1;
	if ((cfg->ndeny || cfg->nallow) && !cfg->seccomp)
		return vlab_err_set(err, EINVAL,
				    "container: seccomp.deny/seccomp.allow need seccomp=on");
	if (ct_cap_list(vlab_spec_get(spec, "cap.add"), &cfg->cap_add, "container: cap.add", err) <
		    0 ||
	    ct_cap_list(vlab_spec_get(spec, "cap.drop"), &cfg->cap_drop, "container: cap.drop",
			err) < 0)
		return -1;
	return build_argv(spec, cfg, err);
}

void ct_config_free(struct ct_config *cfg)
{
	free(cfg->argstore);
	cfg->argstore = NULL;
}
