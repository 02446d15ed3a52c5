/* engines/vm/disk.c: create, measure and open raw disk images. */
#include "engines/vm/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vm_disk_create(const char *path, uint64_t size, enum vm_disk_alloc alloc, struct vlab_err *err)
{
	if (size == 0 || size % 512)
		return vlab_err_set(err, EINVAL,
				    "disk %s: size %llu is not a positive multiple of 512", path,
				    (unsigned long long)size);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return vlab_err_set(err, errno, "create disk %s", path);
	if (alloc == VM_DISK_FIXED) {
		/* posix_fallocate falls back to writing zeros where the file
		 * system cannot reserve blocks, as VirtualBox does. */
		int r = posix_fallocate(fd, 0, (off_t)size);
		if (r != 0) {
			vlab_err_set(err, r, "reserve %llu bytes for fixed-size disk %s",
				     (unsigned long long)size, path);
			goto fail;
		}
	} else if (ftruncate(fd, (off_t)size) < 0) {
		vlab_err_set(err, errno, "size dynamically allocated disk %s", path);
		goto fail;
	}
	if (fsync(fd) < 0) {
		vlab_err_set(err, errno, "sync disk %s", path);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	unlink(path);
	return -1;
}

int vm_disk_stat(const char *path, uint64_t *size, uint64_t *allocated, struct vlab_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return vlab_err_set(err, errno, "disk %s", path);
	if (size)
		*size = (uint64_t)st.st_size;
	if (allocated)
		*allocated = (uint64_t)st.st_blocks * 512;
	return 0;
}

int vm_disk_open(const char *path, int readonly, uint64_t *size, struct vlab_err *err)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open disk %s", path);
	struct stat st;
	uint64_t bytes = 0;
	if (fstat(fd, &st) < 0) {
		vlab_err_set(err, errno, "disk %s", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			vlab_err_set(err, errno, "size of block device %s", path);
			goto fail;
		}
	} else {
		vlab_err_set(err, EINVAL, "disk %s is neither a file nor a block device", path);
		goto fail;
	}
	if (bytes == 0 || bytes % 512) {
		vlab_err_set(err, EINVAL,
			     "disk %s: %llu bytes is not a whole number of 512-byte sectors", path,
			     (unsigned long long)bytes);
		goto fail;
	}
	*size = bytes;
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- the live allocation counter ---- */

static void publish_alloc(struct vm_disk_watch *w)
{
	struct stat st;
	if (fstat(w->fd, &st) == 0)
		__atomic_store_n(&w->cs->c[w->id].value, (uint64_t)st.st_blocks * 512,
				 __ATOMIC_RELAXED);
}

static void *watch_main(void *arg)
{
	struct vm_disk_watch *w = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = VM_DISK_WATCH_MS * 1000000L};
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		publish_alloc(w);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int vm_disk_watch_start(struct vm_disk_watch *w, const char *path, struct vlab_counters *cs,
			struct vlab_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!cs)
		return 0; /* nobody to tell */
	w->cs = cs;
	w->id = vlab_counters_id(cs, "disk.alloc_bytes");
	if (w->id < 0)
		return 0; /* the counter table is full: the counter is not kept */
	w->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0)
		return vlab_err_set(err, errno, "watch disk %s", path);
	publish_alloc(w);
	int r = pthread_create(&w->thread, NULL, watch_main, w);
	if (r != 0) {
		close(w->fd);
		w->fd = -1;
		return vlab_err_set(err, r, "watch disk %s: start a thread", path);
	}
	w->running = 1;
	return 0;
}

void vm_disk_watch_stop(struct vm_disk_watch *w)
{
	if (w->running) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pthread_join(w->thread, NULL);
		w->running = 0;
	}
	if (w->fd >= 0) {
		publish_alloc(w);
		close(w->fd);
		w->fd = -1;
	}
}
