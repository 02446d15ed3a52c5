/* tests/unit/engines/container/test_seccomp.c: the seccomp profile: built
 * from names, lab rules added and removed, loaded into a child whose
 * denied calls fail with EPERM, and each one counted by the supervisor
 * through the user-notification listener. */
#include "tests/vtest.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "engines/container/ct.h"

static void config(struct ct_config *cfg, const char *deny, const char *allow)
{
	struct vlab_err err = {0};
	memset(cfg, 0, sizeof(*cfg));
	cfg->seccomp = 1;
	if (ct_syscall_list(deny, cfg->deny, CT_MAX_SYSCALLS, &cfg->ndeny, "deny", &err) < 0 ||
	    ct_syscall_list(allow, cfg->allow, CT_MAX_SYSCALLS, &cfg->nallow, "allow", &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_names(void **state)
{
	(void)state;
	int nr[CT_MAX_SYSCALLS], n;
	struct vlab_err err = {0};
	assert_int_equal(ct_syscall_list("mount, uname,getpid", nr, CT_MAX_SYSCALLS, &n, "x", &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(nr[0], SYS_mount);
	assert_int_equal(nr[2], SYS_getpid);
	assert_int_equal(ct_syscall_list("mount,frob", nr, CT_MAX_SYSCALLS, &n, "seccomp.deny", &err),
			 -1);
	assert_non_null(strstr(err.msg, "seccomp.deny"));
	assert_non_null(strstr(err.msg, "'frob'"));
	/* every name of the default profile is known to libseccomp */
	int count = 0;
	for (int i = 0; ct_seccomp_default_deny[i]; i++, count++)
		assert_int_equal(ct_syscall_list(ct_seccomp_default_deny[i], nr, 1, &n, "x", &err), 0);
	assert_true(count > 50);
}

/* The child: loads the filter, passes the listener, tries calls, reports
 * their errno values through the socket. */
static void child(const struct ct_seccomp *sc, int sock)
{
	struct vlab_err err = {0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(10);
	int lfd = ct_seccomp_load(sc, &err);
	if (lfd == -1)
		_exit(11);
	if (ct_msg_send(sock, lfd >= 0 ? CT_MSG_FD : CT_MSG_NOFD, "", lfd, &err) < 0)
		_exit(12);
	if (lfd >= 0)
		close(lfd);
	int e[4];
	errno = 0;
	e[0] = unshare(CLONE_NEWUTS) < 0 ? errno : 0;
	struct utsname u;
	e[1] = uname(&u) < 0 ? errno : 0;
	e[2] = setns(-1, 0) < 0 ? errno : 0; /* allowed by the lab: fails on its own */
	e[3] = syscall(SYS_getppid) < 0 ? errno : 0;
	char text[64];
	snprintf(text, sizeof(text), "%d %d %d %d", e[0], e[1], e[2], e[3]);
	ct_msg_send(sock, 'r', text, -1, NULL);
	_exit(0);
}

static void test_filter_denies_and_counts(void **state)
{
	(void)state;
	struct ct_config cfg;
	config(&cfg, "uname", "setns");
	struct ct_seccomp sc;
	struct vlab_err err = {0};
	if (ct_seccomp_build(&cfg, &sc, &err) < 0)
		fail_msg("build: %s", err.msg);
	assert_true(sc.bpf_len > 10 && sc.bpf_len <= CT_BPF_MAX);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		child(&sc, sv[1]);
	}
	close(sv[1]);
	char text[128];
	int lfd = -1;
	int t = ct_msg_recv(sv[0], text, sizeof(text), &lfd, 5000, &err);
	assert_int_equal(t, sc.notify ? CT_MSG_FD : CT_MSG_NOFD);

	struct vlab_counters *cs = calloc(1, sizeof(*cs));
	vlab_counters_init(cs);
	int total = vlab_counters_id(cs, "seccomp.denied");
	/* Serve notifications until the child reports. */
	for (;;) {
		struct pollfd p[2] = {{.fd = sv[0], .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
		assert_true(poll(p, lfd >= 0 ? 2 : 1, 5000) > 0);
		if (lfd >= 0 && (p[1].revents & POLLIN))
			assert_int_equal(ct_seccomp_answer(&sc, lfd, cs, total, NULL), 0);
		if (p[0].revents)
			break;
	}
	t = ct_msg_recv(sv[0], text, sizeof(text), NULL, 5000, &err);
	assert_int_equal(t, 'r');
	char want[64];
	snprintf(want, sizeof(want), "%d %d %d %d", EPERM, EPERM, EBADF, 0);
	assert_string_equal(text, want);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	if (sc.notify) {
		assert_int_equal(vlab_counters_get(cs, "seccomp.denied"), 2);
		assert_int_equal(vlab_counters_get(cs, "seccomp.denied.unshare"), 1);
		assert_int_equal(vlab_counters_get(cs, "seccomp.denied.uname"), 1);
		close(lfd);
	}
	free(cs);
	close(sv[0]);
	ct_seccomp_free(&sc);
}

static void test_compiled_filter_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlab-ut-rt-XXXXXX";
	assert_non_null(mkdtemp(dir));
	setenv("VLAB_RUNTIME_DIR", dir, 1);
	struct ct_config cfg;
	config(&cfg, "getpid", "");
	struct ct_seccomp a, b;
	struct vlab_err err = {0};
	assert_int_equal(ct_seccomp_build(&cfg, &a, &err), 0); /* compiles, stores */
	assert_int_equal(ct_seccomp_build(&cfg, &b, &err), 0); /* from the cache */
	assert_int_equal(a.bpf_len, b.bpf_len);
	assert_memory_equal(a.bpf, b.bpf, a.bpf_len * CT_BPF_INSN);
	ct_seccomp_free(&b);
	/* another rule set: another program */
	config(&cfg, "getppid", "");
	assert_int_equal(ct_seccomp_build(&cfg, &b, &err), 0);
	assert_true(b.bpf_len != a.bpf_len || memcmp(a.bpf, b.bpf, a.bpf_len * CT_BPF_INSN));
	ct_seccomp_free(&b);
	/* a damaged cache file is recompiled, not loaded */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "for f in %s/seccomp/*.bpf; do printf garbage | dd of=$f bs=1 "
				   "seek=40 conv=notrunc 2>/dev/null; done", dir);
	assert_int_equal(system(cmd), 0);
	config(&cfg, "getpid", "");
	assert_int_equal(ct_seccomp_build(&cfg, &b, &err), 0);
	assert_memory_equal(a.bpf, b.bpf, a.bpf_len * CT_BPF_INSN);
	ct_seccomp_free(&a);
	ct_seccomp_free(&b);
	unsetenv("VLAB_RUNTIME_DIR");
	assert_int_equal(ct_rm_tree(dir, &err), 0);
}

static void test_pfc_export(void **state)
{
	(void)state;
	struct ct_config cfg;
	config(&cfg, "getpid", "");
	char path[] = "/tmp/vlab-ut-pfc-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct vlab_err err = {0};
	assert_int_equal(ct_seccomp_export_pfc(&cfg, path, &err), 0);
	FILE *f = fopen(path, "r");
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	unlink(path);
	/* readable text naming the architectures and the calls */
	assert_non_null(strstr(buf, "x86_64"));
	assert_non_null(strstr(buf, "x86"));
	assert_non_null(strstr(buf, "mount"));
	assert_non_null(strstr(buf, "getpid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_filter_denies_and_counts),
		cmocka_unit_test(test_compiled_filter_cache),
		cmocka_unit_test(test_pfc_export),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
