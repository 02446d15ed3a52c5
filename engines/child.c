/* engines/child.c: the instance-process side: `vlab __instance`.
 *
 * Parses the spec from argv, ties its life to the front end's
 * (PR_SET_PDEATHSIG), keeps only the four inherited descriptors, maps the
 * counter page and hands over to the engine's serve(). */
#include "engines/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"

static void event(struct vlab_child *child, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Events held back by vlab_child_hold() (one instance process, one child). */
static char held[8192];
static size_t held_len;
static int holding;

void vlab_child_hold(struct vlab_child *child)
{
	(void)child;
	holding = 1;
}

void vlab_child_forget(struct vlab_child *child)
{
	(void)child;
	holding = 0;
	held_len = 0;
}

void vlab_child_flush(struct vlab_child *child)
{
	holding = 0;
	if (held_len && child && child->event_fd >= 0)
		vlab_write_all(child->event_fd, held, held_len, 1000, NULL);
	held_len = 0;
}

static void event(struct vlab_child *child, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (holding && held_len + (size_t)n <= sizeof(held)) {
		memcpy(held + held_len, line, (size_t)n);
		held_len += (size_t)n;
		return;
	}
	if (holding)
		vlab_child_flush(child);
	if (child && child->event_fd >= 0)
		vlab_write_all(child->event_fd, line, (size_t)n, 1000, NULL);
}

void vlab_child_phase(struct vlab_child *child, const char *phase)
{
	event(child, "phase %s %llu", phase, (unsigned long long)vlab_now_ns());
}

void vlab_child_phase_at(struct vlab_child *child, const char *phase, uint64_t ns)
{
	event(child, "phase %s %llu", phase, (unsigned long long)ns);
}

void vlab_child_attr(struct vlab_child *child, const char *key, const char *fmt, ...)
{
	char value[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	event(child, "attr %s %s", key, value);
}

void vlab_child_log(struct vlab_child *child, const char *fmt, ...)
{
	char text[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	event(child, "log %s", text);
}

/* Closes every descriptor above the four we inherit, but a network
 * namespace that a zygote made ahead (VLAB_CHILD_NETNS_FD). */
static void close_others(void)
{
	int from = VLAB_CHILD_COUNTERS_FD + 1;
	if (ioctl(VLAB_CHILD_NETNS_FD, NS_GET_NSTYPE) == CLONE_NEWNET)
		from = VLAB_CHILD_NETNS_FD + 1;
	if (syscall(SYS_close_range, (unsigned)from, ~0u, 0) == 0)
		return;
	for (int fd = from; fd < 1024; fd++)
		close(fd);
}

int vlab_child_run(int argc, char **argv, const struct vlab_engine *(*find)(const char *name))
{
	static const struct option longopts[] = {
		{"engine", required_argument, NULL, 'e'}, {"name", required_argument, NULL, 'n'},
		{"t0", required_argument, NULL, 't'},     {"parent", required_argument, NULL, 'p'},
		{"opt", required_argument, NULL, 'o'},    {NULL, 0, NULL, 0},
	};
	struct vlab_child child = {
		.control_fd = VLAB_CHILD_CONTROL_FD,
		.console_fd = VLAB_CHILD_CONSOLE_FD,
		.event_fd = VLAB_CHILD_EVENT_FD,
	};
	struct vlab_err err = {0};
	const char *engine = NULL, *name = NULL;
	struct vlab_spec spec;
	int have_spec = 0, c, status = 1;

	/* This process is private plumbing: refuse to run without the
	 * descriptors the front end passes. */
	if (fcntl(VLAB_CHILD_EVENT_FD, F_GETFD) < 0 || fcntl(VLAB_CHILD_COUNTERS_FD, F_GETFD) < 0) {
		fprintf(stderr, "an instance process is started by vlab itself, not by hand\n");
		return 2;
	}
	close_others();

	/* First pass: engine and name make the spec; options follow. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			child.t0_ns = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			child.parent = (pid_t)atoi(optarg);
			break;
		case 'o':
			break;
		default:
			vlab_err_set(&err, EINVAL, "__instance: bad argument");
			goto out;
		}
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (child.parent && getppid() != child.parent)) {
		vlab_err_set(&err, ESRCH, "front end is gone");
		goto out;
	}
	void *map = mmap(NULL, sizeof(struct vlab_counters), PROT_READ | PROT_WRITE, MAP_SHARED,
			 VLAB_CHILD_COUNTERS_FD, 0);
	if (map == MAP_FAILED) {
		vlab_err_set(&err, errno, "map counter page");
		goto out;
	}
	close(VLAB_CHILD_COUNTERS_FD);
	child.counters = map;
	vlab_child_phase(&child, "spawn");

	if (vlab_spec_init(&spec, engine ? engine : "", name ? name : "", &err) < 0)
		goto out;
	have_spec = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if (c == 'o' && vlab_spec_set_kv(&spec, optarg, &err) < 0)
			goto out;
	const struct vlab_engine *e = find(spec.engine);
	if (!e) {
		vlab_err_set(&err, ENOENT, "no engine named '%s'", spec.engine);
		goto out;
	}
	if (vlab_spec_check(&spec, e->opts, &err) < 0)
		goto out;
	status = e->serve(&spec, &child, &err);
	vlab_child_flush(&child);

out:
	if (status < 0 || (status != 0 && err.msg[0]))
		event(&child, "error %s", vlab_err_msg(&err));
	if (have_spec)
		vlab_spec_free(&spec);
	return status < 0 ? 1 : status;
}
