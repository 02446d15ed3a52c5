/* engines/instance_int.h: the front end's record of an instance, shared by
 * the files that keep it (instance.c: starting and following the process;
 * instance_get.c: reading what it reported).  Not for other modules: they
 * use the accessors of engines/engine.h. */
#ifndef VLAB_ENGINES_INSTANCE_INT_H
#define VLAB_ENGINES_INSTANCE_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/fdio.h"
#include "engines/engine.h"

struct vlab_instance {
	const struct vlab_engine *engine;
	struct vlab_spec spec;
	enum vlab_state state;
	pid_t pid;
	int pidfd;
	int control_fd, console_fd, event_fd;
	struct vlab_counters *counters;
	int counters_fd; /* the memfd behind counters, kept to hand on */
	struct vlab_lines control_in, event_in;
	uint64_t t0_ns, startup_ns;
	char *ready_line;
	struct vlab_phase phases[VLAB_MAX_PHASES];
	size_t nphases;
	struct {
		char *key, *value;
	} attrs[VLAB_MAX_ATTRS];
	size_t nattrs;
	int exit_status;
	char error[VLAB_ERR_MSG];
	unsigned long next_id;
	char *resp;
};

#endif
