/* engines/vm/vmm.c: the kvm backend: vlab's own VMM serving one instance.
 *
 * Reads the kernel and initramfs, opens the disk, builds the machine
 * (machine.c) on the instance's descriptors (ttyS0 on the console socket,
 * ttyS1 on the control socket), runs it, and turns how it stopped into
 * the instance's exit: power off, reboot and a stop request end it
 * cleanly; a triple fault or a VMM error is reported as an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "engines/confine.h"
#include "engines/vm/machine.h"
#include "engines/vm/vm.h"

#define KERNEL_MAX (256ull << 20)

/* Reads a whole file of at most max bytes; *out is malloc'ed. */
static int slurp(const char *path, const char *what, uint64_t max, uint8_t **out, size_t *len,
		 struct vlab_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s %s", what, path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vlab_err_set(err, EINVAL, "%s %s is not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return vlab_err_set(err, EFBIG,
				    "%s %s: %lld bytes is more than the %llu this VM can hold",
				    what, path, (long long)st.st_size, (unsigned long long)max);
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t done = 0;
	while (buf && done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	int e = errno;
	close(fd);
	if (!buf || done != (size_t)st.st_size) {
		free(buf);
		return vlab_err_set(err, buf ? e : ENOMEM, "read %s %s", what, path);
	}
	*out = buf;
	*len = done;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int vm_kvm_serve(const struct vm_config *cfg, const struct vm_host *host, struct vlab_child *child,
		 struct vlab_err *err)
{
	struct vm_machine_config mc = {
	    .ram_bytes = cfg->mem_bytes,
	    .cpus = cfg->cpus,
	    .pae = cfg->pae,
	    .nx = cfg->nx,
	    .conservative = host->conservative,
	    .kernel_name = cfg->kernel,
	    .cmdline = cfg->cmdline,
	    .disk_fd = -1,
	    .net_fd = host->tap_fd,
	    .rng = cfg->rng,
	    .console_fd = child->console_fd,
	    .control_fd = child->control_fd,
	    .child = child,
	};
	uint8_t *kernel = NULL, *initrd = NULL;
	struct vm_machine *m = NULL;
	int rc = -1;
	if (slurp(cfg->kernel, "kernel", KERNEL_MAX, &kernel, &mc.kernel_bytes, err) < 0)
		goto out;
	mc.kernel = kernel;
	if (cfg->initrd[0]) {
		if (slurp(cfg->initrd, "initramfs", cfg->mem_bytes, &initrd, &mc.initrd_bytes,
			  err) < 0)
			goto out;
		mc.initrd = initrd;
	}
	if (cfg->disk[0]) {
		mc.disk_fd = vm_disk_open(cfg->disk, cfg->disk_readonly, &mc.disk_bytes, err);
		if (mc.disk_fd < 0)
			goto out;
		mc.disk_readonly = cfg->disk_readonly;
	}
	if (host->tap_fd >= 0 && parse_mac(host->guest_mac, mc.mac) < 0) {
		vlab_err_set(err, EINVAL, "MAC address '%s'", host->guest_mac);
		goto out;
	}
	if (vlab_fd_nonblock(child->console_fd, 1, err) < 0 ||
	    vlab_fd_nonblock(child->control_fd, 1, err) < 0 ||
	    (host->tap_fd >= 0 && vlab_fd_nonblock(host->tap_fd, 1, err) < 0))
		goto out;
	vlab_child_attr(child, "cpu_template", "%s", host->conservative ? "conservative" : "full");
	if (vm_machine_new(&mc, &m, err) < 0)
		goto out;
	/* Kernel and initramfs now live in guest RAM. */
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;
	/* From here on the VMM only runs the machine (engines/confine.h). */
	if (vlab_confine(VLAB_CONFINE_VMM, child, err) < 0)
		goto out;

	int why = vm_machine_run(m, &vm_stop_requested, err);
	if (why < 0)
		goto out;
	vlab_child_attr(child, "stop_reason", "%s", vm_stop_name((enum vm_stop_reason)why));
	if (why == VM_STOP_TRIPLE_FAULT || why == VM_STOP_ERROR) {
		vlab_err_set(err, EIO, "%s", m->stop_detail);
		goto out;
	}
	rc = 0;
out:
	vm_machine_free(m);
	if (mc.disk_fd >= 0)
		close(mc.disk_fd);
	free(kernel);
	free(initrd);
	return rc;
}
