/* udp_client: the network stack as a client: sends "hello from the
 * unikernel" to the lab network's host side (the gateway: resolved with
 * ARP, nobody has spoken to the guest yet) on the port named by the
 * command line, waits for the answer and exits 0 when it is "hello guest",
 * 1 otherwise. */
#include "uk.h"

int main(int argc, char **argv)
{
	if (argc < 2 || !uk_netif.up)
		return 2;
	uint16_t port = (uint16_t)strtoull(argv[1], 0, 10), mine;
	int s = uk_udp_open(0, &mine);
	if (s < 0)
		return 3;
	static const char hello[] = "hello from the unikernel";
	if (uk_udp_send(s, hello, sizeof(hello) - 1, uk_netif.gateway, port) < 0) {
		printf("udp_client: send failed (no ARP answer from the gateway?)\n");
		return 4;
	}
	uint64_t deadline = uk_now_ns() + 5000000000ull;
	while (uk_now_ns() < deadline) {
		uk_poll(0, 100000000);
		char buf[64];
		uint32_t ip;
		uint16_t from;
		long n = uk_udp_recv(s, buf, sizeof(buf) - 1, &ip, &from);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		printf("udp_client: port %u got \"%s\" from port %u\n", mine, buf, from);
		return strcmp(buf, "hello guest") || ip != uk_netif.gateway || from != port;
	}
	return 5;
}
