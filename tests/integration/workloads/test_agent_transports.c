/* tests/integration/workloads/test_agent_transports.c: the agent binary on
 * each control channel the engines use: an inherited socket (--fd, the
 * container's socketpair), a serial line (--serial on a pseudo-terminal:
 * raw, no echo) and as PID 1 of a PID namespace (the container's init:
 * it reaps orphans and ends cleanly on SIGTERM). */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "core/fdio.h"
#include "core/paths.h"
#include "workloads/proto.h"

extern char **environ;

static char agent[VLAB_PATH_MAX];
static struct vlab_lines lb;

static int setup(void **state)
{
	(void)state;
	if (vlab_image_path(VLAB_IMAGE_AGENT, agent, sizeof(agent), NULL) < 0)
		return -1;
	vlab_lines_init(&lb, VLAB_PROTO_LINE_MAX + 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vlab_lines_free(&lb);
	return 0;
}

/* Starts argv with fd as descriptor 3 (when >= 0). */
static pid_t spawn(char **argv, int fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd, 3);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		fail_msg("start %s: %s", argv[0], strerror(r));
	return pid;
}

static char *line_from(int fd)
{
	char *line;
	struct vlab_err err = {0};
	int r = vlab_lines_wait(&lb, fd, 10000, &line, &err);
	if (r <= 0)
		fail_msg("no line from the agent: %s", r == 0 ? "timeout" : err.msg);
	return line;
}

static void say(int fd, const char *text)
{
	struct vlab_err err = {0};
	assert_int_equal(vlab_write_all(fd, text, strlen(text), 5000, &err), 0);
}

static int wait_exit(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_fd(void **state)
{
	(void)state;
	if (access(agent, X_OK) != 0)
		VTEST_SKIP("%s is not built (make images)", agent);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char *argv[] = {agent, "--fd", "3", NULL};
	pid_t pid = spawn(argv, sv[1]);
	close(sv[1]);
	lb.len = lb.consumed = 0;
	lb.eof = 0;
	assert_int_equal(strncmp(line_from(sv[0]), "READY vlab-agent/1 ", 19), 0);
	say(sv[0], "1 ping\n2 shutdown\n");
	assert_int_equal(strncmp(line_from(sv[0]), "1 ok t_ns=", 10), 0);
	assert_string_equal(line_from(sv[0]), "2 ok");
	int st = wait_exit(pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[0]);

	/* A descriptor that is not open is refused up front. */
	char *bad[] = {agent, "--fd", "77", NULL};
	st = wait_exit(spawn(bad, -1));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

static void test_serial(void **state)
{
	(void)state;
	if (access(agent, X_OK) != 0)
		VTEST_SKIP("%s is not built (make images)", agent);
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		VTEST_SKIP("no pseudo-terminals here: %s", strerror(errno));
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	char path[64];
	assert_int_equal(ptsname_r(master, path, sizeof(path)), 0);
	char *argv[] = {agent, "--serial", path, NULL};
	pid_t pid = spawn(argv, -1);
	lb.len = lb.consumed = 0;
	lb.eof = 0;
	assert_int_equal(strncmp(line_from(master), "READY vlab-agent/1 ", 19), 0);
	/* Raw mode: what we send is not echoed back, CR LF is a line end,
	 * and no output newline becomes CR LF (the line reader would keep a
	 * stray CR otherwise: it only drops one before LF). */
	say(master, "1 sysinfo\r\n");
	char *l = line_from(master);
	assert_int_equal(strncmp(l, "1 ok platform=linux", 19), 0);
	assert_null(strchr(l, '\r'));
	say(master, "2 shutdown\n");
	assert_string_equal(line_from(master), "2 ok");
	int st = wait_exit(pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(master);

	char *missing[] = {agent, "--serial", "/dev/nonexistent-tty", NULL};
	st = wait_exit(spawn(missing, -1));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

static void test_pid1(void **state)
{
	(void)state;
	if (access(agent, X_OK) != 0)
		VTEST_SKIP("%s is not built (make images)", agent);
	if (system("unshare --user --map-root-user --pid --fork --mount-proc true 2>/dev/null") != 0)
		VTEST_SKIP("cannot create user and PID namespaces here (unshare -Urpf)");
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char *argv[] = {"unshare", "--user", "--map-root-user", "--pid", "--fork",
			"--mount-proc", agent, "--fd", "3", NULL};
	pid_t pid = spawn(argv, sv[1]);
	close(sv[1]);
	lb.len = lb.consumed = 0;
	lb.eof = 0;
	assert_int_equal(strncmp(line_from(sv[0]), "READY vlab-agent/1 ", 19), 0);
	say(sv[0], "1 sysinfo\n");
	struct vlab_proto_msg m;
	char *l = line_from(sv[0]);
	assert_int_equal(vlab_proto_parse(l, &m), 0);
	assert_string_equal(vlab_proto_str(&m, "pid", ""), "1");

	/* An orphan: the shell's background child outlives it and is
	 * reparented to PID 1, the agent, which must reap it. */
	say(sv[0], "2 exec cmd=sleep%200.2%20%26%20echo%20$!\n");
	l = line_from(sv[0]);
	assert_int_equal(vlab_proto_parse(l, &m), 0);
	assert_int_equal(m.kind, VLAB_MSG_OK);
	usleep(800000);
	say(sv[0], "3 exec cmd=grep%20-l%20zombie%20/proc/[0-9]*/status%20%7C%7C%20echo%20none\n");
	l = line_from(sv[0]);
	assert_int_equal(vlab_proto_parse(l, &m), 0);
	assert_string_equal(vlab_proto_str(&m, "stdout", ""), "none\n");

	/* SIGTERM to PID 1 (only delivered because the agent handles it):
	 * the answer in flight comes first, then a clean exit. */
	say(sv[0], "4 exec cmd=kill%20-TERM%201%3B%20echo%20sent\n");
	l = line_from(sv[0]);
	assert_int_equal(strncmp(l, "4 ok", 4), 0);
	int st = wait_exit(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_pid1),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
