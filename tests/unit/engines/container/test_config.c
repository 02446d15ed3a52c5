/* tests/unit/engines/container/test_config.c: the container's options as a
 * spec carries them, refused with messages that name what is wrong; owner
 * tags and the removal of leftover folders. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engines/container/ct.h"

static char image[] = "/tmp/vlab-ut-image-XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(image))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/bin", image);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bin/vlab-agent", image);
	int fd = open(p, O_CREAT | O_WRONLY, 0755);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ct_rm_tree(image, NULL);
}

/* Parses "k=v" pairs (NULL-terminated) on top of rootfs=image. */
static int parse(struct ct_config *cfg, struct vlab_err *err, const char *const *kv)
{
	struct vlab_spec spec;
	memset(cfg, 0, sizeof(*cfg));
	vlab_spec_init(&spec, "container", "box", err);
	char r[128];
	snprintf(r, sizeof(r), "rootfs=%s", image);
	vlab_spec_set_kv(&spec, r, err);
	for (int i = 0; kv[i]; i++)
		assert_int_equal(vlab_spec_set_kv(&spec, kv[i], err), 0);
	int rc = vlab_spec_check(&spec, ct_opts, err);
	if (rc == 0)
		rc = ct_config_parse(&spec, cfg, err);
	vlab_spec_free(&spec);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	struct ct_config c;
	struct vlab_err err = {0};
	if (parse(&c, &err, (const char *[]){NULL}) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.hostname, "box");
	assert_int_equal(c.memory, 256ull << 20);
	assert_int_equal(c.pids, 128);
	assert_int_equal(c.cpu, 0);
	assert_true(c.seccomp);
	assert_false(c.net);
	assert_int_equal(c.grace_ns, 1000000000ull);
	/* the agent found in the image, run without arguments */
	assert_string_equal(c.argv[0], "/bin/vlab-agent");
	assert_null(c.argv[1]);
	assert_int_equal(c.rootless, geteuid() != 0);
	assert_int_equal(ct_caps_effective(&c), 0xa80425fbull);
	ct_config_free(&c);
}

static void test_values(void **state)
{
	(void)state;
	struct ct_config c;
	struct vlab_err err = {0};
	assert_int_equal(parse(&c, &err,
			       (const char *[]){"memory=64M", "pids=16", "cpu=50", "hostname=web",
						"program=/bin/busybox", "args=sh -c true",
						"cap.add=net_admin", "cap.drop=CAP_NET_RAW,mknod",
						"seccomp.deny=uname", "stop_grace=250ms", NULL}),
			 0);
	assert_int_equal(c.memory, 64ull << 20);
	assert_int_equal(c.pids, 16);
	assert_int_equal(c.cpu, 50);
	assert_string_equal(c.hostname, "web");
	assert_string_equal(c.argv[0], "/bin/busybox");
	assert_string_equal(c.argv[1], "sh");
	assert_string_equal(c.argv[3], "true");
	assert_null(c.argv[4]);
	assert_int_equal(ct_caps_effective(&c), (0xa80425fbull | (1ull << 12)) & ~((1ull << 13) | (1ull << 27)));
	assert_int_equal(c.ndeny, 1);
	assert_int_equal(c.grace_ns, 250000000ull);
	ct_config_free(&c);

	assert_int_equal(parse(&c, &err, (const char *[]){"sh=echo hi", NULL}), 0);
	assert_string_equal(c.argv[0], "/bin/sh");
	assert_string_equal(c.argv[1], "-c");
	assert_string_equal(c.argv[2], "echo hi");
	assert_null(c.argv[3]);
	ct_config_free(&c);
}

static void expect_error(const char *const *kv, const char *needle)
{
	struct ct_config c;
	struct vlab_err err = {0};
	int r = parse(&c, &err, kv);
	ct_config_free(&c);
	if (r == 0)
		fail_msg("%s accepted", kv[0]);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not name '%s'", err.msg, needle);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error((const char *[]){"memory=lots", NULL}, "memory");
	expect_error((const char *[]){"memory=1M", NULL}, "below 4M");
	expect_error((const char *[]){"pids=-1", NULL}, "pids");
	expect_error((const char *[]){"cpu=half", NULL}, "cpu");
	expect_error((const char *[]){"colour=red", NULL}, "colour");
	expect_error((const char *[]){"seccomp.deny=mount,frobnicate", NULL}, "frobnicate");
	expect_error((const char *[]){"seccomp=off", "seccomp.deny=uname", NULL}, "seccomp=on");
	expect_error((const char *[]){"cap.add=fly", NULL}, "'fly'");
	expect_error((const char *[]){"sh=true", "program=/bin/true", NULL}, "either");
	expect_error((const char *[]){"program=bin/true", NULL}, "absolute");
	expect_error((const char *[]){"hostname=a/b", NULL}, "hostname");
	expect_error((const char *[]){"rootfs=/no/such/image", NULL}, "/no/such/image");
	expect_error((const char *[]){"rootfs=/tmp/a,b", NULL}, "','");
}

static void test_missing_agent(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof(p), "%s/bin/vlab-agent", image);
	unlink(p);
	expect_error((const char *[]){NULL}, "no vlab-agent in the image");
	int fd = open(p, O_CREAT | O_WRONLY, 0755);
	close(fd);
}

static void test_rootfs_check(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	assert_int_equal(ct_rootfs_check(image, &err), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/sys", image);
	assert_int_equal(symlink("/sys", p), 0);
	assert_int_equal(ct_rootfs_check(image, &err), -1);
	assert_int_equal(err.code, ELOOP);
	assert_non_null(strstr(err.msg, "/sys is a symbolic link"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/dev", image);
	int fd = open(p, O_CREAT | O_WRONLY, 0644); /* a file where a folder belongs */
	close(fd);
	assert_int_equal(ct_rootfs_check(image, &err), -1);
	assert_int_equal(err.code, ENOTDIR);
	unlink(p);
}

static void test_owner_tags(void **state)
{
	(void)state;
	char tag[128];
	struct vlab_err err = {0};
	assert_int_equal(ct_owner_tag("box-1", tag, sizeof(tag), &err), 0);
	assert_int_equal(ct_owner_alive(tag), 1);
	/* same pid, another start time: a different (dead) process */
	char other[160];
	snprintf(other, sizeof(other), "box-1.%d.1", (int)getpid());
	assert_int_equal(ct_owner_alive(other), 0);
	/* a process that has ended */
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	snprintf(other, sizeof(other), "x.%d.12345", (int)p);
	assert_int_equal(ct_owner_alive(other), 0);
	/* not ours: never touched */
	assert_int_equal(ct_owner_alive("process_api"), -1);
	assert_int_equal(ct_owner_alive("a.b.c"), -1);
	assert_int_equal(ct_owner_alive("a.12."), -1);
	assert_int_equal(ct_owner_alive(".1.2"), -1);
}

static void test_rm_tree_stays_inside(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlab-ut-rm-XXXXXX", keep[] = "/tmp/vlab-ut-keep-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(keep));
	char p[256], f[256];
	snprintf(f, sizeof(f), "%s/precious", keep);
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	close(fd);
	/* a symlink out of the tree, and a folder nobody may enter */
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink(keep, p), 0);
	snprintf(p, sizeof(p), "%s/work", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/work/work", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/work/work/inner", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	close(fd);
	snprintf(p, sizeof(p), "%s/work/work", dir);
	chmod(p, 0);
	struct vlab_err err = {0};
	assert_int_equal(ct_rm_tree(dir, &err), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(stat(f, &st), 0);
	ct_rm_tree(keep, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_agent),
		cmocka_unit_test(test_rootfs_check),
		cmocka_unit_test(test_owner_tags),
		cmocka_unit_test(test_rm_tree_stays_inside),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
