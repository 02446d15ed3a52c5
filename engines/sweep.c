/* engines/sweep.c: removes what vlab processes that are gone (killed,
 * crashed) left on the machine: every engine's leftovers (cgroups,
 * container layers, scratch disks) and their lab networks (namespace,
 * bridge, veth and TAP devices).  Each sweep touches only what belongs to
 * a process that no longer exists: other vlabs on the machine keep theirs. */
#include <unistd.h>

#include "engines/engine.h"
#include "engines/labnet/labnet.h"

int vlab_sweep_all(struct vlab_err *err)
{
	int rc = 0;
	struct vlab_err one = {0};
	for (size_t i = 0; vlab_engine_at(i); i++) {
		const struct vlab_engine *e = vlab_engine_at(i);
		if (e->sweep && e->sweep(&one) < 0 && rc == 0) {
			rc = -1;
			if (err)
				*err = one;
		}
	}
	if (geteuid() == 0 && vlab_labnet_sweep(&one) < 0 && rc == 0) {
		rc = -1;
		if (err)
			*err = one;
	}
	return rc;
}
