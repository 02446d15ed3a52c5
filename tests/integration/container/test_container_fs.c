/* tests/integration/container/test_container_fs.c: the container's
 * filesystem and descriptors for real (root on this machine): masked and
 * read-only paths, the old root out of reach, the program's working folder
 * and root, only the expected descriptors, a symlinked rootfs refused, the
 * agent from the image.  Every assertion names an exact errno or value. */
#include "tests/integration/container/ct_fixture.h"

#include <dirent.h>
#include <fcntl.h>

static void test_masked_and_readonly_paths(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("masks", NULL);
	static const char *const files[] = {"/proc/kcore",	   "/proc/keys",
					    "/proc/timer_list",   "/proc/sched_debug",
					    "/proc/latency_stats", NULL};
	int checked = 0;
	for (int i = 0; files[i]; i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "exec /bin/ct-probe read %s", files[i]);
		struct vlab_container_run r = ct_sh(inst, cmd);
		if (ct_field(r.out, "errno") == ENOENT) { /* not in this kernel */
			vlab_container_run_free(&r);
			continue;
		}
		if (ct_field(r.out, "bytes") != 0 || ct_field(r.out, "errno") != 0)
			fail_msg("%s reads %ld bytes (errno %ld), expected empty", files[i],
				 ct_field(r.out, "bytes"), ct_field(r.out, "errno"));
		checked++;
		vlab_container_run_free(&r);
	}
	assert_true(checked >= 2);
	struct vlab_container_run r = ct_sh(inst, "ls -A /sys/firmware /proc/acpi 2>/dev/null | "
						  "grep -v ':$' | grep -c . || true");
	assert_string_equal(r.out, "0\n");
	vlab_container_run_free(&r);

	static const char *const ro[] = {"/proc/sys/kernel/hostname", "/proc/sysrq-trigger",
					 "/proc/sys/vm/drop_caches", NULL};
	for (int i = 0; ro[i]; i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "exec /bin/ct-probe write %s 1", ro[i]);
		r = ct_sh(inst, cmd);
		if (ct_field(r.out, "errno") == ENOENT && strcmp(ro[i], "/proc/sysrq-trigger") == 0) {
			vlab_container_run_free(&r); /* no magic SysRq in this kernel */
			continue;
		}
		if (ct_field(r.out, "errno") != EROFS)
			fail_msg("write %s: errno %ld, expected EROFS", ro[i], ct_field(r.out, "errno"));
		vlab_container_run_free(&r);
	}
	r = ct_sh(inst, "exec /bin/ct-probe write /sys/kernel/mm/transparent_hugepage/enabled never");
	assert_true(ct_field(r.out, "errno") == EROFS || ct_field(r.out, "errno") == ENOENT);
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_old_root_unreachable(void **state)
{
	(void)state;
	NEED_CONTAINER();
	char marker[64];
	snprintf(marker, sizeof(marker), "/tmp/vlab-ct-marker-%d", (int)getpid());
	int fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct vlab_instance *inst = ct_must_start("oldroot", NULL);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "exec /bin/ct-probe escape %s", marker);
	struct vlab_container_run r = ct_sh(inst, cmd);
	assert_non_null(strstr(r.out, "chroot 0")); /* CAP_SYS_CHROOT is kept, as in Docker */
	assert_non_null(strstr(r.out, "marker absent"));
	vlab_container_run_free(&r);
	/* The mount table holds the container's filesystems only: the root
	 * is the overlay and no mount of the host's root is left. */
	r = ct_sh(inst, "head -1 /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1; "
			"sed 's/.* - //' /proc/self/mountinfo | cut -d' ' -f1 | sort -u | tr '\\n' ' '");
	assert_true(!strncmp(r.out, "overlay\n", 8));
	char *types = strchr(r.out, '\n') + 1;
	for (char *t = strtok(types, " \n"); t; t = strtok(NULL, " \n"))
		if (strcmp(t, "overlay") && strcmp(t, "tmpfs") && strcmp(t, "devtmpfs") &&
		    strcmp(t, "devpts") && strcmp(t, "mqueue") && strcmp(t, "proc") &&
		    strcmp(t, "sysfs") && strcmp(t, "cgroup") && strcmp(t, "cgroup2"))
			fail_msg("a %s mount is visible in the container", t);
	vlab_container_run_free(&r);
	/* The program's root and working folder are the container's: a
	 * working folder left on the host would lead out of the container
	 * (through /proc/2/cwd too).  The runtime runs from a host folder,
	 * so a program that kept it would show it here. */
	r = ct_sh(inst, "readlink /proc/2/cwd; readlink /proc/2/root; "
			"ls /proc/2/cwd/ /proc/2/root/ | tr '\\n' ' '");
	assert_string_equal(r.out, "/\n/\n"
				   "/proc/2/cwd/: bin dev etc proc root sys tmp  "
				   "/proc/2/root/: bin dev etc proc root sys tmp ");
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
	unlink(marker);
}

/* The descriptors of pid, as "N->target" lines sorted by N. */
static int list_fds(pid_t pid, char targets[][128], int max)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd < max) {
			char p[128];
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			ssize_t l = readlink(p, targets[fd], 127);
			targets[fd][l > 0 ? l : 0] = '\0';
		}
		n++;
	}
	closedir(d);
	return n;
}

static void test_only_expected_fds(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("fds", NULL);
	pid_t init = (pid_t)atoi(vlab_instance_attr(inst, "init_pid"));
	char t[16][128];
	/* The init holds no descriptor at all. */
	assert_int_equal(list_fds(init, t, 16), 0);
	/* The program: the control channel on 0 and 1, the console on 2. */
	char p[96], kids[64] = "";
	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", (int)init, (int)init);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(kids, sizeof(kids), f));
	fclose(f);
	pid_t prog = (pid_t)atoi(kids);
	assert_true(prog > 0);
	assert_int_equal(list_fds(prog, t, 16), 3);
	assert_non_null(strstr(t[0], "socket:"));
	assert_string_equal(t[0], t[1]);
	assert_non_null(strstr(t[2], "socket:"));
	assert_string_not_equal(t[2], t[0]);
	vlab_instance_free(inst);
}

static void test_refuses_symlinked_rootfs(void **state)
{
	(void)state;
	NEED_CONTAINER();
	char dir[] = "/tmp/vlab-ct-badroot-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[128];
	snprintf(p, sizeof(p), "%s/proc", dir);
	assert_int_equal(symlink("/etc", p), 0);
	struct vlab_err err = {0};
	char kv[160];
	snprintf(kv, sizeof(kv), "rootfs=%s", dir);
	assert_null(ct_start_kv("badroot", (const char *[]){kv, "program=/bin/true", NULL}, &err));
	assert_int_equal(err.code, ELOOP);
	assert_non_null(strstr(err.msg, "/proc is a symbolic link"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/dev", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/null", dir);
	assert_int_equal(symlink("/etc/shadow", p), 0);
	assert_null(ct_start_kv("badroot", (const char *[]){kv, "program=/bin/true", NULL}, &err));
	assert_non_null(strstr(err.msg, "/dev/null is a symbolic link"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/dev", dir);
	rmdir(p);
	rmdir(dir);
}

static void test_the_agent_from_the_image(void **state)
{
	(void)state;
	NEED_CONTAINER();
	char agent[PATH_MAX];
	struct vlab_err err = {0};
	if (vlab_image_path(VLAB_IMAGE_ROOTFS, agent, sizeof(agent) - 20, &err) < 0)
		fail_msg("%s", err.msg);
	strcat(agent, "/bin/vlab-agent");
	if (access(agent, X_OK) != 0)
		VTEST_SKIP("the image is not built (make images): %s", agent);
	/* No rootfs, program or sh: the built image and its agent. */
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "container", "agent", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "memory", "96M", &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), 0);
	vlab_spec_free(&spec);
	if (vlab_instance_start(inst, &err) < 0 || vlab_instance_wait_ready(inst, 10000, &err) < 0)
		fail_msg("agent container: %s", err.msg);
	assert_true(!strncmp(vlab_instance_ready_line(inst), "READY vlab-agent/1 ", 19));
	const char *resp;
	assert_int_equal(vlab_instance_request(inst, "sysinfo", &resp, 5000, &err), 0);
	assert_non_null(strstr(resp, "hostname=agent "));
	assert_non_null(strstr(resp, " pid=2 "));
	/* the limit is visible inside, through the container's own cgroups */
	assert_non_null(strstr(resp, "mem_limit_bytes=100663296"));
	assert_int_equal(vlab_instance_stop(inst, 3000, &err), 0);
	vlab_instance_free(inst);
}

int main(void)
{
	skip_reason = ct_cannot_run(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masked_and_readonly_paths),
		cmocka_unit_test(test_old_root_unreachable),
		cmocka_unit_test(test_only_expected_fds),
		cmocka_unit_test(test_refuses_symlinked_rootfs),
		cmocka_unit_test(test_the_agent_from_the_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
