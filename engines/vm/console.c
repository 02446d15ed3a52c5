/* engines/vm/console.c: bounded, non-blocking console output. */
#include "engines/vm/console.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void vm_console_init(struct vm_console *c, int fd, struct vlab_child *child)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->fd = fd;
	c->child = child;
	c->dropped_id = child ? vlab_counters_id(child->counters, "console.dropped") : -1;
}

void vm_console_destroy(struct vm_console *c)
{
	pthread_mutex_destroy(&c->lock);
}

int vm_console_is_kernel_line(const char *line, size_t len)
{
	if (memmem(line, len, "Linux version", 13))
		return 1;
	if (len < 3 || line[0] != '[')
		return 0;
	size_t i = 1;
	while (i < len && line[i] == ' ')
		i++;
	size_t digits = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++, digits++;
	return digits > 0 && i < len && line[i] == '.';
}

static void watch_lines(struct vm_console *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !c->kernel_seen; i++) {
		if (p[i] == '\n') {
			if (vm_console_is_kernel_line(c->line, c->linelen)) {
				c->kernel_seen = 1;
				if (c->child)
					vlab_child_phase(c->child, "console");
			}
			c->linelen = 0;
		} else if (c->linelen < sizeof(c->line)) {
			c->line[c->linelen++] = p[i];
		}
	}
}

static size_t flush_locked(struct vm_console *c)
{
	while (c->len && c->fd >= 0) {
		ssize_t w = write(c->fd, c->buf, c->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			c->fd = -1; /* the front end closed it: drop from now on */
			c->len = 0;
			break;
		}
		if (w <= 0)
			break;
		memmove(c->buf, c->buf + w, c->len - (size_t)w);
		c->len -= (size_t)w;
	}
	return c->len;
}

void vm_console_write(struct vm_console *c, const void *data, size_t len)
{
	pthread_mutex_lock(&c->lock);
	watch_lines(c, data, len);
	size_t room = sizeof(c->buf) - c->len;
	if (len > room) {
		c->dropped += len - room;
		if (c->child)
			vlab_counter_add(c->child->counters, c->dropped_id, len - room);
		len = room;
	}
	if (c->fd < 0)
		len = 0;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	if (memchr(data, '\n', len) || c->len >= sizeof(c->buf) / 2)
		flush_locked(c);
	pthread_mutex_unlock(&c->lock);
}

size_t vm_console_flush(struct vm_console *c)
{
	pthread_mutex_lock(&c->lock);
	size_t left = flush_locked(c);
	pthread_mutex_unlock(&c->lock);
	return left;
}
