/* engines/host/host.c: the host baseline: the probe agent as a plain
 * process on the host, behind the same interface as the three engines.
 *
 * The instance process becomes the agent (execve), with the control channel
 * on its stdin/stdout and the console on stderr.  Nothing is isolated: this
 * is the column every other figure is compared with. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/paths.h"
#include "engines/engine.h"

static const struct vlab_opt_desc host_opts[] = {
	{.name = "program", .type = VLAB_OPT_STRING,
	 .help = "program to run (default: the probe agent)"},
	{.name = "args", .type = VLAB_OPT_STRING, .def = "",
	 .help = "its arguments, separated by spaces"},
	{.name = "sh", .type = VLAB_OPT_STRING,
	 .help = "a shell command line to run instead of program"},
	{0},
};

static void host_probe(struct vlab_avail *avail)
{
	char agent[VLAB_PATH_MAX];
	avail->level = VLAB_AVAIL_YES;
	snprintf(avail->backend, sizeof(avail->backend), "native");
	if (vlab_image_path(VLAB_IMAGE_AGENT, agent, sizeof(agent), NULL) < 0 ||
	    access(agent, X_OK) != 0) {
		avail->level = VLAB_AVAIL_DEGRADED;
		snprintf(avail->reason, sizeof(avail->reason),
			 "the probe agent is not built yet (run `make images`)");
		return;
	}
	snprintf(avail->reason, sizeof(avail->reason),
		 "the agent runs as an ordinary process: the baseline every engine is compared with");
}

static int host_validate(const struct vlab_spec *spec, struct vlab_err *err)
{
	if (vlab_spec_get(spec, "sh") && vlab_spec_get(spec, "program"))
		return vlab_err_set(err, EINVAL, "host engine: give either sh or program, not both");
	return 0;
}

static int host_serve(const struct vlab_spec *spec, struct vlab_child *child,
		      struct vlab_err *err)
{
	char agent[VLAB_PATH_MAX];
	const char *program = vlab_spec_get(spec, "program");
	const char *sh = vlab_spec_get(spec, "sh");
	const char *args = vlab_spec_get(spec, "args");
	char *argv[64];
	size_t n = 0;
	char *argcopy = NULL;

	if (sh) {
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = (char *)sh;
	} else {
		if (!program) {
			if (vlab_image_path(VLAB_IMAGE_AGENT, agent, sizeof(agent), err) < 0)
				return -1;
			program = agent;
		}
		argv[n++] = (char *)program;
		if (args && *args) {
			argcopy = strdup(args);
			if (!argcopy)
				return vlab_err_set(err, ENOMEM, "args");
			char *save = NULL;
			for (char *t = strtok_r(argcopy, " \t", &save); t;
			     t = strtok_r(NULL, " \t", &save)) {
				if (n == sizeof(argv) / sizeof(argv[0]) - 1) {
					free(argcopy);
					return vlab_err_set(err, E2BIG, "host engine: too many args");
				}
				argv[n++] = t;
			}
		}
	}
	argv[n] = NULL;

	vlab_child_attr(child, "backend", "native");
	vlab_child_attr(child, "emulated", "no");
	struct stat st;
	if (stat(argv[0], &st) == 0) /* what a user ships: the program itself */
		vlab_child_attr(child, "image_bytes", "%lld", (long long)st.st_size);
	if (dup2(child->control_fd, 0) < 0 || dup2(child->control_fd, 1) < 0 ||
	    dup2(child->console_fd, 2) < 0) {
		free(argcopy);
		return vlab_err_set(err, errno, "host engine: set up stdio");
	}
	vlab_child_phase(child, "exec");
	/* The event channel closes on exec; the agent reports through the
	 * control channel from here on. */
	fcntl(child->event_fd, F_SETFD, FD_CLOEXEC);
	close(child->control_fd);
	close(child->console_fd);
	execv(argv[0], argv);
	int e = errno;
	free(argcopy);
	return vlab_err_set(err, e, "host engine: execute %s", argv[0]);
}

const struct vlab_engine vlab_engine_host = {
	.name = "host",
	.summary = "the probe agent as a plain host process: the baseline",
	.opts = host_opts,
	.probe = host_probe,
	.validate = host_validate,
	.serve = host_serve,
};
