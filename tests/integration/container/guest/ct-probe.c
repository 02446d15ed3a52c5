/* tests/integration/container/guest/ct-probe.c: a static test program run
 * inside containers by the integration and security tests.  Each verb
 * tries one thing and prints what happened, one "key value" per line, so
 * the host-side test can assert exact errno values.
 *
 *   sys               the syscalls the default seccomp profile denies
 *   call NAME         one named syscall from that list
 *   compat            mount and unshare through the i386 and x32 entry points
 *   forkbomb          fork until refused; prints the count and errno
 *   hog MIB           allocate and touch MIB mebibytes
 *   spin SECONDS N    N threads burn CPU; prints CPU and wall time (ns)
 *   write PATH TEXT   write TEXT into PATH; prints errno
 *   read PATH         read PATH; prints bytes and errno
 *   escape MARKER     the chroot escape; prints whether MARKER is visible
 *   mknod             make /dev/sda-like nodes and try to open them
 *   stat PATH         prints errno of stat */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long try_call(const char *name)
{
	errno = 0;
	long r = -1;
	if (!strcmp(name, "mount"))
		r = mount("none", "/tmp", "tmpfs", 0, NULL);
	else if (!strcmp(name, "umount2"))
		r = umount2("/proc", MNT_DETACH);
	else if (!strcmp(name, "unshare"))
		r = unshare(CLONE_NEWUSER);
	else if (!strcmp(name, "setns"))
		r = setns(-1, 0);
	else if (!strcmp(name, "keyctl"))
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	else if (!strcmp(name, "bpf"))
		r = syscall(SYS_bpf, BPF_MAP_CREATE, NULL, 0);
	else if (!strcmp(name, "kexec_load"))
		r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
	else if (!strcmp(name, "finit_module"))
		r = syscall(SYS_finit_module, -1, "", 0);
	else if (!strcmp(name, "open_by_handle_at"))
		r = syscall(SYS_open_by_handle_at, -1, NULL, 0);
	else if (!strcmp(name, "io_uring_setup"))
		r = syscall(SYS_io_uring_setup, 1, NULL);
	else if (!strcmp(name, "ptrace"))
		r = syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0);
	else if (!strcmp(name, "perf_event_open"))
		r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	else if (!strcmp(name, "userfaultfd"))
		r = syscall(SYS_userfaultfd, 0);
	else if (!strcmp(name, "fsopen"))
		r = syscall(SYS_fsopen, "tmpfs", 0);
	else if (!strcmp(name, "open_tree"))
		r = syscall(SYS_open_tree, -1, "/", 0);
	else if (!strcmp(name, "pivot_root"))
		r = syscall(SYS_pivot_root, "/tmp", "/tmp");
	else if (!strcmp(name, "add_key"))
		r = syscall(SYS_add_key, "user", "vlab", "x", 1, KEY_SPEC_PROCESS_KEYRING);
	else if (!strcmp(name, "clone_newuser"))
		r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	else if (!strcmp(name, "clone3"))
		r = syscall(SYS_clone3, NULL, 0);
	else if (!strcmp(name, "uname")) {
		struct utsname_dummy {
			char b[6 * 65];
		} u;
		r = syscall(SYS_uname, &u);
	} else if (!strcmp(name, "getpid"))
		r = syscall(SYS_getpid);
	else {
		fprintf(stderr, "unknown call %s\n", name);
		exit(2);
	}
	if (r == 0 && !strcmp(name, "clone_newuser"))
		_exit(0); /* allowed: the child leaves at once */
	return r < 0 ? errno : 0;
}

static const char *const denied[] = {
	"mount",	"umount2",	    "unshare",	   "setns",	  "keyctl",
	"bpf",		"kexec_load",	    "finit_module", "open_by_handle_at", "io_uring_setup",
	"ptrace",	"perf_event_open", "userfaultfd",  "fsopen",	  "open_tree",
	"pivot_root", "add_key",	    "clone_newuser", NULL,
};

static long int80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static long x32(long nr, long a, long b, long c)
{
	long r;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr | 0x40000000L), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static void *spin(void *arg)
{
	volatile uint64_t *stop = arg, n = 0;
	while (!*stop)
		n++;
	return NULL;
}

static uint64_t ns_now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: ct-probe VERB ...\n");
		return 2;
	}
	const char *v = argv[1];
	if (!strcmp(v, "sys")) {
		for (int i = 0; denied[i]; i++)
			printf("%s %ld\n", denied[i], try_call(denied[i]));
		printf("clone3 %ld\n", try_call("clone3"));
	} else if (!strcmp(v, "call") && argc == 3) {
		printf("%s %ld\n", argv[2], try_call(argv[2]));
	} else if (!strcmp(v, "compat")) {
		/* i386: mount is 21, unshare 310; x32: mount 165, unshare 272 */
		static char none[] = "none", tmp[] = "/tmp", fs[] = "tmpfs";
		long r = int80(21, (long)(uintptr_t)none, (long)(uintptr_t)tmp, (long)(uintptr_t)fs);
		printf("i386_mount %ld\n", r < 0 ? -r : 0);
		r = int80(310, CLONE_NEWUSER, 0, 0);
		printf("i386_unshare %ld\n", r < 0 ? -r : 0);
		r = x32(165, (long)none, (long)tmp, (long)fs);
		printf("x32_mount %ld\n", r < 0 ? -r : 0);
		r = x32(272, CLONE_NEWUSER, 0, 0);
		printf("x32_unshare %ld\n", r < 0 ? -r : 0);
	} else if (!strcmp(v, "forkbomb")) {
		pid_t kids[100000];
		int n = 0, e = 0;
		for (; n < 100000; n++) {
			pid_t p = fork();
			if (p < 0) {
				e = errno;
				break;
			}
			if (p == 0) {
				pause();
				_exit(0);
			}
			kids[n] = p;
		}
		printf("forked %d\nerrno %d\n", n, e);
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		for (int i = 0; i < n; i++)
			waitpid(kids[i], NULL, 0);
	} else if (!strcmp(v, "hog") && argc == 3) {
		long mib = atol(argv[2]);
		for (long i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);
			if (!p) {
				printf("malloc failed at %ld\n", i);
				return 1;
			}
			memset(p, 0x5a, 1 << 20);
			if (i % 16 == 0)
				printf("touched %ld\n", i);
		}
		printf("survived %ld\n", mib);
	} else if (!strcmp(v, "spin") && argc == 4) {
		double secs = atof(argv[2]);
		int n = atoi(argv[3]);
		volatile uint64_t stop = 0;
		pthread_t t[64];
		uint64_t w0 = ns_now(CLOCK_MONOTONIC), c0 = ns_now(CLOCK_PROCESS_CPUTIME_ID);
		for (int i = 0; i < n && i < 64; i++)
			pthread_create(&t[i], NULL, spin, (void *)&stop);
		struct timespec ts = {.tv_sec = (time_t)secs,
				      .tv_nsec = (long)((secs - (time_t)secs) * 1e9)};
		nanosleep(&ts, NULL);
		stop = 1;
		for (int i = 0; i < n && i < 64; i++)
			pthread_join(t[i], NULL);
		printf("wall_ns %llu\ncpu_ns %llu\n",
		       (unsigned long long)(ns_now(CLOCK_MONOTONIC) - w0),
		       (unsigned long long)(ns_now(CLOCK_PROCESS_CPUTIME_ID) - c0));
	} else if (!strcmp(v, "write") && argc == 4) {
		int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
		int e = 0;
		if (fd < 0 || write(fd, argv[3], strlen(argv[3])) < 0)
			e = errno;
		printf("errno %d\n", e);
	} else if (!strcmp(v, "read") && argc == 3) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		char buf[4096];
		long total = 0, n;
		int e = 0;
		if (fd < 0)
			e = errno;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0 && total < (1 << 20))
			total += n;
		if (fd >= 0 && n < 0)
			e = errno;
		printf("bytes %ld\nerrno %d\n", total, e);
	} else if (!strcmp(v, "stat") && argc == 3) {
		struct stat st;
		printf("errno %d\n", stat(argv[2], &st) < 0 ? errno : 0);
	} else if (!strcmp(v, "escape") && argc == 3) {
		/* The classic: chroot into a subfolder while keeping a cwd
		 * outside it, then climb.  Stops at the container's root. */
		mkdir("/tmp/esc", 0700);
		int r = chroot("/tmp/esc");
		printf("chroot %d\n", r < 0 ? errno : 0);
		for (int i = 0; i < 64; i++)
			if (chdir("..") < 0)
				break;
		r = chroot(".");
		struct stat st;
		printf("marker %s\n", stat(argv[2], &st) == 0 ? "visible" : "absent");
	} else if (!strcmp(v, "mknod")) {
		/* /dev/vda (252:0), /dev/sda (8:0), /dev/mem (1:1) */
		static const struct {
			const char *path;
			int type, major, minor;
		} nodes[] = {{"/tmp/vda", S_IFBLK, 252, 0},
			     {"/dev/sda", S_IFBLK, 8, 0},
			     {"/tmp/mem", S_IFCHR, 1, 1}};
		for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
			int mk = mknod(nodes[i].path, (mode_t)nodes[i].type | 0600,
				       makedev(nodes[i].major, nodes[i].minor));
			int e = mk < 0 ? errno : 0, oe = 0;
			if (mk == 0) {
				int fd = open(nodes[i].path, O_RDONLY | O_CLOEXEC);
				oe = fd < 0 ? errno : 0;
				if (fd >= 0)
					close(fd);
			}
			printf("%s mknod %d open %d\n", nodes[i].path, e, oe);
		}
	} else {
		fprintf(stderr, "ct-probe: unknown verb %s\n", v);
		return 2;
	}
	return 0;
}
