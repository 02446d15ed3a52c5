/* tests/unit/engines/vm/test_config.c: the vm engine's options become a
 * machine description, and impossible machines are refused by name. */
#include "tests/vtest.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "engines/engine.h"
#include "engines/vm/vm.h"

static int parse(struct vm_config *cfg, struct vlab_err *err, ...)
{
	struct vlab_spec spec;
	va_list ap;
	assert_int_equal(vlab_spec_init(&spec, "vm", "cfg", err), 0);
	/* Images that exist, so the defaults do not depend on `make images`. */
	assert_int_equal(vlab_spec_set(&spec, "kernel", "/proc/self/exe", err), 0);
	assert_int_equal(vlab_spec_set(&spec, "initrd", "none", err), 0);
	va_start(ap, err);
	for (const char *kv; (kv = va_arg(ap, const char *));)
		assert_int_equal(vlab_spec_set_kv(&spec, kv, err), 0);
	va_end(ap);
	int r = vlab_spec_check(&spec, vm_opts, err);
	if (r == 0)
		r = vm_config_from_spec(&spec, cfg, err);
	vlab_spec_free(&spec);
	return r;
}

static void test_defaults(void **state)
{
	(void)state;
	struct vm_config cfg;
	struct vlab_err err = {0};
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.mem_bytes, 256ull << 20);
	assert_int_equal(cfg.cpus, 1);
	assert_true(cfg.pae && cfg.nx && cfg.rng && !cfg.net.on);
	assert_string_equal(cfg.initrd, "");
	assert_string_equal(cfg.disk, "");
	assert_string_equal(cfg.cmdline, "console=ttyS0 panic=-1 vlab.hostname=cfg");
	assert_int_equal(cfg.backend, VM_BACKEND_AUTO);
}

static void test_lab_switches(void **state)
{
	(void)state;
	struct vm_config cfg;
	struct vlab_err err = {0};
	assert_int_equal(parse(&cfg, &err, "memory=512M", "cpus=2", "nx=off", "cmdline=quiet",
			       "backend=tcg", NULL),
			 0);
	assert_int_equal(cfg.mem_bytes, 512ull << 20);
	assert_int_equal(cfg.cpus, 2);
	assert_false(cfg.nx);
	assert_string_equal(cfg.cmdline, "console=ttyS0 panic=-1 vlab.hostname=cfg quiet");
	assert_int_equal(cfg.backend, VM_BACKEND_TCG);
}

static void test_refusals(void **state)
{
	(void)state;
	struct vm_config cfg;
	struct vlab_err err = {0};
	assert_int_equal(parse(&cfg, &err, "pae=off", NULL), -1);
	assert_non_null(strstr(err.msg, "long mode"));
	assert_int_equal(parse(&cfg, &err, "cpus=0", NULL), -1);
	assert_non_null(strstr(err.msg, "cpus"));
	assert_int_equal(parse(&cfg, &err, "memory=1M", NULL), -1);
	assert_non_null(strstr(err.msg, "memory"));
	assert_int_equal(parse(&cfg, &err, "disk=/nonexistent/x.img", NULL), -1);
	assert_non_null(strstr(err.msg, "disk_size"));
	assert_int_equal(parse(&cfg, &err, "disk_size=1000", NULL), -1);
	assert_int_equal(parse(&cfg, &err, "disk_alloc=thin", NULL), -1);
	assert_non_null(strstr(err.msg, "disk_alloc"));
	assert_int_equal(parse(&cfg, &err, "kernel=", NULL), -1);
	assert_non_null(strstr(err.msg, "kernel: empty path"));
	assert_int_equal(parse(&cfg, &err, "kernel=/nonexistent/bzImage", NULL), -1);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/bzImage"));

	char big[VM_CMDLINE_MAX + 16];
	memset(big, 'a', sizeof(big));
	memcpy(big, "cmdline=", 8);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(&cfg, &err, big, NULL), -1);
	assert_non_null(strstr(err.msg, "command line"));
}

static void test_disks(void **state)
{
	(void)state;
	struct vm_config cfg;
	struct vlab_err err = {0};
	/* No path: a scratch disk in the runtime folder, named for cleanup. */
	assert_int_equal(parse(&cfg, &err, "disk_size=64M", "disk_alloc=fixed", NULL), 0);
	assert_true(cfg.disk_scratch);
	assert_int_equal(cfg.disk_size, 64ull << 20);
	assert_int_equal(cfg.disk_alloc, VM_DISK_FIXED);
	char want[64];
	snprintf(want, sizeof(want), "/vm-%d-cfg.img", (int)getpid());
	assert_non_null(strstr(cfg.disk, want));
	/* An existing file is used as it is, whatever disk_size says. */
	assert_int_equal(parse(&cfg, &err, "disk=/proc/self/exe", "disk_size=1M", NULL), 0);
	assert_false(cfg.disk_scratch);
	assert_int_equal(cfg.disk_size, 0);
}

/* sweep() removes the scratch disks of dead instances, and only those. */
static void test_sweep(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlab-test-sweep-XXXXXX", dead[128], live[128], other[128];
	assert_non_null(mkdtemp(dir));
	setenv("VLAB_RUNTIME_DIR", dir, 1);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0); /* pid is now a dead process */
	snprintf(dead, sizeof(dead), "%s/vm-%d-gone.img", dir, (int)pid);
	snprintf(live, sizeof(live), "%s/vm-%d-alive.img", dir, (int)getpid());
	snprintf(other, sizeof(other), "%s/notes.txt", dir);
	const char *files[] = {dead, live, other};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "w");
		assert_non_null(f);
		fclose(f);
	}
	struct vlab_err err = {0};
	const struct vlab_engine *e = vlab_engine_find("vm");
	assert_non_null(e);
	assert_int_equal(e->sweep(&err), 0);
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	unlink(live);
	unlink(other);
	rmdir(dir);
	unsetenv("VLAB_RUNTIME_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults), cmocka_unit_test(test_lab_switches),
	    cmocka_unit_test(test_refusals), cmocka_unit_test(test_disks),
	    cmocka_unit_test(test_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
