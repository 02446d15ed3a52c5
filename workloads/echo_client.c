/* workloads/echo_client.c: UDP round trips against the agent's echo
 * server, with RTT order statistics (nearest-rank median and p99). */
#include "workloads/echo_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"

#define MAGIC 0x6f686365626c6176ull /* "vlabecho" */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One round trip: 1 answered (*rtt set), 0 lost, -1 error. */
static int round_trip(int s, uint8_t *out, uint8_t *in, size_t len, uint64_t seq, int timeout_ms,
		      uint64_t *rtt, struct vlab_err *err)
{
	uint64_t magic = MAGIC;
	memcpy(out, &magic, 8);
	memcpy(out + 8, &seq, 8);
	uint64_t t0 = vlab_now_ns(), deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
	if (send(s, out, len, 0) < 0)
		return vlab_err_set(err, errno, "send");
	for (;;) {
		uint64_t now = vlab_now_ns();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = s, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline - now + 999999) / 1000000));
		if (r < 0 && errno != EINTR)
			return vlab_err_set(err, errno, "poll");
		if (r <= 0)
			continue;
		ssize_t n = recv(s, in, len, MSG_DONTWAIT);
		uint64_t t1 = vlab_now_ns();
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return vlab_err_set(err, errno, "recv");
		}
		/* A late answer to an earlier, lost datagram: skip it. */
		if ((size_t)n != len || memcmp(in, out, 16) != 0)
			continue;
		if (memcmp(in, out, len) != 0)
			return vlab_err_set(err, EBADMSG, "echo of datagram %llu came back altered",
					    (unsigned long long)seq);
		*rtt = t1 - t0;
		return 1;
	}
}

int vlab_echo_run(const struct vlab_echo_opts *opts, struct vlab_echo_result *res,
		  struct vlab_err *err)
{
	uint32_t count = opts->count ? opts->count : 1000;
	uint32_t len = opts->payload_bytes ? opts->payload_bytes : 64;
	int timeout_ms = opts->timeout_ms ? (int)opts->timeout_ms : 1000;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(opts->port)};
	memset(res, 0, sizeof(*res));
	if (count > 1000000)
		return vlab_err_set(err, EINVAL, "echo: count %u is over 1000000", count);
	if (len < 16 || len > 65507)
		return vlab_err_set(err, EINVAL, "echo: payload of %u bytes is outside 16..65507",
				    len);
	if (!opts->host || inet_pton(AF_INET, opts->host, &a.sin_addr) != 1)
		return vlab_err_set(err, EINVAL, "echo: '%s' is not an IPv4 address",
				    opts->host ? opts->host : "");
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return vlab_err_set(err, errno, "echo: socket");
	uint8_t *out = malloc(len), *in = malloc(len);
	uint64_t *rtts = malloc(sizeof(uint64_t) * count);
	int rc = -1;
	if (!out || !in || !rtts) {
		vlab_err_set(err, ENOMEM, "echo: buffers");
		goto out;
	}
	for (uint32_t i = 16; i < len; i++)
		out[i] = (uint8_t)(i * 31 + 7);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		vlab_err_set(err, errno, "echo: connect to %s:%u", opts->host, opts->port);
		goto out;
	}
	uint64_t seq = 1, rtt;
	for (uint32_t i = 0; i < opts->warmup; i++) {
		int r = round_trip(s, out, in, len, seq++, timeout_ms, &rtt, err);
		if (r < 0)
			goto refused;
	}
	uint64_t t0 = vlab_now_ns();
	for (uint32_t i = 0; i < count; i++) {
		int r = round_trip(s, out, in, len, seq++, timeout_ms, &rtt, err);
		if (r < 0)
			goto refused;
		res->sent++;
		if (r == 1)
			rtts[res->received++] = rtt;
		else
			res->lost++;
		/* Nothing came back in the first few tries: there is no server. */
		if (res->received == 0 && res->lost >= 3) {
			vlab_err_set(err, ETIMEDOUT,
				     "echo: no answer from %s:%u (is net-echo started?)",
				     opts->host, opts->port);
			goto out;
		}
	}
	res->elapsed_ns = vlab_now_ns() - t0;
	if (res->received == 0) {
		vlab_err_set(err, ETIMEDOUT, "echo: no answer from %s:%u", opts->host, opts->port);
		goto out;
	}
	qsort(rtts, res->received, sizeof(uint64_t), cmp_u64);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < res->received; i++)
		sum += rtts[i];
	uint32_t n = res->received;
	res->rtt_min_ns = rtts[0];
	res->rtt_max_ns = rtts[n - 1];
	res->rtt_mean_ns = sum / n;
	res->rtt_median_ns = rtts[(n + 1) / 2 - 1];
	res->rtt_p99_ns = rtts[(n * 99 + 99) / 100 - 1];
	res->tps = (double)n * 1e9 / (double)(res->elapsed_ns ? res->elapsed_ns : 1);
	rc = 0;
	goto out;
refused:
	if (err && err->code == ECONNREFUSED)
		vlab_err_set(err, ECONNREFUSED,
			     "echo: nothing listens on %s:%u (start net-echo first)", opts->host,
			     opts->port);
out:
	free(out);
	free(in);
	free(rtts);
	close(s);
	return rc;
}
