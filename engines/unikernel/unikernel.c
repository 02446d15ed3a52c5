/* engines/unikernel/unikernel.c: the unikernel engine: the instance
 * process is the monitor.  It turns the spec into devices (the image, a
 * block device backed by a host file or a scratch disk, the lab network),
 * runs the guest and reports phases, attributes and counters. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/paths.h"
#include "engines/confine.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "engines/labnet/labnet.h"
#include "engines/unikernel/monitor.h"

static const struct vlab_opt_desc uk_opts[] = {
    {.name = "image",
     .type = VLAB_OPT_STRING,
     .help = "the unikernel ELF to run (default: the probe agent, agent.uk)"},
    {.name = "memory",
     .type = VLAB_OPT_SIZE,
     .def = "256M",
     .min = UK_MEM_MIN,
     .max = UK_MEM_MAX,
     .help = "guest RAM (rounded up to 2 MiB)"},
    {.name = "cmdline",
     .type = VLAB_OPT_STRING,
     .def = "",
     .help = "command line handed to the guest"},
    {.name = "hostname",
     .type = VLAB_OPT_STRING,
     .help = "the agent's host name (default: the instance's name)"},
    {.name = "disk",
     .type = VLAB_OPT_STRING,
     .help = "host file backing the block device (default: a scratch disk)"},
    {.name = "disk_size",
     .type = VLAB_OPT_SIZE,
     .def = "64M",
     .max = 1ull << 40,
     .help = "size of the scratch disk, deleted when the instance ends (0: no disk)"},
    VLAB_LABNET_OPTS,
    {0},
};

static void uk_probe(struct vlab_avail *avail)
{
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, 0);
	vlab_avail_unikernel(&caps, avail);
}

/* The monitor of this process, for the signal handler. */
static struct uk_monitor *volatile current;

#define STOP_GRACE_S 1 /* how long a guest asked to stop may take */

/* SIGTERM, SIGINT, SIGHUP: ask the guest to stop, and make sure it does
 * (SIGALRM).  A second request stops it at once. */
static void on_stop_signal(int sig)
{
	struct uk_monitor *m = current;
	if (!m)
		_exit(128 + sig);
	if (sig == SIGALRM) {
		uk_monitor_stop_now(m);
		return;
	}
	uk_monitor_stop(m, sig);
	alarm(STOP_GRACE_S);
}

static void report_phase(void *arg, const char *name, uint64_t ns)
{
	vlab_child_phase_at(arg, name, ns);
}

/* The block device: the file named by disk=, else an unnamed scratch file
 * of disk_size bytes in the runtime folder (gone when we are), else none. */
static int open_disk(const struct vlab_spec *spec, int *fd, uint64_t *bytes, struct vlab_err *err)
{
	const char *path = vlab_spec_get(spec, "disk");
	uint64_t size;
	*fd = -1;
	*bytes = 0;
	if (path) {
		*fd = open(path, O_RDWR | O_CLOEXEC);
		struct stat st;
		if (*fd < 0)
			return vlab_err_set(err, errno, "open disk %s", path);
		if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(*fd);
			*fd = -1;
			return vlab_err_set(err, EINVAL, "disk %s is not a regular file", path);
		}
		*bytes = (uint64_t)st.st_size & ~511ull;
		return 0;
	}
	if (vlab_spec_size(spec, uk_opts, "disk_size", &size, err) < 0)
		return -1;
	size &= ~511ull;
	if (size == 0)
		return 0;
	char dir[VLAB_PATH_MAX];
	if (vlab_runtime_dir(dir, sizeof(dir), err) < 0 || vlab_mkdir_p(dir, 0700, err) < 0)
		return -1;
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0) {
		char tmpl[VLAB_PATH_MAX + 32];
		snprintf(tmpl, sizeof(tmpl), "%s/uk-disk-XXXXXX", dir);
		*fd = mkostemp(tmpl, O_CLOEXEC);
		if (*fd < 0)
			return vlab_err_set(err, errno, "create a scratch disk in %s", dir);
		unlink(tmpl);
	}
	if (ftruncate(*fd, (off_t)size) < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return vlab_err_set(err, e, "size the scratch disk to %" PRIu64 " bytes", size);
	}
	*bytes = size;
	return 0;
}

/* The network device: a TAP on the lab network's bridge, when net=on. */
static int open_net(const struct vlab_spec *spec, struct vlab_child *child, struct uk_config *cfg,
		    struct vlab_err *err)
{
	struct vlab_labnet_cfg net;
	if (vlab_labnet_cfg_from_spec(spec, &net, err) < 0)
		return -1;
	if (!net.on)
		return 0;
	int fd = vlab_labnet_open_tap(&net, 0, err);
	if (fd < 0)
		return -1;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "TAP %s: non-blocking", net.tap_name);
	}
	cfg->tap_fd = fd;
	memcpy(cfg->mac, net.mac, sizeof(cfg->mac));
	cfg->mtu = 1500;
	cfg->ip = net.ip.s_addr;
	cfg->netmask = net.prefixlen ? htonl(~0u << (32 - net.prefixlen)) : 0;
	cfg->gateway = net.host.s_addr;
	char ip[INET_ADDRSTRLEN] = "", mac[18];
	inet_ntop(AF_INET, &net.ip, ip, sizeof(ip));
	vlab_child_attr(child, "ip", "%s", ip);
	vlab_child_attr(child, "mac", "%s", vlab_labnet_mac_str(net.mac, mac, sizeof(mac)));
	vlab_child_attr(child, "tap", "%s", net.tap_name);
	vlab_child_phase(child, "net");
	return 0;
}

static int uk_serve(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err)
{
	char image[VLAB_PATH_MAX], cmd[UK_CMDLINE_MAX];
	const char *path = vlab_spec_get(spec, "image"), *cmdline;
	const char *hostname = vlab_spec_get(spec, "hostname");
	uint64_t mem;
	uint8_t *img = NULL;
	uint64_t img_len = 0;
	int disk_fd = -1, status = 1, rc = -1;
	struct uk_monitor *m = NULL;

	if (!path) {
		if (vlab_image_path(VLAB_IMAGE_UNIKERNEL, image, sizeof(image), err) < 0)
			return -1;
		path = image;
		if (!hostname)
			hostname = spec->name; /* the agent's, as a container's */
	}
	if (vlab_spec_size(spec, uk_opts, "memory", &mem, err) < 0 ||
	    vlab_spec_str(spec, uk_opts, "cmdline", &cmdline, err) < 0)
		return -1;
	if (hostname) {
		int n = snprintf(cmd, sizeof(cmd), "%s%shostname=%s", cmdline, *cmdline ? " " : "",
				 hostname);
		if (n < 0 || (size_t)n >= sizeof(cmd))
			return vlab_err_set(err, E2BIG, "unikernel command line: over %d bytes",
					    UK_CMDLINE_MAX - 1);
		cmdline = cmd;
	}
	mem = (mem + UK_MEM_ALIGN - 1) & ~(UK_MEM_ALIGN - 1);
	if (uk_elf_read(path, mem, &img, &img_len, err) < 0)
		return -1;

	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct uk_config cfg = {
	    .image = img,
	    .image_len = img_len,
	    .image_name = path,
	    .mem_bytes = mem,
	    .cmdline = cmdline,
	    .console_fd = child->console_fd,
	    .control_fd = child->control_fd,
	    .disk_fd = -1,
	    .tap_fd = -1,
	    .counters = child->counters,
	    .phase = report_phase,
	    .phase_arg = child,
	};
	if (open_disk(spec, &disk_fd, &cfg.disk_bytes, err) < 0 ||
	    open_net(spec, child, &cfg, err) < 0)
		goto out;
	cfg.disk_fd = disk_fd;
	if (uk_monitor_new(&cfg, &m, err) < 0)
		goto out;
	free(img);
	img = NULL;
	current = m;
	vlab_child_attr(child, "backend", "kvm");
	vlab_child_attr(child, "emulated", "no");
	vlab_child_attr(child, "image_bytes", "%" PRIu64, img_len);
	vlab_child_attr(child, "mem_bytes", "%" PRIu64, mem);
	vlab_child_attr(child, "disk_bytes", "%" PRIu64, cfg.disk_bytes);
	vlab_child_attr(child, "cpl", "3");
	/* From here on the monitor only runs the guest (engines/confine.h). */
	if (vlab_confine(VLAB_CONFINE_UNIKERNEL, child, err) < 0)
		goto out;
	rc = uk_monitor_run(m, &status, err);
	/* The guest has ended: a late stop request changes nothing now. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	alarm(0);
	current = NULL;
out:
	uk_monitor_free(m);
	free(img);
	if (disk_fd >= 0)
		close(disk_fd);
	if (cfg.tap_fd >= 0)
		close(cfg.tap_fd); /* the TAP device goes with it */
	if (rc < 0)
		return status > 1 ? status : -1;
	return status;
}

const struct vlab_engine vlab_engine_unikernel = {
    .name = "unikernel",
    .summary = "the probe agent linked with our library OS, on our own monitor on KVM",
    .opts = uk_opts,
    .probe = uk_probe,
    .serve = uk_serve,
    .program = "vlab-unikernel",
};
