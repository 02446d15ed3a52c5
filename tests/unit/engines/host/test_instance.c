/* tests/unit/engines/host/test_instance.c: the instance-as-child-process
 * mechanism, proved with the host engine: lifecycle, error paths, teardown
 * (no leaked descriptors or children), and death with the front end. */
#include "tests/vtest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>

#include "core/clock.h"
#include "engines/engine.h"

#define ECHO_AGENT                                                                                 \
	"echo READY vlab-agent/1 fake; while read id rest; do echo \"$id ok $rest\"; done"

static struct vlab_instance *make(const char *name, const char *key, const char *value)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "host", name, &err), 0);
	if (key)
		assert_int_equal(vlab_spec_set(&spec, key, value, &err), 0);
	int r = vlab_instance_create(&spec, &inst, &err);
	if (r < 0)
		print_message("create: %s\n", err.msg);
	assert_int_equal(r, 0);
	vlab_spec_free(&spec);
	return inst;
}

static void test_lifecycle(void **state)
{
	(void)state;
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct vlab_err err = {0};
	struct vlab_instance *inst = make("echo", "sh", ECHO_AGENT);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_CREATED);
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_STARTING);
	assert_true(vlab_instance_pid(inst) > 0);
	if (vlab_instance_wait_ready(inst, 5000, &err) < 0)
		fail_msg("wait_ready: %s", err.msg);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_RUNNING);
	assert_string_equal(vlab_instance_ready_line(inst), "READY vlab-agent/1 fake");
	assert_true(vlab_instance_startup_ns(inst) > 0);
	assert_true(vlab_instance_startup_ns(inst) < 5000000000ull);

	const char *resp;
	assert_int_equal(vlab_instance_request(inst, "ping a=1", &resp, 2000, &err), 0);
	assert_string_equal(resp, "ok ping a=1");
	assert_int_equal(vlab_instance_request(inst, "second", &resp, 2000, &err), 0);
	assert_string_equal(resp, "ok second");
	assert_int_equal(vlab_instance_request(inst, "bad\nline", &resp, 2000, &err), -1);

	/* Phases and attributes reported by the instance process. */
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	assert_true(n >= 2);
	assert_string_equal(ph[0].name, "spawn");
	assert_string_equal(ph[n - 1].name, "exec");
	assert_true(ph[0].ns <= ph[n - 1].ns);
	assert_string_equal(vlab_instance_attr(inst, "backend"), "native");

	assert_int_equal(vlab_instance_stop(inst, 2000, &err), 0);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_EXITED);
	assert_int_equal(vlab_instance_pid(inst), 0);
	assert_int_equal(vlab_instance_request(inst, "ping", &resp, 100, &err), -1);
	vlab_instance_free(inst);
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
}

static void test_dies_before_ready(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct vlab_instance *inst = make("dies", "sh", "echo starting; exit 3");
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_wait_ready(inst, 5000, &err), -1);
	assert_non_null(strstr(err.msg, "status 3"));
	assert_int_equal(vlab_instance_pid(inst), 0);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 3);
	vlab_instance_free(inst);
}

/* CPU time of this process, ms. */
static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void test_waits_without_spinning(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	/* The instance's exec closes its event channel; READY comes 300 ms
	 * later.  Waiting must sleep in poll meanwhile: a poll on the ended
	 * channel returned at once, a busy loop that took the CPU the agent
	 * needed (a host start after a workload took 3.9 ms, not 0.7). */
	struct vlab_instance *inst = make("patient", "sh", "sleep 0.3; " ECHO_AGENT);
	double before = cpu_ms();
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_wait_ready(inst, 5000, &err), 0);
	double used = cpu_ms() - before;
	print_message("waited 300+ ms for READY using %.1f ms of CPU\n", used);
	assert_true(used < 100);
	assert_int_equal(vlab_instance_event_fd(inst), -1); /* the channel has ended */
	vlab_instance_stop(inst, 1000, NULL);
	vlab_instance_free(inst);
}

static void test_exec_failure_reported(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	struct vlab_instance *inst = make("noexe", "program", "/nonexistent/agent");
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_wait_ready(inst, 5000, &err), -1);
	/* The instance process' own error travels up, with its context. */
	assert_non_null(strstr(err.msg, "/nonexistent/agent"));
	assert_non_null(strstr(err.msg, "No such file"));
	assert_non_null(strstr(vlab_instance_error(inst), "/nonexistent/agent"));
	vlab_instance_free(inst);
}

static void test_timeout_then_kill(void **state)
{
	(void)state;
	int kids = vtest_count_children();
	struct vlab_err err = {0};
	/* Never READY, and deaf to SIGTERM: the grace period ends in SIGKILL. */
	struct vlab_instance *inst = make("deaf", "sh", "trap '' TERM; while :; do sleep 1; done");
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	assert_int_equal(vlab_instance_wait_ready(inst, 100, &err), -1);
	assert_int_equal(err.code, ETIMEDOUT);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_STARTING);
	uint64_t t0 = vlab_now_ns();
	assert_int_equal(vlab_instance_stop(inst, 200, &err), 0);
	uint64_t took = vlab_now_ns() - t0;
	assert_true(took >= 150000000ull);
	assert_true(WIFSIGNALED(vlab_instance_exit_status(inst)));
	assert_int_equal(WTERMSIG(vlab_instance_exit_status(inst)), SIGKILL);
	vlab_instance_free(inst);
	assert_int_equal(vtest_count_children(), kids);
}

static void test_bad_specs(void **state)
{
	(void)state;
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "xen", "x", &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), -1);
	assert_non_null(strstr(err.msg, "xen"));
	vlab_spec_free(&spec);

	assert_int_equal(vlab_spec_init(&spec, "host", "x", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "colour", "red", &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), -1);
	assert_non_null(strstr(err.msg, "colour"));
	vlab_spec_free(&spec);

	assert_int_equal(vlab_spec_init(&spec, "host", "x", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "sh", "true", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "program", "/bin/true", &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), -1);
	assert_non_null(strstr(err.msg, "either"));
	vlab_spec_free(&spec);
	assert_null(inst);
}

static void test_only_stdio_inherited(void **state)
{
	(void)state;
	struct vlab_err err = {0};
	/* ls lists its own descriptors: stdio plus the one it reads with. */
	struct vlab_instance *inst = NULL;
	struct vlab_spec spec;
	assert_int_equal(vlab_spec_init(&spec, "host", "fds", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "program", "/bin/ls", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "args", "-1 /proc/self/fd", &err), 0);
	assert_int_equal(vlab_instance_create(&spec, &inst, &err), 0);
	vlab_spec_free(&spec);
	int extra = open("/dev/null", O_RDONLY); /* not close-on-exec: must not leak */
	assert_true(extra >= 0);
	assert_int_equal(vlab_instance_start(inst, &err), 0);
	close(extra);
	/* Not an agent: it never says READY; read its output instead. */
	char out[256] = "";
	size_t len = 0;
	int fd = vlab_instance_control_fd(inst);
	uint64_t deadline = vlab_now_ns() + 3000000000ull;
	while (vlab_now_ns() < deadline && len < sizeof(out) - 1) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	assert_string_equal(out, "0\n1\n2\n3\n");
	vlab_instance_free(inst);
}

static void test_dies_with_front_end(void **state)
{
	(void)state;
	/* A front end that starts an instance and is then killed: the
	 * instance must not outlive it. */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t fe = fork();
	assert_true(fe >= 0);
	if (fe == 0) {
		struct vlab_err err = {0};
		struct vlab_spec spec;
		struct vlab_instance *inst;
		vlab_spec_init(&spec, "host", "orphan", &err);
		vlab_spec_set(&spec, "sh", "echo READY; exec sleep 60", &err);
		if (vlab_instance_create(&spec, &inst, &err) < 0 ||
		    vlab_instance_start(inst, &err) < 0 || vlab_instance_wait_ready(inst, 5000, &err) < 0)
			_exit(1);
		pid_t p = vlab_instance_pid(inst);
		if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	pid_t child = 0;
	assert_int_equal(read(pfd[0], &child, sizeof(child)), sizeof(child));
	close(pfd[0]);
	assert_int_equal(kill(child, 0), 0);
	kill(fe, SIGKILL);
	waitpid(fe, NULL, 0);
	int gone = 0;
	for (int i = 0; i < 200 && !gone; i++) {
		gone = kill(child, 0) < 0 && errno == ESRCH;
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
}

static void test_refuses_to_run_by_hand(void **state)
{
	(void)state;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "'%s' __instance --engine host --name x </dev/null >/dev/null 2>&1",
		 getenv("VLAB_SELF"));
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
}

int main(void)
{
	if (!getenv("VLAB_SELF"))
		setenv("VLAB_SELF", "vlab", 0);
	if (access(getenv("VLAB_SELF"), X_OK) != 0) {
		printf("SKIP: the vlab binary (VLAB_SELF=%s) is not built\n", getenv("VLAB_SELF"));
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_dies_before_ready),
		cmocka_unit_test(test_waits_without_spinning),
		cmocka_unit_test(test_exec_failure_reported),
		cmocka_unit_test(test_timeout_then_kill),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_only_stdio_inherited),
		cmocka_unit_test(test_dies_with_front_end),
		cmocka_unit_test(test_refuses_to_run_by_hand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
