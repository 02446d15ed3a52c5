/* lesson/session_inst.c: the instances a lab created, as the session
 * follows them: their state from the runner's "instance" messages, the
 * descriptors it passed (console socket, pidfd, counter page), and each
 * console read without blocking into a scrollback tail. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/fdio.h"
#include "lesson/session_int.h"

struct sinst *session_find_inst(const struct lesson_session *s, int id)
{
	for (size_t i = 0; i < s->ninst; i++)
		if (s->inst[i]->pub.id == id)
			return s->inst[i];
	return NULL;
}

static void close_inst_fds(struct sinst *si)
{
	if (si->pub.console_fd >= 0)
		close(si->pub.console_fd);
	if (si->pub.pidfd >= 0)
		close(si->pub.pidfd);
	si->pub.console_fd = si->pub.pidfd = -1;
}

void session_drop_instances(struct lesson_session *s)
{
	for (size_t i = 0; i < s->ninst; i++) {
		close_inst_fds(s->inst[i]);
		if (s->inst[i]->map)
			munmap(s->inst[i]->map, sizeof(struct vlab_counters));
		free(s->inst[i]->ring);
		free(s->inst[i]);
	}
	free(s->inst);
	s->inst = NULL;
	s->ninst = 0;
}

static void ring_add(struct sinst *si, const char *data, size_t len)
{
	if (!si->ring && !(si->ring = malloc(CONSOLE_RING)))
		return;
	if (len >= CONSOLE_RING) {
		data += len - CONSOLE_RING;
		len = CONSOLE_RING;
	}
	for (size_t i = 0; i < len; i++) {
		size_t at = (si->ring_start + si->ring_len) % CONSOLE_RING;
		si->ring[at] = data[i];
		if (si->ring_len < CONSOLE_RING)
			si->ring_len++;
		else
			si->ring_start = (si->ring_start + 1) % CONSOLE_RING;
	}
}

size_t lesson_session_console_tail(const struct lesson_session *s, int instance, char *buf,
				   size_t len)
{
	struct sinst *si = session_find_inst(s, instance);
	if (!si || !si->ring)
		return 0;
	size_t n = si->ring_len < len ? si->ring_len : len;
	size_t skip = si->ring_len - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = si->ring[(si->ring_start + skip + i) % CONSOLE_RING];
	return n;
}

ssize_t lesson_session_console_write(struct lesson_session *s, int instance, const void *buf,
				     size_t len, struct vlab_err *err)
{
	struct sinst *si = session_find_inst(s, instance);
	if (!si || si->pub.console_fd < 0)
		return vlab_err_set(err, EPIPE, "instance %d has no console open", instance);
	ssize_t n = write(si->pub.console_fd, buf, len);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0)
		return vlab_err_set(err, errno, "write to the console of %s", si->pub.name);
	return n;
}

void session_read_console(struct lesson_session *s, struct sinst *si)
{
	char buf[16384];
	for (int rounds = 0; si->pub.console_fd >= 0 && rounds < 16; rounds++) {
		ssize_t n = read(si->pub.console_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(si->pub.console_fd);
			si->pub.console_fd = -1;
			return;
		}
		ring_add(si, buf, (size_t)n);
		struct sevent *e = session_push_raw(s, LESSON_EV_CONSOLE, -1, si->pub.id);
		if (e && (e->data = malloc((size_t)n))) {
			memcpy(e->data, buf, (size_t)n);
			e->ev.len = (size_t)n;
		} else if (e) {
			s->nevents--;
		}
	}
}

static enum vlab_state parse_state(const char *name)
{
	for (int i = 0; i <= VLAB_STATE_FAILED; i++)
		if (name && !strcmp(name, vlab_state_name((enum vlab_state)i)))
			return (enum vlab_state)i;
	return VLAB_STATE_FAILED;
}

static void copy_str(char *dst, size_t len, json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, len, "%s", s ? s : "");
}

void session_on_instance(struct lesson_session *s, json_t *m, int *fds, size_t nfds)
{
	int id = (int)json_integer_value(json_object_get(m, "id"));
	struct sinst *si = session_find_inst(s, id);
	if (!si) {
		struct sinst **v = realloc(s->inst, (s->ninst + 1) * sizeof(*v));
		if (!v || !(si = calloc(1, sizeof(*si))))
			goto close_fds;
		s->inst = v;
		s->inst[s->ninst++] = si;
		si->pub.id = id;
		si->pub.console_fd = si->pub.pidfd = -1;
	}
	struct lesson_instance *p = &si->pub;
	if (json_is_true(json_object_get(m, "gone"))) {
		session_read_console(s, si);
		close_inst_fds(si);
		p->gone = 1;
		p->pid = 0;
		if (p->state != VLAB_STATE_FAILED)
			p->state = VLAB_STATE_EXITED;
		session_push(s, LESSON_EV_INSTANCE, -1, id, "gone");
		goto close_fds;
	}
	copy_str(p->name, sizeof(p->name), json_object_get(m, "name"));
	copy_str(p->engine, sizeof(p->engine), json_object_get(m, "engine"));
	copy_str(p->error, sizeof(p->error), json_object_get(m, "error"));
	p->state = parse_state(json_string_value(json_object_get(m, "state")));
	p->pid = (pid_t)json_integer_value(json_object_get(m, "pid"));
	p->startup_ns = (uint64_t)json_integer_value(json_object_get(m, "startup_ns"));
	json_t *attrs = json_object_get(m, "attrs");
	const char *k;
	json_t *v;
	p->nattrs = 0;
	json_object_foreach(attrs, k, v)
	{
		if (p->nattrs == VLAB_MAX_ATTRS || !json_is_string(v))
			continue;
		snprintf(p->attrs[p->nattrs].key, sizeof(p->attrs[0].key), "%s", k);
		snprintf(p->attrs[p->nattrs].value, sizeof(p->attrs[0].value), "%s",
			 json_string_value(v));
		p->nattrs++;
	}
	const char *be = lesson_instance_attr(p, "backend");
	snprintf(p->backend, sizeof(p->backend), "%s", be ? be : "");
	const char *em = lesson_instance_attr(p, "emulated");
	p->emulated = em && !strcmp(em, "yes");
	const char *ib = lesson_instance_attr(p, "image_bytes");
	p->image_bytes = ib ? strtoull(ib, NULL, 10) : 0;
	json_t *ph = json_object_get(m, "phases");
	p->nphases = 0;
	for (size_t i = 0; i < json_array_size(ph) && i < VLAB_MAX_PHASES; i++) {
		json_t *e = json_array_get(ph, i);
		copy_str(p->phases[i].name, sizeof(p->phases[i].name), json_array_get(e, 0));
		p->phases[i].ns = (uint64_t)json_integer_value(json_array_get(e, 1));
		p->nphases++;
	}
	json_t *names = json_object_get(m, "fds");
	for (size_t i = 0; i < nfds; i++) {
		const char *n = json_string_value(json_array_get(names, i));
		if (n && !strcmp(n, "console") && p->console_fd < 0) {
			p->console_fd = fds[i];
			vlab_fd_nonblock(p->console_fd, 1, NULL);
		} else if (n && !strcmp(n, "pidfd") && p->pidfd < 0) {
			p->pidfd = fds[i];
		} else if (n && !strcmp(n, "counters") && !si->map) {
			void *map = mmap(NULL, sizeof(struct vlab_counters), PROT_READ, MAP_SHARED,
					 fds[i], 0);
			close(fds[i]);
			if (map != MAP_FAILED) {
				si->map = map;
				p->counters = map;
			}
		} else {
			close(fds[i]);
		}
		fds[i] = -1;
	}
	session_push(s, LESSON_EV_INSTANCE, -1, id, vlab_state_name(p->state));
	return;
close_fds:
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

const char *lesson_instance_attr(const struct lesson_instance *inst, const char *key)
{
	for (size_t i = 0; i < inst->nattrs; i++)
		if (!strcmp(inst->attrs[i].key, key))
			return inst->attrs[i].value;
	return NULL;
}

size_t lesson_session_instance_count(const struct lesson_session *s)
{
	return s->ninst;
}

const struct lesson_instance *lesson_session_instance_at(const struct lesson_session *s, size_t i)
{
	return i < s->ninst ? &s->inst[i]->pub : NULL;
}

const struct lesson_instance *lesson_session_instance(const struct lesson_session *s, int id)
{
	struct sinst *si = session_find_inst(s, id);
	return si ? &si->pub : NULL;
}

void session_instances_gone(struct lesson_session *s)
{
	for (size_t i = 0; i < s->ninst; i++) {
		struct sinst *si = s->inst[i];
		if (si->pub.gone)
			continue;
		session_read_console(s, si);
		close_inst_fds(si);
		si->pub.gone = 1;
		si->pub.pid = 0;
		si->pub.state = VLAB_STATE_EXITED;
		session_push(s, LESSON_EV_INSTANCE, -1, si->pub.id, "gone");
	}
}

