/* tests/integration/container/test_container_start.c: how a container
 * starts, for real (root on this machine): the runtime is its own program,
 * the startup phases in order and the attributes, the network namespace the
 * program's zygote makes ahead (one container's alone, and new), and the
 * program's time slice once started. */
#include "tests/integration/container/ct_fixture.h"

#include <sys/syscall.h>

/* The inode of the network namespace of the container's init. */
static unsigned long netns_of(struct vlab_instance *inst)
{
	char p[64], link[64];
	snprintf(p, sizeof(p), "/proc/%s/ns/net", vlab_instance_attr(inst, "init_pid"));
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	unsigned long ino = 0;
	assert_int_equal(sscanf(link, "net:[%lu]", &ino), 1);
	return ino;
}

static void test_network_namespace_made_ahead(void **state)
{
	(void)state;
	NEED_CONTAINER();
	/* Once the container program's zygote has been idle a moment, the
	 * next container's network namespace is already made. */
	struct vlab_instance *a = ct_must_start("ahead-a", NULL);
	usleep(100 * 1000);
	struct vlab_instance *b = ct_must_start("ahead-b", NULL);
	struct vlab_instance *c = ct_must_start("ahead-c", NULL); /* at once */
	assert_string_equal(vlab_instance_attr(b, "netns_by"), "zygote");
	const char *cb = vlab_instance_attr(c, "netns_by");
	if (strcmp(cb, "zygote") && strcmp(cb, "thread"))
		fail_msg("netns_by %s", cb);
	/* Each its own, and a new one: nothing but the loopback in it. */
	unsigned long na = netns_of(a), nb = netns_of(b), nc = netns_of(c);
	if (na == nb || nb == nc || na == nc)
		fail_msg("network namespaces shared: %lu %lu %lu", na, nb, nc);
	struct vlab_container_run r = ct_sh(b, "ls /sys/class/net | tr '\\n' ' '");
	assert_string_equal(r.out, "lo ");
	vlab_container_run_free(&r);
	vlab_instance_free(a);
	vlab_instance_free(b);
	vlab_instance_free(c);
}

static void test_phases_and_attributes(void **state)
{
	(void)state;
	NEED_CONTAINER();
	struct vlab_instance *inst = ct_must_start("phases", NULL);
	/* The runtime is its own program, as crun is, not vlab re-executed. */
	char exe[64], path[4096];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)vlab_instance_pid(inst));
	ssize_t pl = readlink(exe, path, sizeof(path) - 1);
	assert_true(pl > 0);
	path[pl] = '\0';
	assert_non_null(strstr(path, "/vlab-container"));
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	static const char *const want[] = {"spawn", "clone", "cgroup", "mounts", "seccomp", "exec"};
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		int found = 0;
		for (size_t i = 0; i < n; i++)
			found |= !strcmp(ph[i].name, want[w]);
		if (!found)
			fail_msg("no startup phase '%s'", want[w]);
	}
	/* in the order they happened (consumers take differences) */
	for (size_t i = 0; i < n; i++) {
		assert_true(ph[i].ns <= vlab_instance_startup_ns(inst));
		if (i > 0 && ph[i].ns < ph[i - 1].ns)
			fail_msg("phase %s (%llu ns) arrived after %s (%llu ns)", ph[i].name,
				 (unsigned long long)ph[i].ns, ph[i - 1].name,
				 (unsigned long long)ph[i - 1].ns);
	}
	assert_string_equal(vlab_instance_attr(inst, "emulated"), "no");
	assert_non_null(vlab_instance_attr(inst, "cgroup.memory"));
	assert_non_null(vlab_instance_attr(inst, "cgroup.pids"));
	assert_non_null(vlab_instance_attr(inst, "cgroup.cpu"));
	assert_non_null(vlab_instance_attr(inst, "cgroup.cpuacct"));
	/* its own cgroups, read-only, at /sys/fs/cgroup: v1 one folder per
	 * hierarchy, v2 the files of its one cgroup (the namespace's root) */
	int v2 = ct_cgroup_version() == 2;
	struct vlab_container_run r = ct_sh(inst, "ls /sys/fs/cgroup | tr '\\n' ' '");
	if (v2) {
		static const char *const files[] = {"cgroup.procs ", "memory.max ", "memory.peak ",
						    "pids.max ", "cpu.max ", "cpu.stat "};
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			if (!strstr(r.out, files[i]))
				fail_msg("no %s in the container's /sys/fs/cgroup: %s", files[i],
					 r.out);
	} else {
		assert_string_equal(r.out, "cpu cpuacct memory pids ");
	}
	vlab_container_run_free(&r);
	/* the runtime stepped into the cpu cgroup for the clone, and out */
	char tasks[PATH_MAX + 16], line[32];
	snprintf(tasks, sizeof(tasks), "%s/%s", vlab_instance_attr(inst, "cgroup.cpu"),
		 v2 ? "cgroup.procs" : "tasks");
	FILE *f = fopen(tasks, "r");
	assert_non_null(f);
	int ntasks = 0;
	while (fgets(line, sizeof(line), f)) {
		ntasks++;
		assert_int_not_equal(atoi(line), vlab_instance_pid(inst));
	}
	fclose(f);
	assert_true(ntasks >= 2); /* the init and the program */
	/* The image size arrives once the container runs. */
	int got = 0;
	for (int i = 0; i < 200 && !got; i++) {
		vlab_instance_pump(inst, NULL);
		got = vlab_instance_attr(inst, "image_bytes") != NULL;
		if (!got)
			usleep(10000);
	}
	assert_true(got);
	assert_true(atoll(vlab_instance_attr(inst, "image_bytes")) > 1000000);
	vlab_instance_free(inst);
}

/* sched_attr.sched_runtime of pid (the slice of an ordinary task). */
static unsigned long long slice_of(pid_t pid)
{
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t prio;
		uint64_t runtime, deadline, period;
	} a;
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, pid, &a, sizeof(a), 0) < 0)
		return 0;
	return (unsigned long long)a.runtime;
}

static void test_program_scheduled_like_the_host(void **state)
{
	(void)state;
	NEED_CONTAINER();
	/* The start asks for short time slices (slice.c); once started, the
	 * program has the same slice as any process here. */
	struct vlab_instance *inst = ct_must_start("slice", NULL);
	pid_t init = (pid_t)atoi(vlab_instance_attr(inst, "init_pid"));
	char p[96], kids[64] = "";
	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", (int)init, (int)init);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(kids, sizeof(kids), f));
	fclose(f);
	pid_t prog = (pid_t)atoi(kids);
	unsigned long long want = slice_of(getpid()), got = 0;
	for (int i = 0; i < 200 && (got = slice_of(prog)) != want; i++)
		usleep(10000);
	assert_true(want > 0);
	assert_int_equal(got, want);
	vlab_instance_free(inst);
}

int main(void)
{
	skip_reason = ct_cannot_run(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases_and_attributes),
		cmocka_unit_test(test_network_namespace_made_ahead),
		cmocka_unit_test(test_program_scheduled_like_the_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
