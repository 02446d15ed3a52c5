/* tests/integration/container/test_container.c: the container engine for
 * real (root on this machine): identity, limits, seccomp, capabilities,
 * exec, stop, and cleanup after a SIGKILL (the filesystem and descriptors:
 * test_container_fs.c; the start itself: test_container_start.c).
 * Every assertion names an exact errno, signal or value. */
#include "tests/integration/container/ct_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>

#include "core/paths.h"

static int setup(void **state)
{
	(void)state;
	return 0;
}

static void test_hostname_and_pid1(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("ident", (const char *[]){"hostname=box", NULL});
	/* (The init's command line is blanked in place: NULs follow the name.) */
	struct vlab_container_run r = ct_sh(inst, "hostname; echo $$; cat /proc/1/comm; "
						  "tr '\\0' ' ' </proc/1/cmdline; echo; "
						  "ls -d /proc/[0-9]* | wc -l");
	assert_int_equal(r.status, 0);
	char host[64], comm[64], cmdline[64];
	int mypid = 0, nprocs = 0;
	assert_int_equal(sscanf(r.out, "%63s %d %63s %63s %d", host, &mypid, comm, cmdline, &nprocs),
			 5);
	assert_string_equal(host, "box");
	assert_string_equal(comm, "vlab-init");
	assert_string_equal(cmdline, "vlab-init");
	/* init (1), the program (2), this shell and ls: nothing of the host's */
	assert_true(mypid > 2);
	assert_true(nprocs >= 3 && nprocs <= 5);
	vlab_container_run_free(&r);

	/* The program started by the init is pid 2, its parent pid 1. */
	r = ct_sh(inst, "cut -d' ' -f1,4 /proc/2/stat; cat /proc/2/comm");
	assert_string_equal(r.out, "2 1\nsleep\n");
	vlab_container_run_free(&r);

	/* Host processes are invisible: the host's pid of the init is not
	 * a pid in here, and kill(-1) reaches only the container. */
	const char *init_pid = vlab_instance_attr(inst, "init_pid");
	assert_non_null(init_pid);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test -e /proc/%s && echo seen || echo unseen", init_pid);
	r = ct_sh(inst, cmd);
	assert_string_equal(r.out, "unseen\n");
	vlab_container_run_free(&r);
	assert_string_equal(vlab_instance_attr(inst, "backend"),
			    ct_cgroup_version() == 2 ? "cgroup-v2" : "cgroup-v1");
	vlab_instance_free(inst);
}

/* userns=on as root: the container's root is an unprivileged id range of
 * the host (/etc/subuid's for root, else from 100000), its network
 * namespace belongs to that user namespace (made by the clone, not ahead),
 * and the cgroup limits still hold. */
static void test_root_with_user_namespace(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst =
	    ct_must_start("userns", (const char *[]){"userns=on", "hostname=mapped", NULL});
	assert_string_equal(vlab_instance_attr(inst, "userns"), "yes");
	assert_non_null(vlab_instance_attr(inst, "cgroup.pids"));
	struct vlab_container_run r =
	    ct_sh(inst, "id -u; hostname; tr -s ' ' </proc/self/uid_map; "
			"grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t'; "
			"ls /sys/class/net | tr '\\n' ' '; echo; /bin/ct-probe call unshare");
	assert_int_equal(r.status, 0);
	unsigned base = 0, count = 0;
	int uid = -1;
	char host[64] = "", tail[256] = "";
	assert_int_equal(sscanf(r.out, "%d %63s 0 %u %u %255[^$]", &uid, host, &base, &count, tail),
			 5);
	assert_int_equal(uid, 0);
	assert_string_equal(host, "mapped");
	assert_true(base >= 65536); /* never the host's root or users */
	assert_int_equal(count, 65536);
	assert_non_null(strstr(tail, "NoNewPrivs:1\nSeccomp:2\nlo \nunshare 1\n"));
	vlab_container_run_free(&r);
	/* The host sees the container's root as that unprivileged id. */
	char status[64], line[256];
	snprintf(status, sizeof(status), "/proc/%s/status", vlab_instance_attr(inst, "init_pid"));
	FILE *f = fopen(status, "r");
	assert_non_null(f);
	unsigned host_uid = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u", &host_uid) == 1)
			break;
	fclose(f);
	assert_int_equal(host_uid, base);
	vlab_instance_free(inst);
}

static void test_pids_limit_fork_bomb(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("pids", (const char *[]){"pids=16", NULL});
	struct vlab_container_run r = ct_sh(inst, "exec /bin/ct-probe forkbomb");
	assert_int_equal(r.status, 0);
	assert_int_equal(ct_field(r.out, "errno"), EAGAIN);
	long forked = ct_field(r.out, "forked");
	assert_true(forked > 0 && forked < 16);
	vlab_container_run_free(&r);
	/* The host can still fork. */
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(7);
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_int_equal(WEXITSTATUS(st), 7);
	assert_true(ct_counter_wait(inst, "cg.pids.denied", 1, 2000) >= 1);
	vlab_instance_free(inst);
}

static void test_memory_oom(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("oom", (const char *[]){"memory=64M", NULL});
	struct vlab_container_run r = ct_sh(inst, "exec /bin/ct-probe hog 256");
	/* The hog is SIGKILLed by the kernel's OOM killer before 64 MiB more. */
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGKILL);
	assert_null(strstr(r.out, "survived"));
	vlab_container_run_free(&r);
	/* ... reported as an OOM kill, and the container lives on. */
	assert_true(ct_counter_wait(inst, "cg.oom_kills", 1, 2000) >= 1);
	struct vlab_err err = {0};
	assert_int_equal(vlab_instance_pump(inst, &err), 0);
	assert_non_null(vlab_instance_attr(inst, "oom_kills"));
	assert_true(atoi(vlab_instance_attr(inst, "oom_kills")) >= 1);
	assert_int_equal(vlab_instance_state(inst), VLAB_STATE_RUNNING);
	r = ct_sh(inst, "echo alive");
	assert_string_equal(r.out, "alive\n");
	vlab_container_run_free(&r);
	vlab_instance_free(inst);

	/* When the program itself is the victim, the instance says so. */
	struct vlab_instance *dead =
		ct_start_kv("oom-main", (const char *[]){"memory=64M", "program=/bin/ct-probe",
							 "args=hog 256", NULL},
			    &err);
	assert_null(dead);
	assert_non_null(strstr(err.msg, "OOM-killed"));
}

/* cpu.stat's nr_periods and nr_throttled (v1 and v2 name them alike). */
static void cpu_stat(const char *dir, long *periods, long *throttled)
{
	char p[PATH_MAX + 16], buf[1024];
	snprintf(p, sizeof(p), "%s/cpu.stat", dir);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	*periods = ct_field(buf, "nr_periods");
	*throttled = ct_field(buf, "nr_throttled");
}

static void test_cpu_quota(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("cpu", (const char *[]){"cpu=50", NULL});
	const char *dir = vlab_instance_attr(inst, "cgroup.cpu");
	assert_non_null(dir);
	/* Two spinning threads could use two CPUs; the quota is half of one.
	 * What is measured is CPU time consumed over wall time.  The machine
	 * is shared: when others leave the container less than its quota
	 * (few periods end throttled), the run says nothing about the quota
	 * and is repeated. */
	double share = 0, tfrac = 0;
	int attempt;
	for (attempt = 0; attempt < 4; attempt++) {
		long p0, t0, p1, t1;
		cpu_stat(dir, &p0, &t0);
		struct vlab_container_run r = ct_sh(inst, "exec /bin/ct-probe spin 3 2");
		cpu_stat(dir, &p1, &t1);
		assert_int_equal(r.status, 0);
		double wall = (double)ct_field(r.out, "wall_ns"), cpu = (double)ct_field(r.out, "cpu_ns");
		vlab_container_run_free(&r);
		share = cpu / wall;
		tfrac = p1 > p0 ? (double)(t1 - t0) / (double)(p1 - p0) : 0;
		print_message("cpu=50: %.3f of one CPU over %.2f s, %.0f%% of periods throttled\n",
			      share, wall / 1e9, tfrac * 100);
		/* The quota is never exceeded, busy machine or not. */
		assert_true(share <= 0.575);
		if (share >= 0.425)
			break;
		if (tfrac > 0.8)
			fail_msg("throttled in %.0f%% of periods yet only %.3f of a CPU: the quota "
				 "is not 50%%", tfrac * 100, share);
	}
	if (attempt == 4) {
		vlab_instance_free(inst);
		VTEST_SKIP("the machine is too busy to give the container its 50%% (got %.3f of a CPU, "
			   "throttled in %.0f%% of periods)", share, tfrac * 100);
	}
	vlab_instance_free(inst);
}

static const char *const issue_calls[] = {
	"mount",	 "umount2",	"unshare",	   "setns",	    "keyctl", "bpf",
	"kexec_load", "finit_module", "open_by_handle_at", "io_uring_setup", NULL,
};

static void test_seccomp_default_profile(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("seccomp", NULL);
	assert_string_equal(vlab_instance_attr(inst, "seccomp"), "notify");
	struct vlab_container_run r = ct_sh(inst, "exec /bin/ct-probe sys");
	assert_int_equal(r.status, 0);
	for (int i = 0; issue_calls[i]; i++) {
		if (ct_field(r.out, issue_calls[i]) != EPERM)
			fail_msg("%s: errno %ld, expected EPERM", issue_calls[i],
				 ct_field(r.out, issue_calls[i]));
		char key[64];
		snprintf(key, sizeof(key), "seccomp.denied.%s", issue_calls[i]);
		/* counted by the runtime: the denial came from the filter */
		assert_true(ct_counter_wait(inst, key, 1, 1000) >= 1);
	}
	assert_int_equal(ct_field(r.out, "clone_newuser"), EPERM);
	assert_int_equal(ct_field(r.out, "clone3"), ENOSYS);
	vlab_container_run_free(&r);

	/* The i386 and x32 entry points do not get around it. */
	r = ct_sh(inst, "exec /bin/ct-probe compat");
	assert_int_equal(ct_field(r.out, "i386_mount"), EPERM);
	assert_int_equal(ct_field(r.out, "i386_unshare"), EPERM);
	assert_int_equal(ct_field(r.out, "x32_mount"), EPERM);
	assert_int_equal(ct_field(r.out, "x32_unshare"), EPERM);
	vlab_container_run_free(&r);
	assert_true(vlab_counters_get(vlab_instance_counters(inst), "seccomp.denied") >= 16);
	vlab_instance_free(inst);
}

static void test_seccomp_lab_rules(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start(
		"rules", (const char *[]){"seccomp.deny=uname", "seccomp.allow=setns", NULL});
	struct vlab_container_run r = ct_sh(inst, "/bin/ct-probe call uname; /bin/ct-probe call "
						  "setns; /bin/ct-probe call getpid; uname");
	assert_int_equal(ct_field(r.out, "uname"), EPERM);
	assert_int_equal(ct_field(r.out, "setns"), EBADF); /* allowed: fails on its argument */
	assert_int_equal(ct_field(r.out, "getpid"), 0);
	vlab_container_run_free(&r);
	assert_true(ct_counter_wait(inst, "seccomp.denied.uname", 2, 1000) >= 2);
	vlab_instance_free(inst);

	/* A name that is not a system call is refused before anything runs. */
	struct vlab_err err = {0};
	assert_null(ct_start_kv("badrule", (const char *[]){"seccomp.deny=frobnicate", NULL}, &err));
	assert_non_null(strstr(err.msg, "frobnicate"));
}

static void expect_status(const char *status, const char *key, const char *want)
{
	const char *l = strstr(status, key);
	assert_non_null(l);
	char got[64];
	assert_int_equal(sscanf(l + strlen(key), " %63s", got), 1);
	if (strcmp(got, want))
		fail_msg("%s %s, expected %s", key, got, want);
}

static void test_capabilities_and_nnp(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("caps", NULL);
	/* The program the init started (pid 2), and an exec'd command. */
	for (int i = 0; i < 2; i++) {
		struct vlab_container_run r =
			ct_sh(inst, i ? "cat /proc/self/status" : "cat /proc/2/status");
		expect_status(r.out, "CapInh:", "0000000000000000");
		expect_status(r.out, "CapPrm:", "00000000a80425fb");
		expect_status(r.out, "CapEff:", "00000000a80425fb");
		expect_status(r.out, "CapBnd:", "00000000a80425fb");
		expect_status(r.out, "CapAmb:", "0000000000000000");
		expect_status(r.out, "NoNewPrivs:", "1");
		expect_status(r.out, "Seccomp:", "2");
		vlab_container_run_free(&r);
	}
	/* The init (pid 1) keeps CAP_KILL alone; it never executes anything,
	 * so its bounding set is left as it was (ct_caps_set). */
	struct vlab_container_run r1 = ct_sh(inst, "cat /proc/1/status");
	expect_status(r1.out, "CapInh:", "0000000000000000");
	expect_status(r1.out, "CapPrm:", "0000000000000020");
	expect_status(r1.out, "CapEff:", "0000000000000020");
	expect_status(r1.out, "NoNewPrivs:", "1");
	vlab_container_run_free(&r1);
	vlab_instance_free(inst);

	/* Labs adjust the set by name: without NET_RAW (13) and MKNOD (27). */
	inst = ct_must_start("caps2", (const char *[]){"cap.drop=net_raw,CAP_MKNOD", NULL});
	struct vlab_container_run r = ct_sh(inst, "cat /proc/self/status");
	expect_status(r.out, "CapEff:", "00000000a00405fb");
	expect_status(r.out, "CapBnd:", "00000000a00405fb");
	vlab_container_run_free(&r);
	vlab_instance_free(inst);
}

static void test_exec_and_tty(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("exec", (const char *[]){"hostname=inside", NULL});
	/* exec'd commands live in the container's cgroup namespace too */
	struct vlab_container_run r = ct_sh(inst, "cut -d: -f3 /proc/self/cgroup | sort -u");
	assert_string_equal(r.out, "/\n");
	vlab_container_run_free(&r);
	r = ct_sh(inst, "hostname; echo err >&2; exit 3");
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 3);
	assert_string_equal(r.out, "inside\n");
	assert_string_equal(r.errout, "err\n");
	vlab_container_run_free(&r);

	char *missing[] = {"/bin/nonexistent", NULL};
	struct vlab_err err = {0};
	assert_int_equal(vlab_container_run(inst, missing, NULL, 5000, &r, &err), -1);
	assert_non_null(strstr(err.msg, "/bin/nonexistent"));
	assert_int_equal(err.code, ENOENT);
	vlab_container_run_free(&r);

	/* An interactive shell on a terminal of the container's own devpts. */
	struct vlab_container_exec x;
	char *sh[] = {"/bin/sh", NULL};
	if (vlab_container_exec_start(inst, sh, NULL, &x, &err) < 0)
		fail_msg("exec tty: %s", err.msg);
	assert_true(x.pty >= 0);
	const char *in = "tty; echo $((6*7)); exit 5\n";
	assert_int_equal(write(x.pty, in, strlen(in)), (ssize_t)strlen(in));
	char out[4096] = "";
	size_t len = 0;
	uint64_t deadline = vlab_now_ns() + 5000000000ull;
	while (!strstr(out, "42\r\n") && vlab_now_ns() < deadline && len < sizeof(out) - 1) {
		struct pollfd pfd = {.fd = x.pty, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(x.pty, out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
	}
	assert_non_null(strstr(out, "/dev/pts/0"));
	assert_non_null(strstr(out, "42\r\n"));
	int st;
	assert_int_equal(vlab_container_exec_wait(&x, 5000, &st, &err), 0);
	assert_int_equal(WEXITSTATUS(st), 5);
	vlab_container_exec_close(&x);
	vlab_instance_free(inst);
}

static void test_stop_grace_then_kill_no_leftovers(void **state)
{
	(void)state;
	NEED_CONTAINER();
	/* Deaf to SIGTERM: the runtime kills it after stop_grace. */
	struct vlab_instance *inst = ct_must_start(
		"deaf", (const char *[]){"stop_grace=300ms",
					 "sh=trap '' TERM; echo READY x; while :; do sleep 1; done",
					 NULL});
	char cg[PATH_MAX], layer[PATH_MAX];
	snprintf(cg, sizeof(cg), "%s", vlab_instance_attr(inst, "cgroup.memory"));
	snprintf(layer, sizeof(layer), "%s", vlab_instance_attr(inst, "layer.upper"));
	assert_true(ct_path_exists(cg) && ct_path_exists(layer));
	struct vlab_err err = {0};
	uint64_t t0 = vlab_now_ns();
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	uint64_t took = vlab_now_ns() - t0;
	assert_true(took >= 250000000ull && took < 4000000000ull);
	/* The runtime ended by itself, reporting the init's SIGKILL. */
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 128 + SIGKILL);
	assert_false(ct_path_exists(cg));
	assert_false(ct_path_exists(layer));
	vlab_instance_free(inst);

	/* A polite program stops on SIGTERM, well before the grace ends. */
	inst = ct_must_start("polite", (const char *[]){"stop_grace=5s", NULL});
	t0 = vlab_now_ns();
	assert_int_equal(vlab_instance_stop(inst, 8000, &err), 0);
	assert_true(vlab_now_ns() - t0 < 2000000000ull);
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 128 + SIGTERM);
	vlab_instance_free(inst);
}

static void test_runtime_sigkill_leaves_nothing(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("killed", NULL);
	pid_t init = (pid_t)atoi(vlab_instance_attr(inst, "init_pid"));
	char cg[PATH_MAX], cgpids[PATH_MAX], layer[PATH_MAX];
	snprintf(cg, sizeof(cg), "%s", vlab_instance_attr(inst, "cgroup.memory"));
	snprintf(cgpids, sizeof(cgpids), "%s", vlab_instance_attr(inst, "cgroup.pids"));
	snprintf(layer, sizeof(layer), "%s", vlab_instance_attr(inst, "layer.upper"));
	/* A second process inside, started through exec. */
	struct vlab_container_exec x;
	struct vlab_err err = {0};
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	char *sleeper[] = {"/bin/sleep", "1000", NULL};
	assert_int_equal(vlab_container_exec_start(inst, sleeper, (int[]){nul, nul, nul}, &x, &err), 0);
	close(nul);
	assert_int_equal(kill(vlab_instance_pid(inst), SIGKILL), 0);
	assert_true(ct_wait_gone(init, 3000));
	/* Nothing of the container runs: its cgroup is empty. */
	char procs[PATH_MAX + 16], buf[256] = "";
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgpids);
	for (int i = 0; i < 300; i++) {
		int fd = open(procs, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (!buf[0])
			break;
		usleep(10000);
	}
	assert_string_equal(buf, "");
	vlab_container_exec_close(&x);
	vlab_instance_free(inst);

	/* The next container's runtime sweeps the leftovers of the dead one. */
	struct vlab_instance *next = ct_must_start("next", NULL);
	int gone = 0;
	for (int i = 0; i < 300 && !gone; i++) {
		gone = !ct_path_exists(cg) && !ct_path_exists(cgpids) && !ct_path_exists(layer);
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
	vlab_instance_free(next);
}

int main(void)
{
	skip_reason = ct_cannot_run(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname_and_pid1),
		cmocka_unit_test(test_root_with_user_namespace),
		cmocka_unit_test(test_pids_limit_fork_bomb),
		cmocka_unit_test(test_memory_oom),
		cmocka_unit_test(test_cpu_quota),
		cmocka_unit_test(test_seccomp_default_profile),
		cmocka_unit_test(test_seccomp_lab_rules),
		cmocka_unit_test(test_capabilities_and_nnp),
		cmocka_unit_test(test_exec_and_tty),
		cmocka_unit_test(test_stop_grace_then_kill_no_leftovers),
		cmocka_unit_test(test_runtime_sigkill_leaves_nothing),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
