/* engines/vm/speed.c: is KVM hardware-assisted here?  The doctor's
 * measurement (a guest loop timed at CPL 0 and CPL 3, ~50 ms), taken once
 * per host boot and remembered in the runtime folder, so that starting a
 * VM does not pay for it every time.  The record names the boot and the
 * KVM module: a reboot or another module means measuring again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engines/hostcaps.h"
#include "engines/vm/vm.h"

static void boot_id(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int record_path(char *buf, size_t len)
{
	char dir[VLAB_PATH_MAX];
	if (vlab_runtime_dir(dir, sizeof(dir), NULL) < 0 || vlab_mkdir_p(dir, 0700, NULL) < 0)
		return -1;
	return snprintf(buf, len, "%s/kvm-speed", dir) < (int)len ? 0 : -1;
}

void vm_kvm_speed(struct vlab_hostcaps *caps)
{
	char id[64], path[VLAB_PATH_MAX + 16], line[512];
	memset(caps, 0, sizeof(*caps));
	vlab_hostcaps_probe_kvm(caps, 0); /* presence and module: cheap */
	if (!caps->kvm_present || caps->kvm_open_errno)
		return;
	boot_id(id, sizeof(id));
	int have_path = record_path(path, sizeof(path)) == 0;
	FILE *f = have_path && id[0] ? fopen(path, "re") : NULL;
	if (f) {
		char rid[64], mod[32];
		int hw;
		double ratio, c0, c3;
		int ok = fgets(line, sizeof(line), f) &&
			 sscanf(line, "%63s %31s %d %lf %lf %lf", rid, mod, &hw, &ratio, &c0,
				&c3) == 6 &&
			 !strcmp(rid, id) &&
			 !strcmp(mod, caps->kvm_module[0] ? caps->kvm_module : "-");
		fclose(f);
		if (ok) {
			caps->kvm_measured = 1;
			caps->kvm_hw = hw;
			caps->ratio = ratio;
			caps->cpl0_ns = c0;
			caps->cpl3_ns = c3;
			return;
		}
	}
	vlab_hostcaps_probe_kvm(caps, VLAB_CAPS_MEASURE_KVM);
	if (!caps->kvm_measured || !have_path || !id[0])
		return;
	/* Written whole, then renamed: readers never see half a record. */
	char tmp[VLAB_PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "%s %s %d %.3f %.3f %.3f\n", id, caps->kvm_module[0] ? caps->kvm_module : "-",
		caps->kvm_hw, caps->ratio, caps->cpl0_ns, caps->cpl3_ns);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}
