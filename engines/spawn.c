/* engines/spawn.c: starting an instance process.
 *
 * An engine's own program is forked by its zygote (engines/zygote.h), which
 * skips the program's start-up; else, or when that fails, posix_spawn (fast
 * even from a large parent: no page tables copied) of the program or of vlab
 * itself, with the four descriptors at fixed numbers, then a pidfd to follow
 * it. */
#include "engines/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/paths.h"
#include "core/proc.h"
#include "engines/zygote.h"

extern char **environ;

/* argv for `vlab __instance`; strings in *store, freed by the caller. */
static char **child_argv(const struct vlab_spec *spec, uint64_t t0_ns, const char *self,
			 char ***store, struct vlab_err *err)
{
	size_t n = 10 + 2 * spec->n, k = 0, s = 0;
	char **argv = calloc(n + 1, sizeof(char *));
	char **own = calloc(n + 1, sizeof(char *));
	if (!argv || !own) {
		free(argv);
		free(own);
		vlab_err_set(err, ENOMEM, "argv");
		return NULL;
	}
	char buf[64];
	argv[k++] = (char *)self;
	argv[k++] = "__instance";
	argv[k++] = "--engine";
	argv[k++] = (char *)spec->engine;
	argv[k++] = "--name";
	argv[k++] = (char *)spec->name;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)t0_ns);
	argv[k++] = "--t0";
	argv[k++] = own[s++] = strdup(buf);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	argv[k++] = "--parent";
	argv[k++] = own[s++] = strdup(buf);
	for (size_t i = 0; i < spec->n; i++) {
		size_t l = strlen(spec->kv[i].key) + strlen(spec->kv[i].value) + 2;
		char *kv = own[s++] = malloc(l);
		if (kv)
			snprintf(kv, l, "%s=%s", spec->kv[i].key, spec->kv[i].value);
		argv[k++] = "--opt";
		argv[k++] = kv;
	}
	*store = own;
	for (size_t i = 0; i < k; i++)
		if (!argv[i]) {
			for (size_t j = 0; own[j]; j++)
				free(own[j]);
			free(own);
			free(argv);
			vlab_err_set(err, ENOMEM, "argv");
			return NULL;
		}
	return argv;
}

/* The environment of an engine's own program: ours, with VLAB_SELF naming
 * the vlab that starts it, so that it finds vlab's folders (the images) as
 * vlab does.  NULL (use ours as it is) when we cannot say which vlab that
 * is; *entry is the string to free. */
static char **program_env(char **entry)
{
	char vlab[VLAB_PATH_MAX];
	size_t n = 0, k = 0;
	*entry = NULL;
	if (vlab_self_exe(vlab, sizeof(vlab), NULL) < 0)
		return NULL;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(char *));
	if (!env || asprintf(entry, "VLAB_SELF=%s", vlab) < 0) {
		free(env);
		*entry = NULL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "VLAB_SELF=", 10))
			env[k++] = environ[i];
	env[k] = *entry;
	return env;
}

int vlab_spawn_instance(const struct vlab_engine *e, const struct vlab_spec *spec,
			uint64_t t0_ns, const int child_fds[4], pid_t *pid, int *pidfd,
			struct vlab_err *err)
{
	static const int at[4] = {VLAB_CHILD_CONTROL_FD, VLAB_CHILD_CONSOLE_FD,
				  VLAB_CHILD_EVENT_FD, VLAB_CHILD_COUNTERS_FD};
	char self[VLAB_PATH_MAX];
	char **argv, **own = NULL, **envp = NULL, *self_entry = NULL;
	int r = -1;
	*pid = 0;
	*pidfd = -1;

	/* The engine's own program when it has one, else vlab re-executed. */
	int program = e->program && vlab_program_path(e->program, self, sizeof(self)) == 0;
	if (program)
		envp = program_env(&self_entry);
	else if (vlab_self_exe(self, sizeof(self), err) < 0)
		return -1;
	if (!(argv = child_argv(spec, t0_ns, self, &own, err)))
		goto out;
	struct vlab_err zerr = {0};
	if (program &&
	    vlab_zygote_spawn(self, argv, envp ? envp : environ, child_fds, pid, pidfd, &zerr) == 0) {
		r = 0;
		goto out;
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 4; i++)
		posix_spawn_file_actions_adddup2(&fa, child_fds[i], at[i]);
	vlab_spawnattr_init(&attr);
	int rc = posix_spawn(pid, self, &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		vlab_err_set(err, rc, "start %s", self);
		*pid = 0;
		goto out;
	}
	*pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
	if (*pidfd < 0) {
		vlab_err_set(err, errno, "pidfd_open %d", (int)*pid);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
		goto out;
	}
	fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
	r = 0;
out:
	for (size_t i = 0; own && own[i]; i++)
		free(own[i]);
	free(own);
	free(argv);
	free(envp);
	free(self_entry);
	return r;
}
