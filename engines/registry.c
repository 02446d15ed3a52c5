/* engines/registry.c: the engines compiled into vlab. */
#include "engines/engine.h"

#include <string.h>

extern const struct vlab_engine vlab_engine_host;
extern const struct vlab_engine vlab_engine_container;
extern const struct vlab_engine vlab_engine_vm;
extern const struct vlab_engine vlab_engine_unikernel;

static const struct vlab_engine *const engines[] = {
	&vlab_engine_host,
	&vlab_engine_container,
	&vlab_engine_vm,
	&vlab_engine_unikernel,
};

const struct vlab_engine *vlab_engine_at(size_t i)
{
	return i < sizeof(engines) / sizeof(engines[0]) ? engines[i] : NULL;
}

/* Engines added at run time (tests' fake engines), searched first. */
static const struct vlab_engine *extra[4];
static size_t nextra;

int vlab_engine_register(const struct vlab_engine *e)
{
	if (nextra == sizeof(extra) / sizeof(extra[0]))
		return -1;
	extra[nextra++] = e;
	return 0;
}

const struct vlab_engine *vlab_engine_find(const char *name)
{
	for (size_t i = 0; name && i < nextra; i++)
		if (!strcmp(extra[i]->name, name))
			return extra[i];
	for (size_t i = 0; name && i < sizeof(engines) / sizeof(engines[0]); i++)
		if (!strcmp(engines[i]->name, name))
			return engines[i];
	return NULL;
}

int vlab_child_main(int argc, char **argv)
{
	return vlab_child_run(argc, argv, vlab_engine_find);
}
