/* engines/vm/engine.c: the vm engine: a full guest OS on virtual
 * hardware.  Parses the spec, prepares the host side (disk image, lab
 * network), picks the backend and publishes what the front end shows:
 * the backend, whether it is emulated, the image size and the disk. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/hostcaps.h"
#include "engines/vm/vm.h"

volatile int vm_stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	vm_stop_requested = 1;
}

static void vm_probe(struct vlab_avail *avail)
{
	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, VLAB_CAPS_MEASURE_KVM);
	vlab_avail_vm(&caps, avail);
}

static int vm_validate(const struct vlab_spec *spec, struct vlab_err *err)
{
	struct vm_config cfg;
	return vm_config_from_spec(spec, &cfg, err);
}

/* auto: the doctor's measurement decides (engines/hostcaps.c, remembered
 * per boot by speed.c): kvm where guest kernel code runs at native speed,
 * tcg elsewhere.  The same measurement picks the CPUID template when the
 * lab leaves it to us. */
static enum vm_backend choose(const struct vm_config *cfg, struct vm_host *host, char *why,
			      size_t len)
{
	struct vlab_hostcaps caps;
	memset(&caps, 0, sizeof(caps));
	int measure = cfg->backend == VM_BACKEND_AUTO ||
		      (cfg->backend == VM_BACKEND_KVM && cfg->cpu_template == VM_CPU_AUTO);
	if (measure)
		vm_kvm_speed(&caps);
	int emulating = caps.kvm_measured && !caps.kvm_hw;
	host->conservative = cfg->cpu_template == VM_CPU_CONSERVATIVE ||
			     (cfg->cpu_template == VM_CPU_AUTO && emulating);
	if (cfg->backend != VM_BACKEND_AUTO) {
		snprintf(why, len, "chosen by the lab (backend=%s)",
			 cfg->backend == VM_BACKEND_KVM ? "kvm" : "tcg");
		return cfg->backend;
	}
	if (!caps.kvm_present)
		snprintf(why, len, "no /dev/kvm: QEMU emulates the whole machine in software");
	else if (caps.kvm_open_errno)
		snprintf(why, len, "/dev/kvm cannot be opened (%s): QEMU emulates the machine",
			 strerror(caps.kvm_open_errno));
	else if (!caps.kvm_measured)
		snprintf(why, len, "KVM could not be measured (%s): QEMU emulates the machine",
			 caps.kvm_measure_error);
	else if (emulating)
		snprintf(why, len,
			 "this KVM%s%s emulates guest kernel code (CPL 0 loop %.0fx slower than "
			 "CPL 3): a Linux kernel would crawl, so QEMU emulates the machine",
			 caps.kvm_module[0] ? " " : "", caps.kvm_module, caps.ratio);
	else {
		snprintf(
		    why, len,
		    "KVM is hardware-assisted (CPL 0 loop %.1fx the CPL 3 loop): vlab's own VMM",
		    caps.ratio);
		return VM_BACKEND_KVM;
	}
	return VM_BACKEND_TCG;
}

/* The NIC's wire: a TAP device on the lab network's bridge. */
static int prepare_net(const struct vm_config *cfg, struct vm_host *host, struct vlab_child *child,
		       struct vlab_err *err)
{
	if (!cfg->net.on)
		return 0;
	host->tap_fd = vlab_labnet_open_tap(&cfg->net, 0, err);
	if (host->tap_fd < 0)
		return vlab_err_prefix(err, "lab network");
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->net.ip, ip, sizeof(ip));
	snprintf(host->tap_name, sizeof(host->tap_name), "%s", cfg->net.tap_name);
	snprintf(host->guest_ip, sizeof(host->guest_ip), "%s/%u", ip, cfg->net.prefixlen);
	vlab_labnet_mac_str(cfg->net.mac, host->guest_mac, sizeof(host->guest_mac));
	vlab_child_attr(child, "ip", "%s", ip);
	vlab_child_attr(child, "mac", "%s", host->guest_mac);
	vlab_child_attr(child, "tap", "%s", host->tap_name);
	return 0;
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;
	return path[0] && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int prepare_disk(const struct vm_config *cfg, struct vlab_child *child, struct vlab_err *err)
{
	if (!cfg->disk[0])
		return 0;
	if (cfg->disk_size) {
		char dir[VLAB_PATH_MAX];
		if (cfg->disk_scratch && (vlab_runtime_dir(dir, sizeof(dir), err) < 0 ||
					  vlab_mkdir_p(dir, 0700, err) < 0))
			return -1;
		if (vm_disk_create(cfg->disk, cfg->disk_size, cfg->disk_alloc, err) < 0)
			return -1;
		vlab_child_attr(child, "disk_alloc", "%s",
				cfg->disk_alloc == VM_DISK_FIXED ? "fixed" : "dynamic");
	}
	uint64_t size, alloc;
	if (vm_disk_stat(cfg->disk, &size, &alloc, err) < 0)
		return -1;
	vlab_child_attr(child, "disk", "%s", cfg->disk);
	vlab_child_attr(child, "disk_bytes", "%llu", (unsigned long long)size);
	vlab_child_attr(child, "disk_alloc_bytes", "%llu", (unsigned long long)alloc);
	return 0;
}

static int vm_serve(const struct vlab_spec *spec, struct vlab_child *child, struct vlab_err *err)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct vm_config cfg;
	struct vm_host host = {.tap_fd = -1};
	int rc = -1, disk_made = 0;
	if (vm_config_from_spec(spec, &cfg, err) < 0)
		return -1;

	char why[256];
	enum vm_backend be = choose(&cfg, &host, why, sizeof(why));
	vlab_child_attr(child, "backend", "%s", be == VM_BACKEND_KVM ? "kvm" : "tcg");
	vlab_child_attr(child, "emulated", "%s", be == VM_BACKEND_KVM ? "no" : "yes");
	vlab_child_attr(child, "backend_reason", "%s", why);
	vlab_child_attr(child, "memory_bytes", "%llu", (unsigned long long)cfg.mem_bytes);
	vlab_child_attr(child, "cpus", "%u", cfg.cpus);
	vlab_child_attr(child, "cmdline", "%s", cfg.cmdline);

	if (prepare_disk(&cfg, child, err) < 0)
		goto out;
	disk_made = cfg.disk_scratch;
	if (prepare_net(&cfg, &host, child, err) < 0)
		goto out;
	uint64_t alloc = 0;
	if (cfg.disk[0])
		vm_disk_stat(cfg.disk, NULL, &alloc, NULL);
	vlab_child_attr(
	    child, "image_bytes", "%llu",
	    (unsigned long long)(file_bytes(cfg.kernel) + file_bytes(cfg.initrd) + alloc));

	rc = be == VM_BACKEND_KVM ? vm_kvm_serve(&cfg, &host, child, err)
				  : vm_tcg_serve(&cfg, &host, child, err);
	if (rc < 0)
		vlab_err_prefix(err, "vm %s (%s)", cfg.name, be == VM_BACKEND_KVM ? "kvm" : "tcg");
	if (cfg.disk[0] && vm_disk_stat(cfg.disk, NULL, &alloc, NULL) == 0)
		vlab_child_attr(child, "disk_alloc_bytes", "%llu", (unsigned long long)alloc);
out:
	if (host.tap_fd >= 0)
		close(host.tap_fd);
	/* The kvm backend's VMM is confined and cannot remove files: the front
	 * end's sweep (vm_sweep) removes its scratch disk once it has ended. */
	if (disk_made && be != VM_BACKEND_KVM)
		unlink(cfg.disk);
	return rc;
}

/* Scratch disks are named vm-<pid>-<instance>.img in the runtime folder:
 * remove those whose instance process is gone. */
static int vm_sweep(struct vlab_err *err)
{
	char dir[VLAB_PATH_MAX];
	if (vlab_runtime_dir(dir, sizeof(dir), err) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		int pid, end = 0;
		if (sscanf(e->d_name, "vm-%d-%*[a-z0-9-].img%n", &pid, &end) != 1 || !end ||
		    e->d_name[end] || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		char p[VLAB_PATH_MAX + 300];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	return 0;
}

const struct vlab_engine vlab_engine_vm = {
    .name = "vm",
    .summary = "a full Linux guest on virtual hardware: vlab's own VMM on KVM "
	       "(QEMU emulation where KVM cannot run it)",
    .opts = vm_opts,
    .probe = vm_probe,
    .validate = vm_validate,
    .serve = vm_serve,
    .sweep = vm_sweep,
};
