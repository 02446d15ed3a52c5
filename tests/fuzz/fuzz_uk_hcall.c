/* tests/fuzz/fuzz_uk_hcall.c: the unikernel monitor's hypercall checks
 * (engines/unikernel/hcall.c), the one door from an untrusted guest into
 * the host.
 *
 * A real (never started) unikernel VM is made once: 8 MiB of guest RAM, a
 * 1 MiB disk (a memfd), console and control channels and a TAP stand-in
 * (socketpairs).  Each input is a run of 88-byte records, each one `out`
 * the guest could make:
 *   [0]      call: UK_HC_PORT(b % 13), or the monitor's trap port, or a
 *            port nobody owns
 *   [1]      flags: bit 0 raw address (else the argument sits at ARG),
 *            bit 1 control input waiting, bit 2 a frame waiting on the
 *            TAP, bits 6-7 set: a 1- or 2-byte `out`
 *   [2..5]   the `out` value (the argument's guest-physical address)
 *   [8..71]  the argument struct, written at that address (when in RAM)
 *   [72..87] 16 bytes written at BUF (the start of a frame, a buffer)
 * Waits are kept short (a poll timeout is cut to 1 µs; a full control
 * channel fails at once) so that each input runs in microseconds.
 * Properties: a refused call says why; a call returns 0, 1 (exit) or -1;
 * the disk never grows past its capacity; nothing outside guest RAM is
 * touched (ASan watches every host byte). */
#include "tests/fuzz/fuzz.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/unikernel/monitor.h"

#define MEM (8ull << 20)
#define DISK (1ull << 20)
#define ARG 0x200000ull
#define BUF 0x201000ull
#define REC 88
#define MAX_RECS 32

static struct uk_monitor *mon;
static int con[2], ctl[2], tap[2], disk;
static struct vlab_counters counters;
static uint8_t image[0x1000 + 16];

/* The smallest image: one page of code at 0x100000 (ud2). */
static void make_image(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *ph = (Elf64_Phdr *)(image + sizeof(*eh));
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
	*ph = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000,
			   .p_vaddr = 0x100000, .p_filesz = 16, .p_memsz = 16};
	image[0x1000] = 0x0f;
	image[0x1001] = 0x0b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		FUZZ_SKIP("/dev/kvm cannot be opened here: the hypercall target needs a VM");
	close(fd);
	make_image();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, tap) < 0)
		FUZZ_CHECK(0, "socketpair");
	disk = memfd_create("fuzz-uk-disk", MFD_CLOEXEC);
	FUZZ_CHECK(disk >= 0 && ftruncate(disk, DISK) == 0, "disk");
	vlab_counters_init(&counters);
	struct uk_config cfg = {
	    .image = image,
	    .image_len = sizeof(image),
	    .image_name = "fuzz",
	    .mem_bytes = MEM,
	    .cmdline = "fuzz",
	    .console_fd = con[1],
	    .control_fd = ctl[1],
	    .disk_fd = disk,
	    .disk_bytes = DISK,
	    .tap_fd = tap[1],
	    .mac = {2, 0x76, 0x6c, 0, 0, 9},
	    .mtu = 1500,
	    .ip = 0x09004d0a,
	    .netmask = 0x00ffffff,
	    .gateway = 0x01004d0a,
	    .counters = &counters,
	};
	struct vlab_err err = {0};
	if (uk_monitor_new(&cfg, &mon, &err) < 0)
		FUZZ_SKIP("cannot make the unikernel VM: %s", err.msg);
	/* A full control channel fails at once instead of waiting 30 s for
	 * a reader: this harness reads only between calls. */
	mon->stop_now = 1;
	return 0;
}

static void drain(int fd)
{
	static char sink[1 << 16];
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void one_call(const uint8_t *r)
{
	unsigned sel = r[0] % (UK_HC_COUNT + 2), flags = r[1];
	unsigned port = sel < UK_HC_COUNT ? UK_HC_PORT(sel)
			: sel == UK_HC_COUNT ? UK_TRAP_PORT
					     : UK_HC_PORT(UK_HC_COUNT) + r[6];
	unsigned size = (flags & 0xc0) == 0xc0 ? 1u + (r[7] & 1) : 4;
	uint32_t value = (uint32_t)ARG;
	if (flags & 1)
		memcpy(&value, r + 2, 4);
	uint64_t at = (uint64_t)value + 64 <= MEM ? value : ARG;
	memcpy(mon->ram + at, r + 8, 64);
	memcpy(mon->ram + BUF, r + 72, 16);
	if (sel == UK_HC_POLL) {
		/* keep waits short; refusals of too-long timeouts stay reachable */
		uint64_t t = rd64(mon->ram + at);
		if (t <= UK_POLL_MAX_NS)
			t %= 1000;
		memcpy(mon->ram + at, &t, 8);
	}
	if (flags & 2)
		(void)!send(ctl[0], r + 72, 16, MSG_DONTWAIT);
	if (flags & 4)
		(void)!send(tap[0], r + 8, 64, MSG_DONTWAIT);

	struct vlab_err err = {0};
	int rc = uk_hcall(mon, port, size, value, &err);
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1, "uk_hcall returned %d", rc);
	if (rc < 0)
		FUZZ_CHECK(err.msg[0], "call on port %#x refused without a reason", port);
	if (rc == 1)
		FUZZ_CHECK(sel == UK_HC_EXIT && mon->exited, "exit from a call that is not exit");
	mon->exited = 0;
	struct stat st;
	FUZZ_CHECK(fstat(disk, &st) == 0 && (uint64_t)st.st_size == DISK,
		   "the disk file is %lld bytes, not %llu", (long long)st.st_size,
		   (unsigned long long)DISK);
	drain(con[0]);
	drain(ctl[0]);
	drain(ctl[1]);
	drain(tap[0]);
	drain(tap[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + REC <= size && i / REC < MAX_RECS; i += REC)
		one_call(data + i);
	return 0;
}
