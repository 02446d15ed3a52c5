/* tests/security/guest/sec-probe.c: a static program the escape tests
 * (tests/security/test_escapes.c) run inside containers.  Each verb tries
 * one way out and prints what happened, one "key value" per line.
 *
 *   matrix i386|x32 NR...   each system call number through that ABI's entry
 *                           (int 0x80, or the x32 bit), all arguments zero:
 *                           prints "call NR ERRNO" (0: it ran)
 *   whoami                  uid, euid, and the capability sets
 *   drop-exec PATH          become uid/gid 65534, then exec PATH whoami
 *   tcp ADDR PORT           connect; prints errno (0: connected)
 *   abstract NAME           connect to the abstract unix socket NAME
 *   exe-attack SECONDS      for SECONDS, try every /proc/PID/exe: open for
 *                           writing, and open at all (O_PATH, the CVE-2019-5736
 *                           primitive) when it is not a program of the
 *                           container's own root; prints the counts */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long i386_call(long nr)
{
	long r = nr;
	__asm__ volatile("xor %%ebx, %%ebx\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%esi, %%esi\n\txor %%edi, %%edi\n\tint $0x80"
			 : "+a"(r)
			 :
			 : "rbx", "rcx", "rdx", "rsi", "rdi", "memory");
	return r;
}

static long x32_call(long nr)
{
	return syscall(nr | 0x40000000L, 0, 0, 0, 0, 0, 0) < 0 ? -errno : 0;
}

static void whoami(void)
{
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	printf("uid %d\neuid %d\nsuid %d\n", (int)r, (int)e, (int)s);
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char key[32];
		if (sscanf(line, "%31[^:]:\t%llx", key, &v) == 2 && !strncmp(key, "Cap", 3))
			printf("%s %llu\n", key, v);
		if (!strncmp(line, "NoNewPrivs:", 11))
			printf("nnp %d\n", atoi(line + 11));
	}
	if (f)
		fclose(f);
}

static int connect_to(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int r = connect(fd, sa, len) < 0 ? errno : 0;
	close(fd);
	return r;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A target outside the container's own programs (its root holds /bin
 * only): the host's vlab, reached through a process that joined us. */
static int foreign(const char *target)
{
	return strncmp(target, "/bin/", 5) != 0;
}

static void exe_attack(double secs)
{
	long tries = 0, write_opens = 0, path_opens = 0, denied = 0, seen = 0;
	char seen_target[256] = "";
	double end = now() + secs;
	while (now() < end) {
		DIR *d = opendir("/proc");
		if (!d)
			break;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			char p[300], target[256];
			snprintf(p, sizeof(p), "/proc/%s/exe", e->d_name);
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			tries++;
			if (n < 0) {
				denied += errno == EACCES || errno == EPERM;
				continue;
			}
			target[n] = '\0';
			if (!foreign(target))
				continue;
			seen++;
			snprintf(seen_target, sizeof(seen_target), "%s", target);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				write_opens++;
				close(fd);
			}
			fd = open(p, O_PATH | O_CLOEXEC);
			if (fd >= 0) {
				path_opens++;
				char self[64];
				snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
				int w = open(self, O_WRONLY | O_CLOEXEC);
				if (w >= 0) {
					write_opens++;
					close(w);
				}
				close(fd);
			}
		}
		closedir(d);
	}
	printf("tries %ld\ndenied %ld\nforeign %ld\nwrite_opens %ld\npath_opens %ld\n", tries,
	       denied, seen, write_opens, path_opens);
	if (seen)
		printf("foreign_target %s\n", seen_target);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *v = argc > 1 ? argv[1] : "";
	if (!strcmp(v, "matrix") && argc > 2) {
		int x32 = !strcmp(argv[2], "x32");
		for (int i = 3; i < argc; i++) {
			long nr = strtol(argv[i], NULL, 10);
			long r = x32 ? x32_call(nr) : i386_call(nr);
			printf("call %ld %ld\n", nr, r < 0 ? -r : 0);
		}
	} else if (!strcmp(v, "whoami")) {
		whoami();
	} else if (!strcmp(v, "drop-exec") && argc > 2) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
			printf("drop %d\n", errno);
			return 1;
		}
		execl(argv[2], argv[2], "whoami", (char *)NULL);
		printf("exec %d\n", errno);
		return 1;
	} else if (!strcmp(v, "tcp") && argc > 3) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
		inet_pton(AF_INET, argv[2], &sa.sin_addr);
		printf("connect %d\n", connect_to(AF_INET, (struct sockaddr *)&sa, sizeof(sa)));
	} else if (!strcmp(v, "abstract") && argc > 2) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		size_t n = strlen(argv[2]);
		if (n > sizeof(sa.sun_path) - 1)
			n = sizeof(sa.sun_path) - 1;
		memcpy(sa.sun_path + 1, argv[2], n);
		printf("connect %d\n",
		       connect_to(AF_UNIX, (struct sockaddr *)&sa,
				  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
	} else if (!strcmp(v, "exe-attack") && argc > 2) {
		exe_attack(atof(argv[2]));
	} else {
		fprintf(stderr, "sec-probe: unknown verb '%s'\n", v);
		return 2;
	}
	return 0;
}
