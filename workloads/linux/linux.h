/* workloads/linux/linux.h: configuring the Linux implementation of the
 * agent's platform shim (workloads/platform.h). */
#ifndef VLAB_WORKLOADS_LINUX_LINUX_H
#define VLAB_WORKLOADS_LINUX_LINUX_H

struct plat_linux_config {
	int ctl_in, ctl_out;	 /* the control channel (may be the same fd) */
	const char *disk;	 /* the disk workload's target; NULL: a scratch file */
	const char *scratch_dir; /* where scratch files go; NULL: $TMPDIR, /var/tmp, /tmp */
	int reap_orphans;	 /* PID 1 duty: reap every child, not only our own */
};

/* Sets the shim up: SIGTERM/SIGINT become a stop request seen by
 * plat_wait() (they are blocked in between, so a workload is never cut in
 * half), SIGPIPE is ignored.  Strings in cfg must outlive the agent.
 * Returns 0, or -1 with plat_error_text() set. */
int plat_linux_init(const struct plat_linux_config *cfg);

/* Puts a serial port (or any terminal) in raw mode: no echo, no line
 * editing, no CR/LF translation, 115200 8N1, reads return what arrived.
 * Returns 0, or -1 with plat_error_text() set. */
int plat_linux_raw_tty(int fd);

#endif
