/* tests/integration/engines/unikernel/test_unikernel.c: the unikernel
 * engine end to end, through the same instance API the front ends use:
 * boot to READY, startup phases, attributes and counters, the control
 * channel, the block device read back from the host, the exit status the
 * guest chose, a stop request; then hostile guests and malformed images,
 * each ending in a clear error with the monitor alive and the host's disk
 * file untouched. */
#include "tests/vtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "engines/engine.h"
#include "engines/unikernel/uk_abi.h"

#define GUESTS "build/tests/integration/engines/unikernel/guest/"
#define HELLO GUESTS "hello.uk"
#define HOSTILE GUESTS "hostile.uk"
#define LIBOS GUESTS "libos.uk"
#define DISK_BYTES (1u << 20)

static char disk_path[64];

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

/* kv: NULL-terminated "key=value" list. */
static struct vlab_instance *start(const char *name, const char *const *kv)
{
	struct vlab_spec spec;
	struct vlab_err err = {0};
	struct vlab_instance *inst;
	assert_int_equal(vlab_spec_init(&spec, "unikernel", name, &err), 0);
	for (; *kv; kv++)
		assert_int_equal(vlab_spec_set_kv(&spec, *kv, &err), 0);
	if (vlab_instance_create(&spec, &inst, &err) < 0)
		fail_msg("create: %s", err.msg);
	vlab_spec_free(&spec);
	if (vlab_instance_start(inst, &err) < 0)
		fail_msg("start: %s", err.msg);
	return inst;
}

static void wait_exit(struct vlab_instance *inst, int timeout_ms)
{
	uint64_t deadline = vlab_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while (vlab_instance_state(inst) != VLAB_STATE_EXITED &&
	       vlab_instance_state(inst) != VLAB_STATE_FAILED) {
		if (vlab_now_ns() > deadline)
			fail_msg("instance still running after %d ms", timeout_ms);
		struct pollfd p = {.fd = vlab_instance_pidfd(inst), .events = POLLIN};
		if (p.fd >= 0)
			poll(&p, 1, 50);
		vlab_instance_pump(inst, NULL);
	}
}

static void make_disk(void)
{
	snprintf(disk_path, sizeof(disk_path), "/tmp/vlab-uk-test-%d.img", (int)getpid());
	int fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	static uint8_t b[DISK_BYTES];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i % 251);
	assert_int_equal(write(fd, b, sizeof(b)), sizeof(b));
	close(fd);
}

static uint32_t disk_hash(void)
{
	static uint8_t b[DISK_BYTES];
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b)), sizeof(b));
	close(fd);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void test_boot_to_ready(void **state)
{
	(void)state;
	NEED_KVM();
	int fds = vtest_count_fds(), kids = vtest_count_children();
	struct vlab_err err = {0};
	struct vlab_instance *inst =
	    start("uk-hello", (const char *const[]){"image=" HELLO, "cmdline=echo", NULL});
	if (vlab_instance_wait_ready(inst, 10000, &err) < 0)
		fail_msg("wait_ready: %s", err.msg);
	assert_non_null(strstr(vlab_instance_ready_line(inst), "READY hello"));
	assert_true(vlab_instance_startup_ns(inst) > 0);

	/* The startup phases, in order. */
	const struct vlab_phase *ph;
	size_t n = vlab_instance_phases(inst, &ph);
	const char *want[] = {"spawn", "kvm", "load", "confine", "first-insn"};
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(ph[i].name, want[i]);
		if (i)
			assert_true(ph[i].ns >= ph[i - 1].ns);
	}
	assert_true(ph[4].ns <= vlab_instance_startup_ns(inst));
	assert_non_null(strstr(vlab_instance_attr(inst, "confinement"), "seccomp"));
	/* The monitor is its own small program, not vlab re-executed. */
	char exe[64], path[4096];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)vlab_instance_pid(inst));
	ssize_t pl = readlink(exe, path, sizeof(path) - 1);
	assert_true(pl > 0);
	path[pl] = '\0';
	const char *base = strrchr(path, '/');
	assert_string_equal(base ? base + 1 : path, "vlab-unikernel");

	struct stat st;
	assert_int_equal(stat(HELLO, &st), 0);
	char size[32];
	snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
	assert_string_equal(vlab_instance_attr(inst, "backend"), "kvm");
	assert_string_equal(vlab_instance_attr(inst, "emulated"), "no");
	assert_string_equal(vlab_instance_attr(inst, "image_bytes"), size);

	/* The control channel, both ways. */
	const char *resp;
	assert_int_equal(vlab_instance_request(inst, "ping a=1", &resp, 5000, &err), 0);
	assert_string_equal(resp, "ok ping a=1");
	assert_int_equal(vlab_instance_request(inst, "again", &resp, 5000, &err), 0);
	assert_string_equal(resp, "ok again");
	const struct vlab_counters *c = vlab_instance_counters(inst);
	assert_true(vlab_counters_get(c, "hc.ctl_write") >= 3);
	assert_true(vlab_counters_get(c, "hc.ctl_read") >= 2);
	assert_true(vlab_counters_get(c, "exit.io") >= 5);

	/* "bye" ends the echo; main returns 0. */
	assert_int_equal(write(vlab_instance_control_fd(inst), "9 bye\n", 6), 6);
	wait_exit(inst, 5000);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 0);
	assert_true(vlab_counters_get(c, "hc.exit") == 1);
	vlab_instance_free(inst);
	assert_int_equal(vtest_count_fds(), fds);
	assert_int_equal(vtest_count_children(), kids);
}

static void test_console_disk_and_status(void **state)
{
	(void)state;
	NEED_KVM();
	make_disk();
	char disk[128];
	snprintf(disk, sizeof(disk), "disk=%s", disk_path);
	struct vlab_err err = {0};
	struct vlab_instance *inst =
	    start("uk-disk", (const char *const[]){"image=" HELLO, "cmdline=clock disk exit=7",
						   disk, "memory=8M", NULL});
	wait_exit(inst, 10000);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	assert_int_equal(WEXITSTATUS(vlab_instance_exit_status(inst)), 7);
	assert_string_equal(vlab_instance_error(inst), "");

	char con[4096];
	ssize_t k = read(vlab_instance_console_fd(inst), con, sizeof(con) - 1);
	assert_true(k > 0);
	con[k] = '\0';
	assert_non_null(strstr(con, "hello from the unikernel: 3 args"));
	assert_non_null(strstr(con, "clock: ok"));
	assert_non_null(strstr(con, "disk: ok capacity=1048576"));

	/* What the guest wrote is in the host file: the first sector and the
	 * last 64 KiB start with the guest's marker. */
	int fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	char mark[12];
	assert_int_equal(pread(fd, mark, 12, 0), 12);
	assert_memory_equal(mark, "VLAB-UK-DISK", 12);
	assert_int_equal(pread(fd, mark, 12, DISK_BYTES - (64 << 10)), 12);
	assert_memory_equal(mark, "VLAB-UK-DISK", 12);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, 4096), 1);
	assert_int_equal(b, 4096 % 251); /* untouched between the two */
	close(fd);
	unlink(disk_path);
	(void)err;
	vlab_instance_free(inst);
}

static void test_stop(void **state)
{
	(void)state;
	NEED_KVM();
	struct vlab_err err = {0};
	/* A guest that waits: the request reaches it and it exits cleanly. */
	struct vlab_instance *inst =
	    start("uk-stop", (const char *const[]){"image=" HELLO, "cmdline=echo", NULL});
	assert_int_equal(vlab_instance_wait_ready(inst, 10000, &err), 0);
	uint64_t t0 = vlab_now_ns();
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	assert_true(vlab_now_ns() - t0 < 1000000000ull);
	int st = vlab_instance_exit_status(inst);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(vlab_instance_error(inst), "");
	vlab_instance_free(inst);

	/* A guest that never looks: stopped by the monitor a second later,
	 * before the front end's grace runs out (no SIGKILL). */
	inst = start("uk-spin", (const char *const[]){"image=" HELLO, "cmdline=spin", NULL});
	assert_int_equal(vlab_instance_wait_ready(inst, 10000, &err), 0);
	t0 = vlab_now_ns();
	assert_int_equal(vlab_instance_stop(inst, 5000, &err), 0);
	uint64_t took = vlab_now_ns() - t0;
	assert_true(took >= 900000000ull && took < 3000000000ull);
	st = vlab_instance_exit_status(inst);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
	assert_non_null(strstr(vlab_instance_error(inst), "did not exit when asked"));
	vlab_instance_free(inst);
}

/* The library OS's own checks, run inside the unikernel. */
static void test_libos_inside(void **state)
{
	(void)state;
	NEED_KVM();
	struct vlab_instance *inst = start("uk-libos", (const char *const[]){"image=" LIBOS, NULL});
	wait_exit(inst, 10000);
	char con[8192];
	ssize_t k = read(vlab_instance_console_fd(inst), con, sizeof(con) - 1);
	con[k > 0 ? k : 0] = '\0';
	int st = vlab_instance_exit_status(inst);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("library OS self-test: status %#x, console:\n%s", st, con);
	assert_non_null(strstr(con, "libos: 0 failures"));
	vlab_instance_free(inst);
}

/* ---- hostile guests ---- */

struct hostile {
	const char *name;   /* the hostile guest's case */
	const char *expect; /* in the error */
	const char *also;
};

static const struct hostile cases[] = {
    {"arg-end-of-ram", "invalid hypercall console_write", "argument struct [0x7fffff8,"},
    {"arg-past-ram", "invalid hypercall clock", "lies outside guest RAM"},
    {"arg-misaligned", "invalid hypercall clock", "not 8-byte aligned"},
    {"buf-end-of-ram", "invalid hypercall console_write", "buffer [0x7fffffc,"},
    {"buf-wrap", "invalid hypercall ctl_write", "wraps past 2^64"},
    {"block-past-end", "invalid hypercall block_write", "beyond the disk's capacity"},
    {"block-overflow", "invalid hypercall block_write", "wrap past 2^64"},
    {"block-buf-outside", "invalid hypercall block_write", "lies outside guest RAM"},
    {"unknown-hypercall", "unknown hypercall number 99", "port 0x563"},
    {"byte-out", "invalid hypercall clock", "1-byte `out`"},
    {"trap-port", "port 0x4ff belongs to the monitor", NULL},
    {"exit-status", "invalid hypercall exit", "status 300"},
    {"unmapped-write", "page fault", "write to unmapped address 0x10000000000"},
    {"hlt", "general protection fault", "privileged instruction hlt"},
    {"ud2", "invalid opcode", "at rip 0x"},
    {"triple-fault", "triple fault", NULL},
};

static void test_hostile_guests(void **state)
{
	(void)state;
	NEED_KVM();
	make_disk();
	uint32_t before = disk_hash();
	char disk[128];
	snprintf(disk, sizeof(disk), "disk=%s", disk_path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile *h = &cases[i];
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "cmdline=%s", h->name);
		struct vlab_err err = {0};
		struct vlab_instance *inst =
		    start("uk-hostile",
			  (const char *const[]){"image=" HOSTILE, cmd, disk, "memory=128M", NULL});
		if (vlab_instance_wait_ready(inst, 10000, &err) < 0)
			fail_msg("%s: no READY: %s", h->name, err.msg);
		wait_exit(inst, 10000);
		int st = vlab_instance_exit_status(inst);
		const char *e = vlab_instance_error(inst);
		print_message("%-18s -> %s\n", h->name, e);
		/* The monitor ended on its own terms: no signal, status 1. */
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
			fail_msg("%s: monitor status %#x (%s)", h->name, st, e);
		if (!strstr(e, h->expect) || (h->also && !strstr(e, h->also)))
			fail_msg("%s: error '%s' lacks '%s' / '%s'", h->name, e, h->expect,
				 h->also ? h->also : "");
		vlab_instance_free(inst);
		assert_int_equal(disk_hash(), before);
	}
	unlink(disk_path);
}

/* ---- malformed images ---- */

static void write_file(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static void refused_image(const char *path, const char *needle, const char *also)
{
	char img[128];
	snprintf(img, sizeof(img), "image=%s", path);
	struct vlab_err err = {0};
	struct vlab_instance *inst = start("uk-badimg", (const char *const[]){img, NULL});
	assert_int_equal(vlab_instance_wait_ready(inst, 10000, &err), -1);
	wait_exit(inst, 5000);
	const char *e = vlab_instance_error(inst);
	print_message("%s\n", e);
	assert_true(WIFEXITED(vlab_instance_exit_status(inst)));
	if (!strstr(e, needle) || (also && !strstr(e, also)))
		fail_msg("error '%s' lacks '%s' / '%s'", e, needle, also ? also : "");
	vlab_instance_free(inst);
}

static void test_malformed_images(void **state)
{
	(void)state;
	NEED_KVM();
	static uint8_t b[1 << 20];
	int fd = open(HELLO, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, b, sizeof(b));
	close(fd);
	assert_true(n > 4096);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/vlab-uk-bad-%d.elf", (int)getpid());

	write_file(path, b, 40); /* truncated inside the ELF header */
	refused_image(path, "too short for an ELF header", "truncated");
	write_file(path, b, 100); /* header fine, program headers cut off */
	refused_image(path, "program header table", "outside the file");
	write_file(path, b, 2048); /* program headers fine, segment bytes cut off */
	refused_image(path, "program header 0 (PT_LOAD)", "truncated");

	uint8_t save[8];
	memcpy(save, b + 32, 8); /* e_phoff */
	uint64_t far = 1ull << 40;
	memcpy(b + 32, &far, 8); /* program header table outside the file */
	write_file(path, b, (size_t)n);
	refused_image(path, "program header table", "outside the file");
	memcpy(b + 32, save, 8);

	uint64_t phoff;
	memcpy(&phoff, b + 32, 8);
	uint8_t *ph1 = b + phoff + 56; /* the data segment's header */
	uint64_t vaddr = 1ull << 31;   /* 2 GiB: outside 64 MiB of RAM */
	memcpy(ph1 + 16, &vaddr, 8);
	write_file(path, b, (size_t)n);
	refused_image(path, "program header 1 (PT_LOAD)", "outside the guest RAM");

	write_file(path, "#!/bin/sh\necho hi\n", 18);
	refused_image(path, "too short", NULL);
	memset(b, 'x', 64);
	write_file(path, b, 4096);
	refused_image(path, "not an ELF file", NULL);
	refused_image("/nonexistent/agent.uk", "open image /nonexistent/agent.uk", NULL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_to_ready),
	    cmocka_unit_test(test_console_disk_and_status),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_libos_inside),
	    cmocka_unit_test(test_hostile_guests),
	    cmocka_unit_test(test_malformed_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
