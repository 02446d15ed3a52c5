/* workloads/linux/main.c: `vlab-agent`, the probe agent as a Linux
 * program: picks the control channel (stdin/stdout, a serial port, an
 * inherited descriptor), sets up the platform shim and serves.
 *
 * The same static binary is the host baseline (engines/host), runs on the
 * VM's ttyS1 (started by the initramfs /init) and is the container's
 * PID 1 (it then reaps orphans and stops cleanly on SIGTERM). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads/agent.h"
#include "workloads/linux/linux.h"
#include "workloads/platform.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: vlab-agent [OPTIONS]\n"
	    "\n"
	    "The vlab probe agent: answers the line protocol of docs/agent-protocol.md\n"
	    "(" VLAB_PROTO_VERSION ") with workload results.  Prints READY, then one answer per\n"
	    "request line.  Try: echo '1 help' | vlab-agent\n"
	    "\n"
	    "Options:\n"
	    "  --serial DEV    talk on a serial port (raw mode, no echo), e.g. /dev/ttyS1\n"
	    "  --fd N          talk on inherited descriptor N (a socket) instead of stdin/stdout\n"
	    "  --disk PATH     the disk workload's target: a block device or a file, which it\n"
	    "                  OVERWRITES (default: a scratch file in --scratch, removed after)\n"
	    "  --scratch DIR   folder for scratch files (default: $TMPDIR, /var/tmp, /tmp)\n"
	    "  --reap          reap every child (automatic when running as PID 1)\n"
	    "  -V, --version   print the protocol version\n"
	    "  -h, --help      this help\n"
	    "\n"
	    "Exit status: 0 after `shutdown`, SIGTERM or the end of the control channel;\n"
	    "1 when the control channel fails; 2 on a wrong option.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"serial", required_argument, NULL, 's'}, {"fd", required_argument, NULL, 'f'},
	    {"disk", required_argument, NULL, 'd'},   {"scratch", required_argument, NULL, 't'},
	    {"reap", no_argument, NULL, 'r'},	      {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct plat_linux_config cfg = {.ctl_in = 0, .ctl_out = 1, .reap_orphans = getpid() == 1};
	const char *serial = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			serial = optarg;
			break;
		case 'f': {
			char *end;
			long fd = strtol(optarg, &end, 10);
			if (*end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
				fprintf(stderr, "vlab-agent: --fd %s is not an open descriptor\n",
					optarg);
				return 2;
			}
			cfg.ctl_in = cfg.ctl_out = (int)fd;
			break;
		}
		case 'd':
			cfg.disk = optarg;
			break;
		case 't':
			cfg.scratch_dir = optarg;
			break;
		case 'r':
			cfg.reap_orphans = 1;
			break;
		case 'V':
			printf("%s\n", VLAB_PROTO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vlab-agent: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (serial) {
		int fd = open(serial, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "vlab-agent: open %s: %s\n", serial, strerror(errno));
			return 1;
		}
		if (plat_linux_raw_tty(fd) < 0) {
			fprintf(stderr, "vlab-agent: %s: %s\n", serial, plat_error_text());
			return 1;
		}
		cfg.ctl_in = cfg.ctl_out = fd;
	}
	if (!getenv("PATH"))
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (plat_linux_init(&cfg) < 0) {
		fprintf(stderr, "vlab-agent: %s\n", plat_error_text());
		return 1;
	}
	return wl_agent_serve();
}
