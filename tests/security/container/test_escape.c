/* tests/security/container/test_escape.c: a container's root trying to get
 * out, the ways containers have been broken before: through pid 1's
 * /proc entries (runc's /proc/self/exe), device nodes, the host's cgroup
 * files (release_agent), core_pattern, the terminal (TIOCSTI), signals,
 * the network, the image underneath, and the runtime's own exec socket.
 * Every attempt must fail with the exact errno expected. */
#include "tests/integration/container/ct_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Runs "ct-probe VERB ARG..." and returns the errno it printed. */
static long probe_errno(struct vlab_instance *inst, const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "exec /bin/ct-probe %s", args);
	struct vlab_container_run r = ct_sh(inst, cmd);
	long e = ct_field(r.out, "errno");
	vlab_container_run_free(&r);
	return e;
}

static void test_pid1_is_out_of_reach(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-pid1", NULL);
	/* The init is a copy of the runtime: its exe is the host's vlab
	 * binary (runc's CVE-2019-5736), its memory the runtime's. */
	assert_int_equal(probe_errno(inst, "read /proc/1/exe"), EACCES);
	assert_int_equal(probe_errno(inst, "read /proc/1/environ"), EACCES);
	assert_int_equal(probe_errno(inst, "read /proc/1/mem"), EACCES);
	assert_int_equal(probe_errno(inst, "write /proc/1/mem x"), EACCES);
	assert_int_equal(probe_errno(inst, "read /proc/1/root/etc/passwd"), EACCES);
	assert_int_equal(probe_errno(inst, "read /proc/1/ns/mnt"), EACCES);
	/* ...and it cannot be killed from inside (pid 1 has no handler). */
	struct vlab_container_run r = ct_sh(inst, "kill -9 1; echo $?");
	assert_string_equal(r.out, "0\n");
	vlab_container_run_free(&r);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_RUNNING);
	r = ct_sh(inst, "cat /proc/1/comm");
	assert_string_equal(r.out, "vlab-init\n");
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_device_nodes_do_not_open(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-mknod", NULL);
	/* CAP_MKNOD is kept (as in Docker), but every writable place is
	 * mounted nodev: the host's disk and memory stay closed. */
	struct vlab_container_run r = ct_sh(inst, "exec /bin/ct-probe mknod");
	assert_non_null(strstr(r.out, "/tmp/vda mknod 0 open 13\n"));
	assert_non_null(strstr(r.out, "/dev/sda mknod 0 open 13\n"));
	assert_non_null(strstr(r.out, "/tmp/mem mknod 0 open 13\n"));
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_host_kernel_knobs_are_read_only(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-knobs", NULL);
	/* core_pattern: a pipe to a host program run as root on a crash */
	assert_int_equal(probe_errno(inst, "write /proc/sys/kernel/core_pattern '|/tmp/x'"), EROFS);
	assert_int_equal(probe_errno(inst, "write /proc/sys/vm/panic_on_oom 1"), EROFS);
	/* cgroup release_agent (CVE-2022-0492), limits, new cgroups */
	struct vlab_container_run r;
	if (ct_cgroup_version() == 2) {
		/* v2 has no release_agent; its limits, membership and the
		 * controllers given to children are files of the one cgroup */
		assert_int_equal(probe_errno(inst, "write /sys/fs/cgroup/pids.max max"), EROFS);
		assert_int_equal(probe_errno(inst, "write /sys/fs/cgroup/memory.max max"), EROFS);
		assert_int_equal(probe_errno(inst, "write /sys/fs/cgroup/cgroup.procs 1"), EROFS);
		assert_int_equal(
		    probe_errno(inst, "write /sys/fs/cgroup/cgroup.subtree_control +memory"), EROFS);
		r = ct_sh(inst, "mkdir /sys/fs/cgroup/x 2>&1; echo $?");
	} else {
		assert_int_equal(probe_errno(inst, "write /sys/fs/cgroup/pids/pids.max max"),
				 EROFS);
		assert_int_equal(
		    probe_errno(inst, "write /sys/fs/cgroup/memory/release_agent /tmp/x"),
		    ENOENT); /* only the hierarchy's root has one, and it is not ours */
		assert_int_equal(probe_errno(inst, "write /sys/fs/cgroup/memory/notify_on_release 1"),
				 EROFS);
		r = ct_sh(inst, "mkdir /sys/fs/cgroup/memory/x 2>&1; echo $?");
	}
	assert_non_null(strstr(r.out, "Read-only file system"));
	vlab_container_run_free(&r);
	/* sysfs: the devices behind the namespace */
	assert_int_equal(probe_errno(inst, "write /sys/class/net/lo/mtu 9000"), EROFS);
	vlab_instance_free(inst);
}

static void test_no_terminal_to_inject_into(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-tty", NULL);
	/* The runtime has its own session: nothing in the container has the
	 * front end's terminal as its controlling terminal (TIOCSTI). */
	assert_int_equal(probe_errno(inst, "read /dev/tty"), ENXIO);
	vlab_instance_free(inst);
}

static void test_signals_stay_inside(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-kill", NULL);
	pid_t runtime = vlab_instance_pid(inst);
	/* kill(-1) reaches every process of the container but its init... */
	char *argv[] = {"/bin/sh", "-c", "kill -9 -1", NULL};
	struct vlab_container_run r;
	struct vlab_err err = {0};
	vlab_container_run(inst, argv, NULL, 5000, &r, &err);
	vlab_container_run_free(&r);
	/* ...and nothing outside: this test and the runtime are alive. */
	assert_int_equal(kill(runtime, 0), 0);
	assert_false(ct_pid_ended(runtime));
	/* The program died; the init followed it: the container has ended. */
	assert_int_equal(vlab_instance_stop(inst, 3000, &err), 0);
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 128 + SIGKILL);
	vlab_instance_free(inst);
}

static void test_no_network_but_loopback(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-net", NULL);
	struct vlab_container_run r =
		ct_sh(inst, "ls /sys/class/net; ping -c1 -W1 10.0.2.2 2>&1 | tail -1");
	assert_true(!strncmp(r.out, "lo\n", 3));
	assert_non_null(strstr(r.out, "unreachable"));
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_the_image_is_never_written(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-image", NULL);
	char host[PATH_MAX + 32];
	snprintf(host, sizeof(host), "%s/etc/passwd", ct_rootfs);
	struct stat before, after;
	assert_int_equal(stat(host, &before), 0);
	struct vlab_container_run r = ct_sh(inst, "echo 'evil::0:0::/:/bin/sh' >> /etc/passwd && "
						  "rm /bin/ls && tail -1 /etc/passwd");
	assert_string_equal(r.out, "evil::0:0::/:/bin/sh\n");
	vlab_container_run_free(&r);
	/* The host's image is untouched: the change is in the container layer. */
	assert_int_equal(stat(host, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtime, before.st_mtime);
	char ls[PATH_MAX + 32], upper[PATH_MAX + 32];
	snprintf(ls, sizeof(ls), "%s/bin/ls", ct_rootfs);
	assert_true(ct_path_exists(ls));
	snprintf(upper, sizeof(upper), "%s/etc/passwd", vlab_instance_attr(inst, "layer.upper"));
	assert_true(ct_path_exists(upper));
	vlab_instance_free(inst);
}

/* A connection to the exec socket from another uid, in a child. */
static int exec_as_nobody(const char *name)
{
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		size_t l = strlen(name);
		memcpy(sa.sun_path, name, l);
		sa.sun_path[0] = '\0'; /* "@..." */
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (connect(fd, (struct sockaddr *)&sa,
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l)) < 0)
			_exit(3);
		char req[] = "x1/bin/sh\0";
		/* The runtime may close before the request is sent: that is
		 * the refusal too. */
		if (send(fd, req, sizeof(req), MSG_NOSIGNAL) < 0)
			_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 4);
		char buf[64];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		_exit(n <= 0 ? 0 : 5); /* refused: closed without an answer */
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_exec_socket_refuses_other_users(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-exec", NULL);
	const char *sock = vlab_instance_attr(inst, "exec.socket");
	assert_non_null(sock);
	assert_int_equal(sock[0], '@');
	assert_int_equal(exec_as_nobody(sock), 0);
	/* and no process was started for it */
	struct vlab_container_run r = ct_sh(inst, "ls /proc | grep -c '^[0-9]'");
	/* init, program, this shell, ls and grep (the shell may have run one
	 * of them itself already) */
	assert_true(!strcmp(r.out, "4\n") || !strcmp(r.out, "5\n"));
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_exec_gets_only_stdio(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("sec-fds", NULL);
	/* (": ;" keeps the shell from replacing itself with ls) */
	struct vlab_container_run r = ct_sh(inst, "ls /proc/$$/fd; :");
	assert_string_equal(r.out, "0\n1\n2\n");
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

int main(void)
{
	skip_reason = ct_cannot_run(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid1_is_out_of_reach),
		cmocka_unit_test(test_device_nodes_do_not_open),
		cmocka_unit_test(test_host_kernel_knobs_are_read_only),
		cmocka_unit_test(test_no_terminal_to_inject_into),
		cmocka_unit_test(test_signals_stay_inside),
		cmocka_unit_test(test_no_network_but_loopback),
		cmocka_unit_test(test_the_image_is_never_written),
		cmocka_unit_test(test_exec_socket_refuses_other_users),
		cmocka_unit_test(test_exec_gets_only_stdio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
