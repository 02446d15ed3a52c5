/* tests/unit/engines/test_confine.c: the seccomp profiles of engines/confine.c,
 * each case in a child process that confines itself and then tries one
 * thing: what the run loops do works; anything else kills the child with
 * SIGSYS, after it wrote "log" and "error" events naming the call on the
 * event descriptor, as the front end would read them. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "engines/confine.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

static int have_seccomp(void)
{
	return access("/proc/sys/kernel/seccomp/actions_avail", R_OK) == 0;
}

static void *thread_main(void *arg)
{
	return arg;
}

enum what { NOTHING, THREAD, SOCKET, OPEN, EXEC_MAP, IOCTL, FORK, KILL_OTHER, INT80 };

/* Confines a child with profile, makes it do `what`, returns its wait
 * status and what it wrote to the event descriptor. */
static int run(enum vlab_confine_profile profile, enum what what, char *events, size_t len)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], VLAB_CHILD_EVENT_FD) < 0)
			_exit(90);
		struct vlab_err err = {0};
		if (vlab_confine(profile, NULL, &err) < 0)
			_exit(91);
		(void)!write(VLAB_CHILD_EVENT_FD, "confined\n", 9);
		pthread_t t;
		void *ret = NULL;
		switch (what) {
		case NOTHING:
			break;
		case THREAD:
			if (pthread_create(&t, NULL, thread_main, (void *)7) != 0 ||
			    pthread_join(t, &ret) != 0 || ret != (void *)7)
				_exit(92);
			break;
		case SOCKET:
			socket(AF_INET, SOCK_DGRAM, 0);
			break;
		case OPEN:
			open("/etc/hostname", O_RDONLY);
			break;
		case EXEC_MAP:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case IOCTL: {
			int n;
			ioctl(VLAB_CHILD_EVENT_FD, FIONREAD, &n);
			break;
		}
		case FORK:
			if (fork() == 0)
				_exit(0);
			break;
		case KILL_OTHER:
			syscall(SYS_tgkill, 1, 1, 0);
			break;
		case INT80: {
			long r = 20; /* i386 getpid */
			__asm__ volatile("int $0x80" : "+a"(r)::"memory");
			break;
		}
		}
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	for (ssize_t n; got + 1 < len && (n = read(p[0], events + got, len - 1 - got)) > 0;)
		got += (size_t)n;
	events[got] = '\0';
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void expect_killed(enum vlab_confine_profile profile, enum what what, const char *call)
{
	char ev[2048];
	int st = run(profile, what, ev, sizeof(ev));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s/%s: %s %d, not killed by SIGSYS; events: %s", vlab_confine_name(profile),
			 call, WIFSIGNALED(st) ? "signal" : "exit status",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), ev);
	assert_non_null(strstr(ev, "confined\n"));
	/* Another ABI is killed by the kernel itself; glibc makes fork and
	 * pthread_create's clone with every signal blocked, and a blocked
	 * SIGSYS kills without running the handler.  The front end then says
	 * "killed by signal 31 (Bad system call)". */
	if (what == INT80 || what == FORK || what == THREAD)
		return;
	char want[128];
	snprintf(want, sizeof(want), "forbids: %s (", call);
	if (!strstr(ev, "log confinement:") || !strstr(ev, "error confinement:") || !strstr(ev, want))
		fail_msg("%s/%s: events do not name the call: %s", vlab_confine_name(profile), call,
			 ev);
}

static void test_run_loop_calls_pass(void **state)
{
	(void)state;
	if (!have_seccomp())
		VTEST_SKIP("this kernel has no seccomp filters");
	char ev[2048];
	for (int p = 0; p < VLAB_CONFINE_PROFILES; p++) {
		int st = run((enum vlab_confine_profile)p, NOTHING, ev, sizeof(ev));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: a confined process that does nothing ended with %#x: %s",
				 vlab_confine_name((enum vlab_confine_profile)p), st, ev);
	}
	/* the VMM starts its vCPU threads after confinement */
	int st = run(VLAB_CONFINE_VMM, THREAD, ev, sizeof(ev));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_forbidden_calls_kill(void **state)
{
	(void)state;
	if (!have_seccomp())
		VTEST_SKIP("this kernel has no seccomp filters");
	for (int p = 0; p < VLAB_CONFINE_PROFILES; p++) {
		enum vlab_confine_profile pr = (enum vlab_confine_profile)p;
		expect_killed(pr, SOCKET, "socket");
		expect_killed(pr, EXEC_MAP, "mmap");
		expect_killed(pr, IOCTL, "ioctl");
		expect_killed(pr, FORK, "clone");
		expect_killed(pr, KILL_OTHER, "tgkill");
		expect_killed(pr, INT80, "int 0x80");
#ifndef SANITIZED
		expect_killed(pr, OPEN, "openat");
#else
		print_message("open: allowed in sanitizer builds (the runtime reads /proc)\n");
#endif
	}
	/* the unikernel monitor has one thread and starts none */
	expect_killed(VLAB_CONFINE_UNIKERNEL, THREAD, "clone");
}

static void test_describe(void **state)
{
	(void)state;
	char lines[128][256];
	for (int p = 0; p < VLAB_CONFINE_PROFILES; p++) {
		enum vlab_confine_profile pr = (enum vlab_confine_profile)p;
		size_t n = vlab_confine_describe(pr, lines, 128);
		assert_true(n > 20 && n <= 128);
		assert_int_equal(vlab_confine_describe(pr, NULL, 0), n);
		int kvm_run = 0, open_call = 0;
		for (size_t i = 0; i < n; i++) {
			kvm_run |= !strncmp(lines[i], "ioctl:", 6) && strstr(lines[i], "KVM_RUN");
			open_call |= !strncmp(lines[i], "openat", 6) && !strstr(lines[i], "sanitizer");
		}
		assert_true(kvm_run);
		assert_false(open_call);
	}
	assert_null(vlab_confine_name(VLAB_CONFINE_PROFILES));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_loop_calls_pass),
		cmocka_unit_test(test_forbidden_calls_kill),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
