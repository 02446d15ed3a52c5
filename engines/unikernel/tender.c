/* engines/unikernel/tender.c: vlab-unikernel, the unikernel's monitor as a
 * program of its own.
 *
 * vlab starts it in place of re-executing itself for a unikernel instance,
 * with the same arguments and descriptors (engines/instance.c).  It links
 * the unikernel engine alone: no terminal UI, no Lua, no other engine, so
 * what stays resident beside the guest is the monitor and little else,
 * which is what a student measures as the unikernel's footprint.  Solo5
 * splits its hvt tender from the solo5 tools the same way. */
#include <stdio.h>
#include <string.h>

#include "engines/engine.h"

extern const struct vlab_engine vlab_engine_unikernel;

static const struct vlab_engine *find(const char *name)
{
	return name && !strcmp(name, vlab_engine_unikernel.name) ? &vlab_engine_unikernel : NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "__instance")) {
		fprintf(stderr, "vlab-unikernel: vlab's unikernel monitor; vlab starts it\n");
		return 2;
	}
	return vlab_child_run(argc - 1, argv + 1, find);
}
