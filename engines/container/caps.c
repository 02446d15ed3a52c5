/* engines/container/caps.c: the capabilities a container keeps (libcap).
 *
 * Root inside the container is root with most of its power taken away: the
 * bounding set, permitted and effective sets are cut to Docker's default
 * fourteen, the inheritable and ambient sets emptied, so nothing the
 * container executes can get the rest back. */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "engines/container/ct.h"

#define BIT(c) (1ull << (c))

const uint64_t ct_caps_default =
	BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) | BIT(CAP_FSETID) |
	BIT(CAP_KILL) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETPCAP) |
	BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW) | BIT(CAP_SYS_CHROOT) | BIT(CAP_MKNOD) |
	BIT(CAP_AUDIT_WRITE) | BIT(CAP_SETFCAP); /* 0xa80425fb */

uint64_t ct_caps_effective(const struct ct_config *cfg)
{
	return (ct_caps_default | cfg->cap_add) & ~cfg->cap_drop;
}

int ct_caps_set(uint64_t keep, struct vlab_err *err)
{
	int last = (int)cap_max_bits() - 1;
	cap_t caps = cap_init(); /* all clear */
	if (!caps)
		return vlab_err_set(err, errno, "cap_init");
	cap_value_t list[64];
	int n = 0;
	for (int c = 0; c <= last && c < 64; c++)
		if (keep & BIT(c))
			list[n++] = (cap_value_t)c;
	if ((n && (cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
		   cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0)) ||
	    cap_set_proc(caps) < 0) {
		int e = errno;
		cap_free(caps);
		return vlab_err_set(err, e, "set the capability sets");
	}
	cap_free(caps);
	return 0;
}

int ct_caps_apply(uint64_t keep, struct vlab_err *err)
{
	int last = (int)cap_max_bits() - 1;
	for (int c = 0; c <= last && c < 64; c++) {
		if (keep & BIT(c))
			continue;
		if (cap_drop_bound((cap_value_t)c) < 0 && errno != EINVAL)
			return vlab_err_set(err, errno, "drop capability %d from the bounding set", c);
	}
	if (ct_caps_set(keep, err) < 0)
		return -1;
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		return vlab_err_set(err, errno, "clear the ambient capabilities");
	return 0;
}
