/* workloads/echo.c: the net-echo workload's guest side: a UDP echo server
 * that sends every datagram back to its sender unchanged.  It runs inside
 * the agent's loop (no threads): started by `net-echo op=start`, serviced
 * whenever its socket is readable and no request is being answered,
 * stopped by `net-echo op=stop` or when the agent ends.  The measuring
 * client is on the host (workloads/echo_client.h). */
#include "workloads/workloads.h"

#define ECHO_BATCH 64 /* datagrams per service call, so requests are not starved */

static struct {
	int sock; /* valid while st.running */
	struct wl_echo_stats st;
	uint8_t buf[65536];
} echo;

int wl_echo_sock(void)
{
	return echo.st.running ? echo.sock : -1;
}

int wl_echo_start(uint16_t port, uint32_t max_bytes)
{
	if (echo.st.running)
		return -PLAT_EBUSY;
	uint16_t bound = 0;
	int s = plat_udp_open(port, &bound);
	if (s < 0)
		return s;
	memset(&echo.st, 0, sizeof(echo.st));
	echo.sock = s;
	echo.st.running = 1;
	echo.st.port = bound;
	echo.st.max_bytes = max_bytes;
	return 0;
}

void wl_echo_stats(struct wl_echo_stats *st)
{
	*st = echo.st;
}

void wl_echo_stop(struct wl_echo_stats *st)
{
	if (echo.st.running) {
		wl_echo_service(); /* answer what already arrived */
		plat_udp_close(echo.sock);
		echo.st.running = 0;
	}
	if (st)
		*st = echo.st;
}

void wl_echo_service(void)
{
	for (int i = 0; i < ECHO_BATCH && echo.st.running; i++) {
		struct plat_addr from;
		long n = plat_udp_recv(echo.sock, echo.buf, echo.st.max_bytes, &from);
		if (n <= 0)
			return;
		echo.st.rx_count++;
		echo.st.rx_bytes += (uint64_t)n;
		if (plat_udp_send(echo.sock, echo.buf, (size_t)n, &from) == 0)
			echo.st.tx_count++;
	}
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void put_stats(struct vlab_proto_out *o, const struct wl_echo_stats *st)
{
	vlab_proto_put_bool(o, "running", st->running);
	vlab_proto_put_u64(o, "port", st->port);
	vlab_proto_put_u64(o, "size_bytes", st->max_bytes);
	vlab_proto_put_u64(o, "rx_count", st->rx_count);
	vlab_proto_put_u64(o, "tx_count", st->tx_count);
	vlab_proto_put_u64(o, "rx_bytes", st->rx_bytes);
}

int wl_verb_echo(struct wl_req *r)
{
	const char *op = vlab_proto_str(r->msg, "op", "status");
	struct wl_echo_stats st;
	if (streq(op, "start")) {
		uint64_t port, size;
		if (wl_arg_u64(r, "port", 7777, 0, 65535, &port) < 0 ||
		    wl_arg_size(r, "size", 2048, 1, 65507, &size) < 0)
			return -1;
		int rc = wl_echo_start((uint16_t)port, (uint32_t)size);
		if (rc == -PLAT_EBUSY && echo.st.running)
			return wl_fail_num(r, WL_BUSY, "net-echo: already running on port",
					   echo.st.port, "(op=stop first)");
		if (rc < 0)
			return wl_fail_plat(r, rc, "net-echo: open the UDP port");
		wl_echo_stats(&st);
	} else if (streq(op, "stop")) {
		wl_echo_stop(&st);
	} else if (streq(op, "status")) {
		wl_echo_stats(&st);
	} else {
		return wl_fail(r, WL_BADREQ, "net-echo: op must be start, stop or status");
	}
	put_stats(r->out, &st);
	return 0;
}
