/* tests/security/test_confinement.c: the running VMM and unikernel monitor
 * are confined (engines/confine.h): every thread of the instance process
 * has a seccomp filter (/proc/<pid>/task/<tid>/status says "Seccomp: 2"),
 * the instance says so (attribute "confinement", phase "confine"), and
 * what the confined VMM can no longer do itself (remove its scratch disk)
 * the front end does when it reaps it. */
#include "tests/vtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/paths.h"
#include "engines/engine.h"

#define VM_GUEST "build/tests/vm-guest/testguest.bzImage"

static int kvm_ok(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static struct vlab_instance *start(struct vlab_spec *spec)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	if (vlab_instance_create(spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
	vlab_spec_free(spec);
	if (vlab_instance_start(inst, &err) < 0 || vlab_instance_wait_ready(inst, 60000, &err) < 0)
		fail_msg("start %s: %s", vlab_instance_name(inst), err.msg);
	return inst;
}

/* Every thread of pid has a seccomp filter; returns how many threads. */
static int all_threads_filtered(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int threads = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char p[128], buf[4096];
		snprintf(p, sizeof(p), "%s/%s/status", dir, e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue; /* the thread ended meanwhile */
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if (!strstr(buf, "\nSeccomp:\t2\n"))
			fail_msg("thread %s of %d has no seccomp filter", e->d_name, (int)pid);
		threads++;
	}
	closedir(d);
	return threads;
}

static int has_phase(const struct vlab_instance *inst, const char *name)
{
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ph[i].name, name))
			return 1;
	return 0;
}

static void check_confined(struct vlab_instance *inst)
{
	const char *c = vlab_instance_attr(inst, "confinement");
	assert_non_null(c);
	assert_non_null(strstr(c, "seccomp"));
	assert_true(has_phase(inst, "confine"));
	int threads = all_threads_filtered(vlab_instance_pid(inst));
	print_message("%s: %d thread(s) confined (%s)\n", vlab_instance_name(inst), threads, c);
}

static void test_unikernel_monitor_confined(void **state)
{
	(void)state;
	char img[VLAB_PATH_MAX];
	if (!kvm_ok())
		VTEST_SKIP("/dev/kvm cannot be opened here");
	if (vlab_image_path(VLAB_IMAGE_UNIKERNEL, img, sizeof(img), NULL) < 0 ||
	    access(img, R_OK) != 0)
		VTEST_SKIP("the unikernel image is not built (make images)");
	struct vlab_spec spec;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "uk-confined", &err), 0);
	struct vlab_instance *inst = start(&spec);
	check_confined(inst);
	/* still does its job confined: a request and a clean stop */
	const char *resp;
	if (vlab_instance_request(inst, "sysinfo", &resp, 10000, &err) < 0)
		fail_msg("sysinfo: %s", err.msg);
	assert_int_equal(strncmp(resp, "ok", 2), 0);
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	int st = vlab_instance_exit_status(inst);
	if (!WIFEXITED(st))
		fail_msg("the monitor ended with %#x (%s)", st, vlab_instance_error(inst));
	vlab_instance_free(inst);
}

static void test_vmm_confined_and_its_disk_swept(void **state)
{
	(void)state;
	if (!kvm_ok())
		VTEST_SKIP("/dev/kvm cannot be opened here");
	if (access(VM_GUEST, R_OK) != 0)
		VTEST_SKIP("the VM test guest is not built (make tests)");
	struct vlab_spec spec;
	struct vlab_err err = {0};
	assert_int_equal(vlab_spec_init(&spec, "vm", "vm-confined", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "backend", "kvm", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "kernel", VM_GUEST, &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "initrd", "none", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "memory", "32M", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "disk_size", "1M", &err), 0);
	struct vlab_instance *inst = start(&spec);
	check_confined(inst);
	char disk[VLAB_PATH_MAX];
	const char *d = vlab_instance_attr(inst, "disk");
	assert_non_null(d);
	snprintf(disk, sizeof(disk), "%s", d);
	assert_int_equal(access(disk, F_OK), 0);
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	int st = vlab_instance_exit_status(inst);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		fail_msg("the VMM broke its confinement on the way out: %s", vlab_instance_error(inst));
	vlab_instance_free(inst);
	if (access(disk, F_OK) == 0)
		fail_msg("scratch disk %s left behind", disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unikernel_monitor_confined),
		cmocka_unit_test(test_vmm_confined_and_its_disk_swept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
