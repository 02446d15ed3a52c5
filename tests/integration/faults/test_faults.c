/* tests/integration/faults/test_faults.c: vlab under faults.
 *
 * - The disk fills up while a workbook or a disk image is written: a clear
 *   error naming the file and ENOSPC, and what was there before intact (on
 *   a small tmpfs mounted in this test's own mount namespace).
 * - vlab is killed with SIGKILL while its instances run: they die with it,
 *   and the next vlab (a real restart: `vlab run --headless`) removes what
 *   they left (cgroups, the lab network's namespace and devices, scratch
 *   disks) while the student's progress in the workbook is kept.
 * - A guest floods its console: the instance's and the front end's memory
 *   stay bounded (the overflow is dropped and counted) and the guest's
 *   control channel answers as fast as before. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "engines/engine.h"
#include "engines/labnet/labnet.h"
#include "engines/vm/disk.h"
#include "lesson/workbook.h"

#define VM_GUEST "build/tests/vm-guest/testguest.bzImage"
#define FLOOD "build/tests/integration/faults/unikernel/guest/flood.uk"

static char dir[64]; /* a small tmpfs of this test's own */

static int kvm_ok(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Mounts a tmpfs of bytes at dir, visible to this process only. */
static const char *small_fs(size_t bytes)
{
	static int private_ns;
	if (geteuid() != 0)
		return "needs root (mounts a small tmpfs)";
	if (!private_ns) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return "no private mount namespace here";
		private_ns = 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/vlab-faults-XXXXXX");
	if (!mkdtemp(dir))
		return "mkdtemp";
	char opt[64];
	snprintf(opt, sizeof(opt), "size=%zu,mode=0700", bytes);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opt) < 0) {
		rmdir(dir);
		return "cannot mount a tmpfs";
	}
	return NULL;
}

static void small_fs_done(void)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Writes a file until the file system is full; returns its path. */
static const char *fill(void)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/filler", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char buf[4096];
	memset(buf, 'f', sizeof(buf));
	ssize_t n;
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	while (write(fd, buf, 1) == 1) /* the last bytes of the last page */
		;
	close(fd);
	return path;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	static char buf[1 << 20];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n >= 0);
	*len = (size_t)n;
	char *c = malloc((size_t)n + 1);
	memcpy(c, buf, (size_t)n);
	c[n] = '\0';
	return c;
}

static int temp_files_in(const char *d)
{
	DIR *dd = opendir(d);
	int n = 0;
	for (struct dirent *e; dd && (e = readdir(dd));)
		n += strstr(e->d_name, ".tmp-") != NULL;
	if (dd)
		closedir(dd);
	return n;
}

/* ---- disk full ---- */

static void test_workbook_disk_full(void **state)
{
	(void)state;
	const char *why = small_fs(256 << 10);
	if (why)
		VTEST_SKIP("%s", why);
	char path[128];
	snprintf(path, sizeof(path), "%s/wb.json", dir);
	struct vlab_err err = {0};
	json_t *wb = lesson_workbook_new("faults", "Faults", "1", "faults.lua", "00");
	json_t *it = lesson_workbook_item(wb, "q1", 1);
	json_object_set_new(it, "status", json_string("passed"));
	json_object_set_new(it, "score", json_real(1));
	assert_int_equal(lesson_workbook_save(path, wb, &err), 0);
	size_t len0;
	char *before = slurp(path, &len0);

	const char *filler = fill();
	/* The student's next answer does not fit any more. */
	char *big = malloc(200 << 10);
	memset(big, 'a', (200 << 10) - 1);
	big[(200 << 10) - 1] = '\0';
	it = lesson_workbook_item(wb, "q2", 1);
	json_object_set_new(it, "answer", json_string(big));
	free(big);
	assert_int_equal(lesson_workbook_save(path, wb, &err), -1);
	print_message("disk full: %s\n", err.msg);
	assert_int_equal(err.code, ENOSPC);
	assert_non_null(strstr(err.msg, path));
	/* The earlier workbook is whole, and nothing half-written is left. */
	size_t len1;
	char *after = slurp(path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	json_t *back = NULL;
	assert_int_equal(lesson_workbook_load(path, &back, &err), 1);
	assert_string_equal(json_string_value(json_object_get(lesson_workbook_item(back, "q1", 0),
							      "status")),
			    "passed");
	json_decref(back);
	assert_int_equal(temp_files_in(dir), 0);
	/* Room again: the save goes through. */
	unlink(filler);
	assert_int_equal(lesson_workbook_save(path, wb, &err), 0);
	json_decref(wb);
	free(before);
	free(after);
	small_fs_done();
}

static uint64_t hash_file(const char *path)
{
	size_t len;
	char *c = slurp(path, &len);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)c[i]) * 1099511628211ull;
	free(c);
	return h;
}

static void test_disk_image_disk_full(void **state)
{
	(void)state;
	const char *why = small_fs(512 << 10);
	if (why)
		VTEST_SKIP("%s", why);
	char old[128], fresh[128];
	snprintf(old, sizeof(old), "%s/old.img", dir);
	snprintf(fresh, sizeof(fresh), "%s/new.img", dir);
	struct vlab_err err = {0};
	assert_int_equal(vm_disk_create(old, 64 << 10, VM_DISK_FIXED, &err), 0);
	int fd = open(old, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "the student's files", 19, 4096), 19);
	close(fd);
	uint64_t h = hash_file(old);
	fill();
	/* A fixed-size disk reserves every block: there is no room for it. */
	assert_int_equal(vm_disk_create(fresh, 1 << 20, VM_DISK_FIXED, &err), -1);
	print_message("disk full: %s\n", err.msg);
	assert_int_equal(err.code, ENOSPC);
	assert_non_null(strstr(err.msg, fresh));
	assert_int_equal(access(fresh, F_OK), -1); /* no half-made image */
	assert_true(hash_file(old) == h);
	small_fs_done();
}

/* ---- SIGKILL, then a restart ---- */

static const char *kill_lab =
    "return vlab.lab { id = 'faults-k9', title = 'Killed', steps = {\n"
    "  vlab.question { id = 'q1', prompt = '2 + 2?', kind = 'numeric', answer = 4 },\n"
    "  vlab.question { id = 'q2', prompt = '3 + 3?', kind = 'numeric', answer = 6 },\n"
    "} }\n";

struct k9 {
	pid_t pids[4];
	int npids;
	char disk[256], netns[64], cgroup_glob[128];
};

static struct vlab_instance *k9_start(struct vlab_spec *spec, struct vlab_labnet *net)
{
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	if (net && vlab_labnet_spec_attach(net, spec, &err) < 0)
		_exit(10);
	if (vlab_instance_create(spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 60000, &err) < 0) {
		fprintf(stderr, "k9: %s: %s\n", spec->name, err.msg);
		_exit(11);
	}
	return inst;
}

/* The first vlab: starts what it can, saves progress, reports, waits. */
static void first_vlab(int report, const char *wb_path, const char *lab_path)
{
	struct vlab_err err = {0};
	char name[40], line[512];
	struct vlab_spec spec;
	struct vlab_labnet *net = NULL;
	int pid = (int)getpid();
	if (vlab_labnet_acquire(&net, &err) < 0)
		net = NULL;
	else
		dprintf(report, "netns %s\n", vlab_labnet_path(net));
	if (access("build/images/rootfs", F_OK) == 0) {
		snprintf(name, sizeof(name), "k9-%d-ct", pid);
		vlab_spec_init(&spec, "container", name, &err);
		struct vlab_instance *ct = k9_start(&spec, NULL);
		dprintf(report, "pid %d\ncgroups /sys/fs/cgroup/*/vlab/%s.*\n",
			(int)vlab_instance_pid(ct), name);
	}
	if (kvm_ok()) {
		snprintf(name, sizeof(name), "k9-%d-uk", pid);
		vlab_spec_init(&spec, "unikernel", name, &err);
		if (net)
			vlab_spec_set(&spec, "net", "on", &err);
		struct vlab_instance *uk = k9_start(&spec, net);
		dprintf(report, "pid %d\n", (int)vlab_instance_pid(uk));
		if (access(VM_GUEST, R_OK) == 0) {
			snprintf(name, sizeof(name), "k9-%d-vm", pid);
			vlab_spec_init(&spec, "vm", name, &err);
			vlab_spec_set(&spec, "backend", "kvm", &err);
			vlab_spec_set(&spec, "kernel", VM_GUEST, &err);
			vlab_spec_set(&spec, "initrd", "none", &err);
			vlab_spec_set(&spec, "memory", "32M", &err);
			vlab_spec_set(&spec, "disk_size", "1M", &err);
			struct vlab_instance *vm = k9_start(&spec, NULL);
			const char *d = vlab_instance_attr(vm, "disk");
			dprintf(report, "pid %d\ndisk %s\n", (int)vlab_instance_pid(vm), d ? d : "");
		}
	}
	/* The student answered q1 before the crash. */
	json_t *wb = lesson_workbook_new("faults-k9", "Killed", "1", lab_path, "");
	json_t *it = lesson_workbook_item(wb, "q1", 1);
	json_object_set_new(it, "status", json_string("passed"));
	json_object_set_new(it, "score", json_real(1));
	json_object_set_new(it, "answer", json_string("4"));
	json_object_set_new(it, "attempts", json_integer(1));
	if (lesson_workbook_save(wb_path, wb, &err) < 0)
		_exit(12);
	snprintf(line, sizeof(line), "ready\n");
	vlab_write_all(report, line, strlen(line), 5000, NULL);
	for (;;)
		pause();
}

static int globbed(const char *pattern)
{
	glob_t g;
	int n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	if (n)
		globfree(&g);
	return n;
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

static void test_sigkill_then_restart(void **state)
{
	(void)state;
	if (geteuid() != 0)
		VTEST_SKIP("needs root (cgroups, the lab network)");
	if (access("build/images/rootfs", F_OK) != 0 && !kvm_ok())
		VTEST_SKIP("neither the container rootfs nor /dev/kvm here");
	char tmp[] = "/tmp/vlab-k9-XXXXXX", wb_path[128], lab_path[128];
	assert_non_null(mkdtemp(tmp));
	snprintf(wb_path, sizeof(wb_path), "%s/wb.json", tmp);
	snprintf(lab_path, sizeof(lab_path), "%s/k9.lua", tmp);
	FILE *f = fopen(lab_path, "w");
	fputs(kill_lab, f);
	fclose(f);

	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		close(p[0]);
		first_vlab(p[1], wb_path, lab_path);
	}
	close(p[1]);
	struct k9 k = {.npids = 0};
	char all[4096];
	size_t got = 0;
	uint64_t end = vlab_now_ns() + 120000000000ull;
	while (!strstr(all, "ready\n") && vlab_now_ns() < end) {
		ssize_t n = read(p[0], all + got, sizeof(all) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		all[got] = '\0';
	}
	close(p[0]);
	if (!strstr(all, "ready\n")) {
		kill(a, SIGKILL);
		waitpid(a, NULL, 0);
		fail_msg("the first vlab did not get ready:\n%s", all);
	}
	for (char *l = all; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		int pid;
		if (sscanf(l, "pid %d", &pid) == 1 && k.npids < 4)
			k.pids[k.npids++] = pid;
		sscanf(l, "disk %255s", k.disk);
		sscanf(l, "netns %63s", k.netns);
		sscanf(l, "cgroups %127s", k.cgroup_glob);
	}
	print_message("first vlab %d: %d instance(s); netns %s; disk %s\n", (int)a, k.npids,
		      k.netns[0] ? k.netns : "-", k.disk[0] ? k.disk : "-");

	/* kill -9 mid-run */
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, NULL, 0), a);
	/* Its instances die with it (PR_SET_PDEATHSIG). */
	end = vlab_now_ns() + 10000000000ull;
	for (int i = 0; i < k.npids; i++) {
		while (alive(k.pids[i]) && vlab_now_ns() < end)
			usleep(20000);
		if (alive(k.pids[i]))
			fail_msg("instance process %d outlived its killed vlab", (int)k.pids[i]);
	}
	int stale_cg = k.cgroup_glob[0] ? globbed(k.cgroup_glob) : 0;
	int stale_ns = k.netns[0] && access(k.netns, F_OK) == 0;
	int stale_disk = k.disk[0] && access(k.disk, F_OK) == 0;
	print_message("left behind: %d cgroup(s), netns %s, scratch disk %s\n", stale_cg,
		      stale_ns ? "yes" : "no", stale_disk ? "yes" : "no");

	/* The restart: the student opens the lab again and answers q2. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "'%s' run --headless --quiet --workbook '%s' --only q2 --answer q2=6 '%s' "
		 ">/dev/null 2>&1",
		 getenv("VLAB_SELF"), wb_path, lab_path);
	int rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);

	if (k.cgroup_glob[0] && globbed(k.cgroup_glob))
		fail_msg("cgroups %s still there after the restart", k.cgroup_glob);
	if (k.netns[0] && access(k.netns, F_OK) == 0)
		fail_msg("lab network %s still there after the restart", k.netns);
	if (k.disk[0] && access(k.disk, F_OK) == 0)
		fail_msg("scratch disk %s still there after the restart", k.disk);
	/* Progress kept: q1 from before the crash, q2 from after. */
	json_t *wb = NULL;
	struct vlab_err err = {0};
	assert_int_equal(lesson_workbook_load(wb_path, &wb, &err), 1);
	assert_string_equal(
	    json_string_value(json_object_get(lesson_workbook_item(wb, "q1", 0), "status")),
	    "passed");
	assert_string_equal(
	    json_string_value(json_object_get(lesson_workbook_item(wb, "q2", 0), "status")),
	    "passed");
	json_decref(wb);
	unlink(wb_path);
	unlink(lab_path);
	rmdir(tmp);
}

/* ---- a flooding console ---- */

static long rss_kb(pid_t pid)
{
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "r");
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* For secs, a request every 50 ms, reading the console or not; returns
 * the median latency (ns) and fills *max. */
static uint64_t measure(struct vlab_instance *inst, double secs, int read_console, uint64_t *max,
			uint64_t *console_bytes)
{
	uint64_t lat[256];
	int n = 0;
	char ring[65536];
	uint64_t end = vlab_now_ns() + (uint64_t)(secs * 1e9);
	while (vlab_now_ns() < end && n < 256) {
		uint64_t t = vlab_now_ns();
		const char *resp;
		struct vlab_err err = {0};
		if (vlab_instance_request(inst, "ping", &resp, 5000, &err) < 0)
			fail_msg("ping while flooding: %s", err.msg);
		lat[n++] = vlab_now_ns() - t;
		uint64_t until = vlab_now_ns() + 50000000ull;
		while (vlab_now_ns() < until) {
			if (read_console) {
				ssize_t r = read(vlab_instance_console_fd(inst), ring, sizeof(ring));
				if (r > 0)
					*console_bytes += (uint64_t)r;
			} else {
				usleep(5000);
			}
		}
	}
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp_u64);
	*max = lat[n - 1];
	return lat[n / 2];
}

static void test_console_flood(void **state)
{
	(void)state;
	if (!kvm_ok())
		VTEST_SKIP("/dev/kvm cannot be opened here");
	if (access(FLOOD, R_OK) != 0)
		VTEST_SKIP("the flood guest is not built (make tests)");
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst = NULL;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", "flood", &err), 0);
	assert_int_equal(vlab_spec_set(&spec, "image", FLOOD, &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0 || vlab_instance_start(inst, &err) < 0 ||
	    vlab_instance_wait_ready(inst, 10000, &err) < 0)
		fail_msg("flood guest: %s", err.msg);
	vlab_spec_free(&spec);
	vlab_fd_nonblock(vlab_instance_console_fd(inst), 1, NULL);
	pid_t pid = vlab_instance_pid(inst);
	long mon0 = rss_kb(pid), fe0 = rss_kb(getpid());
	uint64_t max_a, max_b, bytes = 0;
	/* Nobody reads the console: the monitor drops what does not fit. */
	uint64_t med_a = measure(inst, 2.5, 0, &max_a, &bytes);
	long mon1 = rss_kb(pid);
	uint64_t dropped = vlab_counters_get(vlab_instance_counters(inst), "console.dropped_bytes");
	/* The front end reads it all, as a console pane does. */
	uint64_t med_b = measure(inst, 2.5, 1, &max_b, &bytes);
	long mon2 = rss_kb(pid), fe2 = rss_kb(getpid());
	print_message("console not read: ping median %.2f ms, max %.2f ms; %llu bytes dropped\n",
		      med_a / 1e6, max_a / 1e6, (unsigned long long)dropped);
	print_message("console read:     ping median %.2f ms, max %.2f ms; %llu bytes read\n",
		      med_b / 1e6, max_b / 1e6, (unsigned long long)bytes);
	print_message("monitor RSS %ld -> %ld -> %ld KiB; front end RSS %ld -> %ld KiB\n", mon0,
		      mon1, mon2, fe0, fe2);
	assert_true(dropped > 0);
	assert_true(bytes > 1000000);
	assert_true(mon1 - mon0 < 4096 && mon2 - mon0 < 4096);
	assert_true(fe2 - fe0 < 4096);
	/* responsive: the guest answers as it would when idle (a loaded
	 * machine is slow, but never seconds) */
	assert_true(med_a < 250000000ull && med_b < 250000000ull);
	assert_true(max_a < 2000000000ull && max_b < 2000000000ull);
	assert_int_equal(vlab_instance_stop(inst, 3000, &err), 0);
	vlab_instance_free(inst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workbook_disk_full),
		cmocka_unit_test(test_disk_image_disk_full),
		cmocka_unit_test(test_sigkill_then_restart),
		cmocka_unit_test(test_console_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
