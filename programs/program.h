/* programs/program.h: the main() of an engine's own instance program.
 *
 * vlab starts such a program in place of re-executing itself (the engine's
 * `program`, engines/instance.c), with the same arguments and descriptors.
 * It links one engine and what that engine needs: no terminal UI, no Lua,
 * no other engine.  So it starts sooner, forks cheaper, and what stays
 * resident beside the guest or the container is the engine's own code.
 * `PROGRAM __zygote FRONT-END-PID` is the same program waiting to fork
 * instance processes for that front end (engines/zygote.h). */
#ifndef VLAB_PROGRAMS_PROGRAM_H
#define VLAB_PROGRAMS_PROGRAM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engines/engine.h"
#include "engines/zygote.h"

static const struct vlab_engine *program_engine;

static const struct vlab_engine *program_find(const char *name)
{
	return name && !strcmp(name, program_engine->name) ? program_engine : NULL;
}

static int program_instance(int argc, char **argv)
{
	return vlab_child_run(argc - 1, argv + 1, program_find);
}

/* netns: the engine's maker of network namespaces ahead, for its zygote
 * (NULL: none). */
static inline int vlab_program_main(int argc, char **argv, const struct vlab_engine *e,
				    int (*netns)(void))
{
	program_engine = e;
	/* Forked ready to serve instances (engines/zygote.h). */
	if (argc == 3 && !strcmp(argv[1], "__zygote") && atoi(argv[2]) == (int)getppid())
		return vlab_zygote_main(argc, argv, program_instance, netns);
	if (argc < 2 || strcmp(argv[1], "__instance")) {
		fprintf(stderr, "%s: serves vlab's %s instances; vlab starts it\n", argv[0], e->name);
		return 2;
	}
	return program_instance(argc, argv);
}

#endif
