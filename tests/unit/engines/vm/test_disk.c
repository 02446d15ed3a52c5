/* tests/unit/engines/vm/test_disk.c: raw disk images, dynamically
 * allocated and fixed size, as in the VirtualBox hands-on. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engines/vm/disk.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vlab-test-disk-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void test_dynamic_is_sparse(void **state)
{
	(void)state;
	char p[128];
	struct vlab_err err = {0};
	uint64_t size, alloc;
	path(p, sizeof(p), "dyn.img");
	assert_int_equal(vm_disk_create(p, 64 << 20, VM_DISK_DYNAMIC, &err), 0);
	assert_int_equal(vm_disk_stat(p, &size, &alloc, &err), 0);
	assert_int_equal(size, 64 << 20);
	assert_true(alloc < (1 << 20)); /* owns (almost) no blocks yet */
}

static void test_fixed_is_allocated(void **state)
{
	(void)state;
	char p[128];
	struct vlab_err err = {0};
	uint64_t size, alloc;
	path(p, sizeof(p), "fixed.img");
	assert_int_equal(vm_disk_create(p, 8 << 20, VM_DISK_FIXED, &err), 0);
	assert_int_equal(vm_disk_stat(p, &size, &alloc, &err), 0);
	assert_int_equal(size, 8 << 20);
	assert_true(alloc >= size);
}

static void test_create_refuses(void **state)
{
	(void)state;
	char p[128];
	struct vlab_err err = {0};
	path(p, sizeof(p), "twice.img");
	assert_int_equal(vm_disk_create(p, 1 << 20, VM_DISK_DYNAMIC, &err), 0);
	assert_int_equal(vm_disk_create(p, 1 << 20, VM_DISK_DYNAMIC, &err), -1);
	assert_int_equal(err.code, EEXIST);
	path(p, sizeof(p), "odd.img");
	assert_int_equal(vm_disk_create(p, 1000, VM_DISK_DYNAMIC, &err), -1);
	assert_non_null(strstr(err.msg, "multiple of 512"));
	assert_int_equal(access(p, F_OK), -1); /* nothing left behind */
}

static void test_open_checks(void **state)
{
	(void)state;
	char p[128];
	struct vlab_err err = {0};
	uint64_t size = 0;
	path(p, sizeof(p), "open.img");
	assert_int_equal(vm_disk_create(p, 1 << 20, VM_DISK_DYNAMIC, &err), 0);
	int fd = vm_disk_open(p, 0, &size, &err);
	assert_true(fd >= 0);
	assert_int_equal(size, 1 << 20);
	close(fd);

	path(p, sizeof(p), "ragged.img");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(vm_disk_open(p, 0, &size, &err), -1);
	assert_non_null(strstr(err.msg, "512-byte sectors"));

	assert_int_equal(vm_disk_open(dir, 0, &size, &err), -1);
	path(p, sizeof(p), "missing.img");
	assert_int_equal(vm_disk_open(p, 0, &size, &err), -1);
	assert_int_equal(err.code, ENOENT);
}

/* The live counter follows the file as it fills, while it fills. */
static void test_watch_follows_writes(void **state)
{
	(void)state;
	char p[128];
	struct vlab_err err = {0};
	struct vlab_counters *cs = calloc(1, sizeof(*cs));
	assert_non_null(cs);
	vlab_counters_init(cs);
	path(p, sizeof(p), "watched.img");
	assert_int_equal(vm_disk_create(p, 16 << 20, VM_DISK_DYNAMIC, &err), 0);
	struct vm_disk_watch w;
	assert_int_equal(vm_disk_watch_start(&w, p, cs, &err), 0);
	assert_true(vlab_counters_get(cs, "disk.alloc_bytes") < (1 << 20));

	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	static char block[1 << 20];
	memset(block, 0x5a, sizeof(block));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pwrite(fd, block, sizeof(block), (off_t)i << 21), sizeof(block));
	assert_int_equal(fsync(fd), 0);
	uint64_t seen = 0;
	for (int i = 0; i < 50 && seen < (4u << 20); i++) { /* refreshed while running */
		usleep(VM_DISK_WATCH_MS * 100);
		seen = vlab_counters_get(cs, "disk.alloc_bytes");
	}
	assert_true(seen >= (4u << 20));
	assert_true(seen < (16u << 20)); /* only what was written */

	assert_int_equal(pwrite(fd, block, sizeof(block), 12 << 20), sizeof(block));
	assert_int_equal(fsync(fd), 0);
	close(fd);
	vm_disk_watch_stop(&w); /* publishes a last figure */
	assert_true(vlab_counters_get(cs, "disk.alloc_bytes") >= (5u << 20));
	assert_int_equal(w.fd, -1);
	vm_disk_watch_stop(&w); /* twice is harmless */

	path(p, sizeof(p), "missing.img");
	assert_int_equal(vm_disk_watch_start(&w, p, cs, &err), -1);
	assert_int_equal(err.code, ENOENT);
	vm_disk_watch_stop(&w);
	free(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dynamic_is_sparse),
	    cmocka_unit_test(test_fixed_is_allocated),
	    cmocka_unit_test(test_create_refuses),
	    cmocka_unit_test(test_open_checks),
	    cmocka_unit_test(test_watch_follows_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
