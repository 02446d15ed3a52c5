/* tests/integration/container/test_rootless.c: the container as a normal
 * user (rootless mode): a user namespace maps the user to root inside, no
 * cgroup limits, and says so.  Run as root, the test drops to uid/gid
 * 65534 first (the way `setpriv --reuid` would), so it really is
 * unprivileged. */
#include "tests/integration/container/ct_fixture.h"

#include <fcntl.h>
#include <grp.h>

#define NOBODY 65534

static char runtime_dir[] = "/tmp/vlab-ct-rootless-XXXXXX";
static const char *user_dir; /* VLAB_RUNTIME_DIR when not root */

static void test_rootless_container(void **state)
{
	(void)state;
	if (skip_reason)
		VTEST_SKIP("%s", skip_reason);
	assert_int_not_equal(geteuid(), 0);
	/* A user's image is the user's own files (make images as that user):
	 * files of ids the namespace does not map cannot be copied up. */
	char mine[PATH_MAX + 16], cmd[2 * PATH_MAX + 64], kv[PATH_MAX + 16];
	snprintf(mine, sizeof(mine), "%s/rootfs", getenv("VLAB_RUNTIME_DIR"));
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", ct_rootfs, mine);
	assert_int_equal(system(cmd), 0);
	snprintf(kv, sizeof(kv), "rootfs=%s", mine);
	struct vlab_instance *inst =
		ct_must_start("rootless", (const char *[]){"hostname=mine", kv, NULL});
	/* Clearly reported: the backend is "rootless", no cgroup exists. */
	assert_string_equal(vlab_instance_attr(inst, "backend"), "rootless");
	assert_string_equal(vlab_instance_attr(inst, "userns"), "yes");
	assert_null(vlab_instance_attr(inst, "cgroup.memory"));

	char want_map[64];
	snprintf(want_map, sizeof(want_map), "0 %u 1", (unsigned)geteuid());
	struct vlab_container_run r =
		ct_sh(inst, "id -u; hostname; cat /proc/1/comm; tr -s ' ' </proc/self/uid_map; "
			    "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t'; "
			    "echo hello >/tmp/from-inside; /bin/ct-probe call unshare");
	assert_int_equal(r.status, 0);
	char exp[512];
	snprintf(exp, sizeof(exp),
		 "0\nmine\nvlab-init\n %s\nCapEff:00000000a80425fb\nNoNewPrivs:1\nSeccomp:2\nunshare %d\n",
		 want_map, EPERM);
	assert_string_equal(r.out, exp);
	vlab_container_run_free(&r);
	assert_true(ct_counter_wait(inst, "seccomp.denied.unshare", 1, 1000) >= 1);

	/* What the container wrote sits in its layer on the host, owned by
	 * the user who ran it. */
	char upper[PATH_MAX], file[PATH_MAX + 32];
	snprintf(upper, sizeof(upper), "%s", vlab_instance_attr(inst, "layer.upper"));
	snprintf(file, sizeof(file), "%s/tmp/from-inside", upper);
	struct stat st;
	if (stat(file, &st) < 0)
		fail_msg("stat %s: %s", file, strerror(errno));
	assert_int_equal(st.st_uid, geteuid());
	struct vlab_err err = {0};
	assert_int_equal(vlab_instance_stop(inst, 3000, &err), 0);
	assert_false(ct_path_exists(upper));
	vlab_instance_free(inst);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mine);
	assert_int_equal(system(cmd), 0);
}

/* As root: become nobody with a runtime folder of our own. */
static const char *drop_privileges(void)
{
	if (!mkdtemp(runtime_dir))
		return "cannot make a runtime folder";
	if (chown(runtime_dir, NOBODY, NOBODY) < 0)
		return "cannot give the runtime folder to uid 65534";
	setenv("VLAB_RUNTIME_DIR", runtime_dir, 1);
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return "cannot drop to uid 65534";
	return NULL;
}

int main(void)
{
	skip_reason = ct_cannot_run(0);
	if (!skip_reason) {
		struct vlab_hostcaps caps;
		vlab_hostcaps_probe(&caps, 0);
		if (!caps.userns_unpriv)
			skip_reason = "unprivileged user namespaces are disabled on this host";
	}
	int was_root = geteuid() == 0;
	if (!skip_reason && was_root)
		skip_reason = drop_privileges();
	if (!skip_reason && !was_root) {
		/* A normal user: a folder of our own for the copy of the image. */
		if (!mkdtemp(runtime_dir))
			skip_reason = "cannot make a runtime folder";
		else
			setenv("VLAB_RUNTIME_DIR", user_dir = runtime_dir, 1);
	}
	if (!skip_reason && (access(getenv("VLAB_SELF"), X_OK) != 0 ||
			     access("build/tests/ct-rootfs/bin/busybox", R_OK) != 0))
		skip_reason = "uid 65534 cannot reach the vlab binary or the test rootfs";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rootless_container),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (was_root || user_dir) {
		char ct[sizeof(runtime_dir) + 8];
		snprintf(ct, sizeof(ct), "%s/ct", runtime_dir);
		rmdir(ct);
		rmdir(runtime_dir); /* ours; empty when the test cleaned up */
	}
	return rc;
}
