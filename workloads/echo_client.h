/* workloads/echo_client.h: the host side of the net-echo workload: a UDP
 * request/response client that measures round-trip times against the
 * agent's echo server (`net-echo op=start`).
 *
 * It uses whatever network namespace the calling thread is in: to measure
 * a guest on the lab network, call it from a thread that has entered the
 * lab's namespace (engines/labnet).  One datagram is in flight at a time
 * (request/response), so transactions per second = 1 / mean RTT. */
#ifndef VLAB_WORKLOADS_ECHO_CLIENT_H
#define VLAB_WORKLOADS_ECHO_CLIENT_H

#include <stdint.h>

#include "core/err.h"

struct vlab_echo_opts {
	const char *host;	/* the server's IPv4 address, "10.77.0.5" */
	uint16_t port;		/* its UDP port */
	uint32_t count;		/* measured round trips (0: 1000; at most 10^6) */
	uint32_t warmup;	/* unmeasured round trips first (ARP, caches) */
	uint32_t payload_bytes; /* datagram size, 16..65507 (0: 64) */
	uint32_t timeout_ms;	/* wait per round trip before it counts as lost (0: 1000) */
};

struct vlab_echo_result {
	uint32_t sent, received, lost;
	uint64_t rtt_min_ns, rtt_median_ns, rtt_p99_ns, rtt_max_ns, rtt_mean_ns;
	double tps;	     /* completed round trips per second */
	uint64_t elapsed_ns; /* the measured part */
};

/* Runs the measurement.  Fails when nothing answers at all (a port with
 * no server, a wrong address), naming host:port; lost datagrams after the
 * first answer are counted, not fatal. */
int vlab_echo_run(const struct vlab_echo_opts *opts, struct vlab_echo_result *res,
		  struct vlab_err *err);

#endif
