/* engines/instance_get.c: what the front end knows of an instance, read
 * only: its spec, state, channels, and what its process reported (startup
 * phases, attributes, counters, exit status, error). */
#include <string.h>

#include "engines/instance_int.h"

const char *vlab_instance_name(const struct vlab_instance *inst)
{
	return inst->spec.name;
}

const struct vlab_engine *vlab_instance_engine(const struct vlab_instance *inst)
{
	return inst->engine;
}

const struct vlab_spec *vlab_instance_spec(const struct vlab_instance *inst)
{
	return &inst->spec;
}

enum vlab_state vlab_instance_state(const struct vlab_instance *inst)
{
	return inst->state;
}

pid_t vlab_instance_pid(const struct vlab_instance *inst)
{
	return inst->pid > 0 ? inst->pid : 0;
}

int vlab_instance_control_fd(const struct vlab_instance *inst)
{
	return inst->control_fd;
}

int vlab_instance_console_fd(const struct vlab_instance *inst)
{
	return inst->console_fd;
}

int vlab_instance_event_fd(const struct vlab_instance *inst)
{
	return inst->event_in.eof ? -1 : inst->event_fd;
}

int vlab_instance_pidfd(const struct vlab_instance *inst)
{
	return inst->pidfd;
}

uint64_t vlab_instance_startup_ns(const struct vlab_instance *inst)
{
	return inst->startup_ns;
}

const char *vlab_instance_ready_line(const struct vlab_instance *inst)
{
	return inst->ready_line ? inst->ready_line : "";
}

size_t vlab_instance_phases(const struct vlab_instance *inst, const struct vlab_phase **out)
{
	*out = inst->phases;
	return inst->nphases;
}

const char *vlab_instance_attr(const struct vlab_instance *inst, const char *key)
{
	for (size_t i = 0; i < inst->nattrs; i++)
		if (!strcmp(inst->attrs[i].key, key))
			return inst->attrs[i].value;
	return NULL;
}

size_t vlab_instance_attr_count(const struct vlab_instance *inst)
{
	return inst->nattrs;
}

const char *vlab_instance_attr_at(const struct vlab_instance *inst, size_t i, const char **value)
{
	if (i >= inst->nattrs)
		return NULL;
	*value = inst->attrs[i].value;
	return inst->attrs[i].key;
}

const struct vlab_counters *vlab_instance_counters(const struct vlab_instance *inst)
{
	return inst->counters;
}

int vlab_instance_counters_fd(const struct vlab_instance *inst)
{
	return inst->counters_fd;
}

int vlab_instance_exit_status(const struct vlab_instance *inst)
{
	return inst->exit_status;
}

const char *vlab_instance_error(const struct vlab_instance *inst)
{
	return inst->error;
}
