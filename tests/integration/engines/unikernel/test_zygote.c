/* tests/integration/engines/unikernel/test_zygote.c: instance processes
 * forked by their program's zygote (engines/zygote.h), through the
 * unikernel engine's own program: each is our child as a spawned one is,
 * with the environment and working folder of its start, not of the
 * zygote's; the zygote holds nothing but its socket, is replaced when it
 * dies, belongs to the process that started it, and VLAB_ZYGOTE=0 turns it
 * off. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "engines/zygote.h"

#define GUESTS "build/tests/integration/engines/unikernel/guest/"
#define HELLO GUESTS "hello.uk"

static int kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

#define NEED_KVM()                                                                                 \
	do {                                                                                       \
		if (!kvm_usable())                                                                 \
			VTEST_SKIP("/dev/kvm cannot be opened here (%s)", strerror(errno));        \
	} while (0)

/* Starts image (NULL: the default one) and waits for READY; NULL with err
 * when it does not get there. */
static struct vlab_instance *try_start(const char *image, struct vlab_err *err)
{
	struct vlab_spec spec;
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "zy", err), 0);
	if (image) {
		char kv[PATH_MAX + 8];
		snprintf(kv, sizeof(kv), "image=%s", image);
		assert_int_equal(vlab_spec_set_kv(&spec, kv, err), 0);
		assert_int_equal(vlab_spec_set_kv(&spec, "cmdline=echo", err), 0);
	}
	int r = vlab_instance_create(&spec, &inst, err);
	vlab_spec_free(&spec);
	if (r < 0)
		return NULL;
	if (vlab_instance_start(inst, err) < 0 || vlab_instance_wait_ready(inst, 10000, err) < 0) {
		vlab_instance_free(inst);
		return NULL;
	}
	return inst;
}

static struct vlab_instance *must_start(const char *image)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = try_start(image, &err);
	if (!inst)
		fail_msg("start %s: %s", image ? image : "the default image", err.msg);
	return inst;
}

static void stop(struct vlab_instance *inst)
{
	assert_int_equal(vlab_instance_stop(inst, 2000, NULL), 0);
	vlab_instance_free(inst);
}

/* Field 4 of /proc/PID/stat: the parent. */
static pid_t parent_of(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	int ppid = -1;
	char *close_paren = strrchr(buf, ')');
	assert_non_null(close_paren);
	assert_int_equal(sscanf(close_paren + 2, "%*c %d", &ppid), 1);
	return (pid_t)ppid;
}

static void comm_of(pid_t pid, char *out, size_t len)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(p, "r");
	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

/* Our child named vlab-zygote, or 0. */
static pid_t our_zygote(void)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) {
		char comm[32];
		comm_of((pid_t)atoi(t), comm, sizeof(comm));
		if (!strcmp(comm, "vlab-zygote"))
			return (pid_t)atoi(t);
	}
	return 0;
}

static void test_instances_are_our_children(void **state)
{
	(void)state;
	NEED_KVM();
	vlab_zygote_stop_all();
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct vlab_instance *a = must_start(HELLO);
	pid_t zygote = our_zygote();
	assert_true(zygote > 0);
	assert_int_equal(vlab_zygote_count(), 1);
	/* The instance process is ours, named after its program, and was
	 * forked: it never executed (its start-up phase is short). */
	assert_int_equal(parent_of(vlab_instance_pid(a)), getpid());
	char comm[32];
	comm_of(vlab_instance_pid(a), comm, sizeof(comm));
	assert_string_equal(comm, "vlab-unikernel");
	/* ps shows the program and the instance's name, not the zygote's
	 * command line. */
	char path[64], cmd[512];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)vlab_instance_pid(a));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cl = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	for (size_t i = 0; i < cl; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[cl] = '\0';
	if (!strstr(cmd, "vlab-unikernel zy") || strstr(cmd, "__zygote"))
		fail_msg("the instance's command line reads '%s'", cmd);
	/* A second one comes from the same zygote. */
	struct vlab_instance *b = must_start(HELLO);
	assert_int_equal(our_zygote(), zygote);
	assert_int_equal(parent_of(vlab_instance_pid(b)), getpid());
	stop(a);
	stop(b);

	/* The zygote keeps /dev/null on its stdio and its socket: nothing of
	 * ours that could hold a pipe open. */
	char p[64], link[256];
	int n = 0;
	for (int fd = 0; fd < 64; fd++) {
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)zygote, fd);
		ssize_t l = readlink(p, link, sizeof(link) - 1);
		if (l < 0)
			continue;
		link[l] = '\0';
		n++;
		if (fd < 3)
			assert_string_equal(link, "/dev/null");
		else
			assert_true(!strncmp(link, "socket:", 7));
	}
	assert_int_equal(n, 4);
	/* (vtest's counts leave the zygote out; it is stopped here) */
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
	vlab_zygote_stop_all();
	assert_int_equal(vlab_zygote_count(), 0);
	assert_int_equal(our_zygote(), 0);
}

static void test_environment_and_folder_of_each_start(void **state)
{
	(void)state;
	NEED_KVM();
	struct vlab_instance *inst = must_start(HELLO); /* the zygote is up */
	stop(inst);
	/* The environment of this start, not the zygote's: the default image
	 * is looked up where VLAB_IMAGES says now. */
	char *was = getenv("VLAB_IMAGES") ? strdup(getenv("VLAB_IMAGES")) : NULL;
	setenv("VLAB_IMAGES", "/nonexistent/vlab-zygote-test", 1);
	struct vlab_err err = {0};
	inst = try_start(NULL, &err);
	if (was)
		setenv("VLAB_IMAGES", was, 1);
	else
		unsetenv("VLAB_IMAGES");
	free(was);
	if (inst)
		fail_msg("started with VLAB_IMAGES pointing nowhere");
	if (!strstr(err.msg, "/nonexistent/vlab-zygote-test"))
		fail_msg("error does not name the folder: %s", err.msg);

	/* The working folder of this start: a relative image path. */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(GUESTS), 0);
	inst = try_start("hello.uk", &err);
	assert_int_equal(chdir(cwd), 0);
	if (!inst)
		fail_msg("relative image from the start's folder: %s", err.msg);
	stop(inst);
	assert_int_equal(vlab_zygote_count(), 1);
}

static void test_dead_zygote_is_replaced(void **state)
{
	(void)state;
	NEED_KVM();
	stop(must_start(HELLO));
	pid_t z = our_zygote();
	assert_true(z > 0);
	assert_int_equal(kill(z, SIGKILL), 0);
	uint64_t end = vlab_now_ns() + 2000000000ull;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)z);
	while (parent_of(z) == getpid() && vlab_now_ns() < end) {
		char st[512] = "";
		FILE *f = fopen(p, "r");
		if (f) {
			if (!fgets(st, sizeof(st), f))
				st[0] = '\0';
			fclose(f);
		}
		if (strstr(st, ") Z "))
			break; /* a zombie now: dead */
		usleep(1000);
	}
	struct vlab_instance *inst = must_start(HELLO);
	pid_t z2 = our_zygote();
	assert_true(z2 > 0 && z2 != z);
	assert_int_equal(vlab_zygote_count(), 1);
	stop(inst);
}

static void test_fork_starts_its_own(void **state)
{
	(void)state;
	NEED_KVM();
	stop(must_start(HELLO));
	pid_t ours = our_zygote();
	assert_true(ours > 0);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* Our parent's zygote would make its instances our parent's. */
		struct vlab_err err = {0};
		struct vlab_instance *inst = try_start(HELLO, &err);
		int code = !inst ? 10
			   : parent_of(vlab_instance_pid(inst)) != getpid() ? 11
			   : vlab_zygote_count() != 1			      ? 12
			   : our_zygote() <= 0				      ? 13
									      : 0;
		if (inst) {
			vlab_instance_stop(inst, 2000, NULL);
			vlab_instance_free(inst);
		}
		vlab_zygote_stop_all();
		_exit(code);
	}
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(our_zygote(), ours);
}

static void test_off(void **state)
{
	(void)state;
	NEED_KVM();
	vlab_zygote_stop_all();
	setenv("VLAB_ZYGOTE", "0", 1);
	struct vlab_instance *inst = must_start(HELLO);
	assert_int_equal(vlab_zygote_count(), 0);
	assert_int_equal(our_zygote(), 0);
	assert_int_equal(parent_of(vlab_instance_pid(inst)), getpid());
	stop(inst);
	unsetenv("VLAB_ZYGOTE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instances_are_our_children),
		cmocka_unit_test(test_environment_and_folder_of_each_start),
		cmocka_unit_test(test_dead_zygote_is_replaced),
		cmocka_unit_test(test_fork_starts_its_own),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
