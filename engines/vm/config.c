/* engines/vm/config.c: the vm engine's options, and the machine they
 * describe. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engines/vm/vm.h"

const struct vlab_opt_desc vm_opts[] = {
    {.name = "backend",
     .type = VLAB_OPT_ENUM,
     .def = "auto",
     .choices = "auto|kvm|tcg",
     .help = "kvm: vlab's own VMM; tcg: QEMU software emulation; auto: kvm where KVM is "
	     "hardware-assisted (measured, as vlab doctor does), else tcg"},
    {.name = "memory",
     .type = VLAB_OPT_SIZE,
     .def = "256M",
     .min = 16 << 20,
     .max = 64ull << 30,
     .help = "guest RAM"},
    {.name = "cpus",
     .type = VLAB_OPT_UINT,
     .def = "1",
     .min = 1,
     .max = VM_MAX_CPUS,
     .help = "virtual CPUs"},
    {.name = "pae",
     .type = VLAB_OPT_BOOL,
     .def = "on",
     .help = "show PAE to the guest (a 64-bit guest cannot boot without it)"},
    {.name = "nx",
     .type = VLAB_OPT_BOOL,
     .def = "on",
     .help = "show NX (no-execute pages) to the guest"},
    {.name = "cpu_template",
     .type = VLAB_OPT_ENUM,
     .def = "auto",
     .choices = "auto|full|conservative",
     .help = "CPUID the guest sees: full (what KVM supports), conservative (also hides "
	     "cx16, xsave, AVX for emulating KVMs), auto"},
    {.name = "kernel", .type = VLAB_OPT_STRING, .help = "bzImage (default: the built image)"},
    {.name = "initrd",
     .type = VLAB_OPT_STRING,
     .help = "initramfs (default: the built image; 'none' for none)"},
    {.name = "cmdline",
     .type = VLAB_OPT_STRING,
     .def = "",
     .help = "extra kernel command line, appended to vlab's own"},
    {.name = "disk",
     .type = VLAB_OPT_STRING,
     .help = "raw disk image; created with disk_size when it does not exist"},
    {.name = "disk_size",
     .type = VLAB_OPT_SIZE,
     .min = 512,
     .max = 1ull << 40,
     .help = "size of a disk created now (without disk=: a scratch disk removed at the end)"},
    {.name = "disk_alloc",
     .type = VLAB_OPT_ENUM,
     .def = "dynamic",
     .choices = "dynamic|fixed",
     .help = "a created disk is dynamically allocated (sparse) or fixed size (preallocated)"},
    {.name = "disk_readonly",
     .type = VLAB_OPT_BOOL,
     .def = "off",
     .help = "the guest cannot write to the disk"},
    VLAB_LABNET_OPTS,
    {.name = "rng", .type = VLAB_OPT_BOOL, .def = "on", .help = "a virtio-rng device"},
    {0},
};

static int copy_path(char *dst, size_t len, const char *src, const char *what, struct vlab_err *err)
{
	if (snprintf(dst, len, "%s", src) >= (int)len)
		return vlab_err_set(err, ENAMETOOLONG, "%s path is too long", what);
	return 0;
}

static int image(const struct vlab_spec *spec, const char *key, enum vlab_image which, char *dst,
		 size_t len, struct vlab_err *err)
{
	const char *v = vlab_spec_get(spec, key);
	if (v && !strcmp(key, "initrd") && !strcmp(v, "none")) {
		dst[0] = '\0';
		return 0;
	}
	if (v) {
		if (!*v)
			return vlab_err_set(err, EINVAL, "%s: empty path", key);
		if (access(v, R_OK) != 0)
			return vlab_err_set(err, errno, "%s %s", key, v);
		return copy_path(dst, len, v, key, err);
	}
	if (vlab_image_path(which, dst, len, err) < 0)
		return -1;
	if (access(dst, R_OK) != 0)
		return vlab_err_set(err, ENOENT, "the guest %s %s is not built (run `make images`)",
				    vlab_image_name(which), dst);
	return 0;
}

int vm_config_from_spec(const struct vlab_spec *spec, struct vm_config *cfg, struct vlab_err *err)
{
	const char *s;
	uint64_t u;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "%s", spec->name);

	if (vlab_spec_str(spec, vm_opts, "backend", &s, err) < 0)
		return -1;
	cfg->backend = !strcmp(s, "kvm")   ? VM_BACKEND_KVM
		       : !strcmp(s, "tcg") ? VM_BACKEND_TCG
					   : VM_BACKEND_AUTO;
	if (vlab_spec_size(spec, vm_opts, "memory", &cfg->mem_bytes, err) < 0 ||
	    vlab_spec_uint(spec, vm_opts, "cpus", &u, err) < 0 ||
	    vlab_spec_bool(spec, vm_opts, "pae", &cfg->pae, err) < 0 ||
	    vlab_spec_bool(spec, vm_opts, "nx", &cfg->nx, err) < 0 ||
	    vlab_spec_bool(spec, vm_opts, "disk_readonly", &cfg->disk_readonly, err) < 0 ||
	    vlab_spec_bool(spec, vm_opts, "rng", &cfg->rng, err) < 0)
		return -1;
	cfg->cpus = (unsigned)u;
	cfg->mem_bytes &= ~((2ull << 20) - 1); /* whole 2 MiB pages */
	if (!cfg->pae)
		return vlab_err_set(
		    err, EINVAL,
		    "pae=off: the guest is a 64-bit kernel, and x86-64 long mode is "
		    "built on PAE paging (VirtualBox greys the box out for 64-bit "
		    "guests for the same reason)");

	if (vlab_spec_str(spec, vm_opts, "cpu_template", &s, err) < 0)
		return -1;
	cfg->cpu_template = !strcmp(s, "full")		 ? VM_CPU_FULL
			    : !strcmp(s, "conservative") ? VM_CPU_CONSERVATIVE
							 : VM_CPU_AUTO;

	if (image(spec, "kernel", VLAB_IMAGE_KERNEL, cfg->kernel, sizeof(cfg->kernel), err) < 0 ||
	    image(spec, "initrd", VLAB_IMAGE_INITRAMFS, cfg->initrd, sizeof(cfg->initrd), err) < 0)
		return -1;

	if (vlab_labnet_cfg_from_spec(spec, &cfg->net, err) < 0)
		return -1;

	/* ttyS0 is the human console; the guest stops (and the VM with it)
	 * on a panic instead of hanging; the initramfs' /init takes its host
	 * name and address from vlab.* words (images/initramfs/init). */
	char ip[64] = "";
	if (cfg->net.on) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &cfg->net.ip, a, sizeof(a));
		snprintf(ip, sizeof(ip), " vlab.ip=%s/%u", a, cfg->net.prefixlen);
	}
	const char *extra = vlab_spec_get(spec, "cmdline");
	int n = snprintf(cfg->cmdline, sizeof(cfg->cmdline),
			 "console=ttyS0 panic=-1 vlab.hostname=%s%s%s%s", cfg->name, ip,
			 extra && *extra ? " " : "", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(cfg->cmdline))
		return vlab_err_set(err, E2BIG, "cmdline: the kernel command line is over %d bytes",
				    VM_CMDLINE_MAX - 1);

	const char *disk = vlab_spec_get(spec, "disk");
	const char *size = vlab_spec_get(spec, "disk_size");
	if (size && vlab_spec_size(spec, vm_opts, "disk_size", &cfg->disk_size, err) < 0)
		return -1;
	if (cfg->disk_size % 512)
		return vlab_err_set(err, EINVAL, "disk_size: %s is not a multiple of 512 bytes",
				    size);
	if (vlab_spec_str(spec, vm_opts, "disk_alloc", &s, err) < 0)
		return -1;
	cfg->disk_alloc = !strcmp(s, "fixed") ? VM_DISK_FIXED : VM_DISK_DYNAMIC;
	if (disk) {
		if (!*disk)
			return vlab_err_set(err, EINVAL, "disk: empty path");
		if (copy_path(cfg->disk, sizeof(cfg->disk), disk, "disk", err) < 0)
			return -1;
		if (access(disk, F_OK) == 0)
			cfg->disk_size = 0; /* exists: used as it is */
		else if (!cfg->disk_size)
			return vlab_err_set(err, ENOENT,
					    "disk %s does not exist (give disk_size to create it)",
					    disk);
	} else if (cfg->disk_size) {
		char dir[VLAB_PATH_MAX];
		if (vlab_runtime_dir(dir, sizeof(dir), err) < 0)
			return -1;
		n = snprintf(cfg->disk, sizeof(cfg->disk), "%s/vm-%d-%s.img", dir, (int)getpid(),
			     cfg->name);
		if (n < 0 || (size_t)n >= sizeof(cfg->disk))
			return vlab_err_set(err, ENAMETOOLONG, "scratch disk path");
		cfg->disk_scratch = 1;
	}
	return 0;
}
