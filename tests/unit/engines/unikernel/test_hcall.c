/* tests/unit/engines/unikernel/test_hcall.c: the monitor's hypercall
 * checks, driven directly: argument structs are written into the guest
 * RAM of a real (never started) unikernel VM and handed to uk_hcall()
 * the way the run loop hands over an `out`.  Good calls do their job;
 * every bad address, length or offset is refused with a message, and the
 * host file behind the disk is not touched. */
#include "tests/vtest.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "engines/unikernel/monitor.h"

#define MEM (8ull << 20)
#define DISK (1ull << 20)
#define ARG 0x200000ull /* where the tests put argument structs */
#define BUF 0x201000ull /* and buffers */

struct fixture {
	struct uk_monitor *m;
	int con[2], ctl[2], disk, tap[2]; /* a datagram socketpair plays the TAP */
	char disk_path[64];
	struct vlab_counters counters;
};

/* The smallest image: one page of code at 0x100000 (ud2). */
static uint8_t image[0x1000 + 16];

static void make_image(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *ph = (Elf64_Phdr *)(image + sizeof(*eh));
	memset(image, 0, sizeof(image));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x100000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf64_Phdr){.p_type = PT_LOAD,
			   .p_flags = PF_R | PF_X,
			   .p_offset = 0x1000,
			   .p_vaddr = 0x100000,
			   .p_filesz = 16,
			   .p_memsz = 16};
	image[0x1000] = 0x0f;
	image[0x1001] = 0x0b;
}

static int setup(void **state)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*state = NULL;
		return 0;
	}
	close(fd);
	struct fixture *f = calloc(1, sizeof(*f));
	struct vlab_err err = {0};
	make_image();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->con), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->ctl), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, f->tap),
			 0);
	snprintf(f->disk_path, sizeof(f->disk_path), "/tmp/vlab-uk-hcall-%d", (int)getpid());
	f->disk = open(f->disk_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->disk >= 0);
	uint8_t pat[4096];
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 13 + 1);
	for (uint64_t off = 0; off < DISK; off += sizeof(pat))
		assert_int_equal(pwrite(f->disk, pat, sizeof(pat), (off_t)off), sizeof(pat));
	vlab_counters_init(&f->counters);
	struct uk_config cfg = {
	    .image = image,
	    .image_len = sizeof(image),
	    .mem_bytes = MEM,
	    .cmdline = "unit",
	    .console_fd = f->con[1],
	    .control_fd = f->ctl[1],
	    .disk_fd = f->disk,
	    .disk_bytes = DISK,
	    .tap_fd = f->tap[1],
	    .mac = {2, 0x76, 0x6c, 0, 0, 9},
	    .mtu = 1500,
	    .ip = 0x09004d0a,
	    .netmask = 0x00ffffff,
	    .gateway = 0x01004d0a,
	    .counters = &f->counters,
	};
	if (uk_monitor_new(&cfg, &f->m, &err) < 0)
		fail_msg("monitor: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0;
	uk_monitor_free(f->m);
	for (int i = 0; i < 2; i++) {
		close(f->con[i]);
		close(f->ctl[i]);
		close(f->tap[i]);
	}
	close(f->disk);
	unlink(f->disk_path);
	free(f);
	return 0;
}

#define FIXTURE()                                                                                  \
	struct fixture *f = *state;                                                                \
	if (!f)                                                                                    \
		VTEST_SKIP("/dev/kvm cannot be opened here");

static void *ram(struct fixture *f, uint64_t gpa)
{
	return f->m->ram + gpa;
}

/* Issues hypercall nr with the struct at ARG; returns uk_hcall's result. */
static int call(struct fixture *f, enum uk_hc nr, const void *arg, size_t len, struct vlab_err *err)
{
	memcpy(ram(f, ARG), arg, len);
	return uk_hcall(f->m, UK_HC_PORT(nr), 4, (uint32_t)ARG, err);
}

static void refused(struct fixture *f, enum uk_hc nr, const void *arg, size_t len,
		    const char *needle)
{
	struct vlab_err err = {0};
	if (call(f, nr, arg, len, &err) != -1)
		fail_msg("hypercall %s accepted (expected '%s')", uk_hcall_name(nr), needle);
	if (!strstr(err.msg, needle) || !strstr(err.msg, "invalid hypercall"))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static int64_t ret_of(struct fixture *f)
{
	int64_t r;
	memcpy(&r, (uint8_t *)ram(f, ARG) + 16, 8); /* uk_hc_io.ret */
	return r;
}

static void test_boot_info(void **state)
{
	FIXTURE();
	const struct uk_boot_info *bi = ram(f, UK_BOOT_INFO_GPA);
	assert_int_equal(bi->magic, UK_BOOT_MAGIC);
	assert_int_equal(bi->abi_version, UK_ABI_VERSION);
	assert_int_equal(bi->mem_size, MEM);
	assert_int_equal(bi->image_end, 0x101000);
	assert_int_equal(bi->devices, UK_DEV_CONSOLE | UK_DEV_CONTROL | UK_DEV_BLOCK | UK_DEV_NET);
	assert_string_equal((const char *)ram(f, bi->cmdline), "unit");
	assert_int_equal(bi->cmdline_len, 4);
	assert_int_equal(((uint8_t *)ram(f, 0x100000))[1], 0x0b); /* the image is loaded */
}

static void test_console_and_control(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	memcpy(ram(f, BUF), "hello\n", 6);
	struct uk_hc_io io = {.data = BUF, .len = 6};
	assert_int_equal(call(f, UK_HC_CONSOLE_WRITE, &io, sizeof(io), &err), 0);
	assert_int_equal(ret_of(f), 6);
	char got[16] = {0};
	assert_int_equal(read(f->con[0], got, sizeof(got)), 6);
	assert_string_equal(got, "hello\n");

	/* Control read: nothing yet, then a line, then the end. */
	io = (struct uk_hc_io){.data = BUF, .len = 64};
	assert_int_equal(call(f, UK_HC_CTL_READ, &io, sizeof(io), &err), 0);
	assert_int_equal(ret_of(f), -UK_EAGAIN);
	assert_int_equal(write(f->ctl[0], "1 ping\n", 7), 7);
	assert_int_equal(call(f, UK_HC_CTL_READ, &io, sizeof(io), &err), 0);
	assert_int_equal(ret_of(f), 7);
	assert_memory_equal(ram(f, BUF), "1 ping\n", 7);
	io = (struct uk_hc_io){.data = BUF, .len = 7};
	assert_int_equal(call(f, UK_HC_CTL_WRITE, &io, sizeof(io), &err), 0);
	assert_int_equal(read(f->ctl[0], got, sizeof(got)), 7);
	shutdown(f->ctl[0], SHUT_WR);
	io = (struct uk_hc_io){.data = BUF, .len = 64};
	assert_int_equal(call(f, UK_HC_CTL_READ, &io, sizeof(io), &err), 0);
	assert_int_equal(ret_of(f), -UK_EPIPE);
	assert_true(vlab_counters_get(&f->counters, "hc.ctl_read") == 3);
	assert_true(vlab_counters_get(&f->counters, "hc.console_write") == 1);
}

static void test_poll(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	struct uk_hc_poll p = {.timeout_ns = 20000000, .events = UK_POLL_CTL};
	_Static_assert(sizeof(p) <= 0x1000, "argument area");
	uint64_t t0 = vlab_now_ns();
	assert_int_equal(call(f, UK_HC_POLL, &p, sizeof(p), &err), 0);
	uint64_t waited = vlab_now_ns() - t0;
	memcpy(&p, ram(f, ARG), sizeof(p));
	assert_int_equal(p.ready, 0);
	assert_true(waited >= 19000000); /* it did wait for the timeout */
	assert_int_equal(write(f->ctl[0], "x", 1), 1);
	p = (struct uk_hc_poll){.timeout_ns = 5000000000ull, .events = UK_POLL_CTL};
	t0 = vlab_now_ns();
	assert_int_equal(call(f, UK_HC_POLL, &p, sizeof(p), &err), 0);
	memcpy(&p, ram(f, ARG), sizeof(p));
	assert_int_equal(p.ready, UK_POLL_CTL);
	assert_true(vlab_now_ns() - t0 < 1000000000ull); /* input ends the wait */
	p = (struct uk_hc_poll){.timeout_ns = UK_POLL_MAX_NS + 1};
	refused(f, UK_HC_POLL, &p, sizeof(p), "exceeds an hour");
	p = (struct uk_hc_poll){.events = 1u << 7};
	refused(f, UK_HC_POLL, &p, sizeof(p), "unknown event bits");
}

static uint32_t disk_sum(struct fixture *f)
{
	static uint8_t b[DISK];
	assert_int_equal(pread(f->disk, b, DISK, 0), DISK);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < DISK; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void test_block(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	struct uk_hc_block_info bi = {0};
	assert_int_equal(call(f, UK_HC_BLOCK_INFO, &bi, sizeof(bi), &err), 0);
	memcpy(&bi, ram(f, ARG), sizeof(bi));
	assert_int_equal(bi.capacity, DISK);
	assert_int_equal(bi.block_size, 512);
	assert_int_equal(bi.ret, 0);

	/* The last sector is writable and reads back. */
	memset(ram(f, BUF), 0x5a, 512);
	struct uk_hc_block_io b = {.offset = DISK - 512, .data = BUF, .len = 512};
	assert_int_equal(call(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), &err), 0);
	memset(ram(f, BUF), 0, 512);
	assert_int_equal(call(f, UK_HC_BLOCK_READ, &b, sizeof(b), &err), 0);
	assert_int_equal(((uint8_t *)ram(f, BUF))[511], 0x5a);
	assert_int_equal(call(f, UK_HC_BLOCK_FLUSH, &b, sizeof(b), &err), 0);

	/* Everything out of bounds is refused, and the file stays as it is. */
	uint32_t before = disk_sum(f);
	b = (struct uk_hc_block_io){.offset = DISK, .data = BUF, .len = 512};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "beyond the disk's capacity");
	b = (struct uk_hc_block_io){.offset = DISK - 512, .data = BUF, .len = 1024};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "beyond the disk's capacity");
	b = (struct uk_hc_block_io){.offset = UINT64_MAX - 511, .data = BUF, .len = 1024};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "wrap past 2^64");
	b = (struct uk_hc_block_io){.offset = 100, .data = BUF, .len = 512};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "multiple of the block size");
	b = (struct uk_hc_block_io){.offset = 0, .data = MEM - 256, .len = 512};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "outside guest RAM");
	b = (struct uk_hc_block_io){.offset = 0, .data = UINT64_MAX - 255, .len = 512};
	refused(f, UK_HC_BLOCK_READ, &b, sizeof(b), "wraps past 2^64");
	b = (struct uk_hc_block_io){.offset = 0, .data = BUF, .len = 8u << 20};
	refused(f, UK_HC_BLOCK_WRITE, &b, sizeof(b), "exceeds the most one call moves");
	assert_int_equal(disk_sum(f), before);
}

static void test_bad_calls(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	struct uk_hc_io io = {.data = MEM - 4, .len = 8};
	refused(f, UK_HC_CONSOLE_WRITE, &io, sizeof(io), "outside guest RAM");
	io = (struct uk_hc_io){.data = UINT64_MAX - 7, .len = 16};
	refused(f, UK_HC_CTL_WRITE, &io, sizeof(io), "wraps past 2^64");
	io = (struct uk_hc_io){.data = BUF, .len = 64ull << 20};
	refused(f, UK_HC_CONSOLE_WRITE, &io, sizeof(io), "exceeds");
	struct uk_hc_exit e = {.status = 256};
	refused(f, UK_HC_EXIT, &e, sizeof(e), "not 0..255");
	/* The argument struct itself at the end of RAM, past it, misaligned. */
	assert_int_equal(uk_hcall(f->m, UK_HC_PORT(UK_HC_CLOCK), 4, MEM - 8, &err), -1);
	assert_non_null(strstr(err.msg, "argument struct"));
	assert_int_equal(uk_hcall(f->m, UK_HC_PORT(UK_HC_CLOCK), 4, 0xfffffff8u, &err), -1);
	assert_non_null(strstr(err.msg, "outside guest RAM"));
	assert_int_equal(uk_hcall(f->m, UK_HC_PORT(UK_HC_CLOCK), 4, ARG + 4, &err), -1);
	assert_non_null(strstr(err.msg, "8-byte aligned"));
	assert_int_equal(uk_hcall(f->m, UK_HC_PORT(UK_HC_CLOCK), 2, ARG, &err), -1);
	assert_non_null(strstr(err.msg, "2-byte `out`"));
	assert_int_equal(uk_hcall(f->m, UK_HC_PORT(77), 4, ARG, &err), -1);
	assert_non_null(strstr(err.msg, "unknown hypercall number 77"));
	assert_int_equal(uk_hcall(f->m, 0x80, 4, ARG, &err), -1);
	assert_non_null(strstr(err.msg, "unknown hypercall"));
}

static void test_network(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	struct uk_hc_net_info ni = {0};
	assert_int_equal(call(f, UK_HC_NET_INFO, &ni, sizeof(ni), &err), 0);
	memcpy(&ni, ram(f, ARG), sizeof(ni));
	assert_int_equal(ni.ret, 0);
	assert_int_equal(ni.mtu, 1500);
	assert_int_equal(ni.mac[5], 9);
	assert_int_equal(ni.ip, 0x09004d0a);

	/* A frame out, from the guest's own address; not from another. */
	memset(ram(f, BUF), 0xee, 60);
	struct uk_hc_io io = {.data = BUF, .len = 60};
	refused(f, UK_HC_NET_SEND, &io, sizeof(io), "source MAC ee:ee:ee:ee:ee:ee is not");
	memcpy((uint8_t *)ram(f, BUF) + 6, (uint8_t[]){2, 0x76, 0x6c, 0, 0, 9}, 6);
	io = (struct uk_hc_io){.data = BUF, .len = 60};
	assert_int_equal(call(f, UK_HC_NET_SEND, &io, sizeof(io), &err), 0);
	uint8_t frame[2048];
	assert_int_equal(read(f->tap[0], frame, sizeof(frame)), 60);
	assert_int_equal(frame[59], 0xee);

	/* Two frames in: the first comes with the poll answer, which says
	 * another waits; the second with a receive, which says none does. */
	memset(frame, 1, 100);
	assert_int_equal(write(f->tap[0], frame, 100), 100);
	memset(frame, 2, 200);
	assert_int_equal(write(f->tap[0], frame, 200), 200);
	struct uk_hc_poll p = {
	    .timeout_ns = 1000000000, .events = UK_POLL_NET, .net_data = BUF, .net_len = 2048};
	assert_int_equal(call(f, UK_HC_POLL, &p, sizeof(p), &err), 0);
	memcpy(&p, ram(f, ARG), sizeof(p));
	assert_int_equal(p.ready, UK_POLL_NET);
	assert_int_equal(p.net_ret, 100);
	assert_int_equal(p.net_more, 1);
	assert_int_equal(((uint8_t *)ram(f, BUF))[99], 1);
	struct uk_hc_net_recv rv = {.data = BUF, .len = 2048};
	assert_int_equal(call(f, UK_HC_NET_RECV, &rv, sizeof(rv), &err), 0);
	memcpy(&rv, ram(f, ARG), sizeof(rv));
	assert_int_equal(rv.ret, 200);
	assert_int_equal(rv.more, 0);
	rv = (struct uk_hc_net_recv){.data = BUF, .len = 2048};
	assert_int_equal(call(f, UK_HC_NET_RECV, &rv, sizeof(rv), &err), 0);
	memcpy(&rv, ram(f, ARG), sizeof(rv));
	assert_int_equal(rv.ret, -UK_EAGAIN);

	/* Frames of impossible sizes and short buffers are refused. */
	io = (struct uk_hc_io){.data = BUF, .len = 10};
	refused(f, UK_HC_NET_SEND, &io, sizeof(io), "frame of 10 bytes");
	io = (struct uk_hc_io){.data = BUF, .len = 1515};
	refused(f, UK_HC_NET_SEND, &io, sizeof(io), "frame of 1515 bytes");
	io = (struct uk_hc_io){.data = MEM - 30, .len = 60};
	refused(f, UK_HC_NET_SEND, &io, sizeof(io), "outside guest RAM");
	rv = (struct uk_hc_net_recv){.data = BUF, .len = 100};
	refused(f, UK_HC_NET_RECV, &rv, sizeof(rv), "receive buffer of 100 bytes");
	assert_int_equal(write(f->tap[0], frame, 60), 60);
	p = (struct uk_hc_poll){.timeout_ns = 1000000000,
				.events = UK_POLL_NET,
				.net_data = MEM - 100,
				.net_len = 2048};
	refused(f, UK_HC_POLL, &p, sizeof(p), "outside guest RAM");
}

static void test_exit_and_clock(void **state)
{
	FIXTURE();
	struct vlab_err err = {0};
	struct uk_hc_clock c = {0};
	uint64_t before = vlab_now_ns();
	assert_int_equal(call(f, UK_HC_CLOCK, &c, sizeof(c), &err), 0);
	memcpy(&c, ram(f, ARG), sizeof(c));
	assert_true(c.monotonic_ns >= before && c.monotonic_ns <= vlab_now_ns());
	assert_true(c.wall_ns > 1600000000ull * 1000000000ull);
	struct uk_hc_exit e = {.status = 42};
	assert_int_equal(call(f, UK_HC_EXIT, &e, sizeof(e), &err), 1);
	assert_int_equal(f->m->exit_status, 42);
	assert_string_equal(uk_hcall_name(UK_HC_BLOCK_WRITE), "block_write");
	assert_null(uk_hcall_name(UK_HC_COUNT));
}

/* A value a hostile guest might put in an address or length field. */
static uint64_t nasty(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; /* xorshift64 */
	static const uint64_t edges[] = {
	    0,		1,	   8,	       512,	   4096, BUF,	     MEM - 512,
	    MEM - 8,	MEM,	   MEM + 4096, DISK - 512, DISK, UINT32_MAX, UINT64_MAX - 511,
	    UINT64_MAX, 1ull << 63};
	switch (*x % 4) {
	case 0:
		return edges[(*x >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return (*x >> 3) % (2 * MEM);
	case 2:
		return (*x >> 8) % 4096;
	default:
		return *x;
	}
}

/* Thousands of random hypercalls, hostile arguments included: every one
 * is served or refused with a message; the monitor never crashes. */
static void test_fuzz(void **state)
{
	FIXTURE();
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int refused_n = 0, served = 0;
	for (int i = 0; i < 20000; i++) {
		struct vlab_err err = {0};
		uint64_t r = nasty(&x);
		unsigned nr = (unsigned)(r % (UK_HC_COUNT + 3));
		/* Calls that may wait (poll, a full control channel) or sync the
		 * disk are tested above, not here. */
		if (nr == UK_HC_POLL || nr == UK_HC_CTL_WRITE || nr == UK_HC_BLOCK_FLUSH)
			continue;
		unsigned port = nr < UK_HC_COUNT ? UK_HC_PORT(nr) : (unsigned)(r >> 40) & 0xffff;
		unsigned size = (r >> 20) % 8 ? 4 : (unsigned)(r >> 24) % 4 + 1;
		uint32_t value = (r >> 28) % 4 ? (uint32_t)ARG : (uint32_t)nasty(&x);
		uint64_t words[8];
		for (int k = 0; k < 8; k++)
			words[k] = nasty(&x);
		memcpy(ram(f, ARG), words, sizeof(words));
		int rc = uk_hcall(f->m, port, size, value, &err);
		assert_true(rc >= -1 && rc <= 1);
		if (rc < 0) {
			assert_true(strlen(err.msg) > 10);
			refused_n++;
		} else {
			served++;
		}
		char drain[4096];
		while (recv(f->con[0], drain, sizeof(drain), MSG_DONTWAIT) > 0 ||
		       recv(f->tap[0], drain, sizeof(drain), MSG_DONTWAIT) > 0)
			;
	}
	print_message("fuzz: %d served, %d refused\n", served, refused_n);
	assert_true(served > 100 && refused_n > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_boot_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_and_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_and_clock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
