/* engines/unikernel/guest/net/udp.c: UDP sockets (RFC 768): a port each,
 * and a queue of received datagrams bounded in bytes, like a socket's
 * receive buffer: when it is full, new datagrams are dropped. */
#include "net.h"

#define SOCKETS 8
#define QUEUE_BYTES (512u << 10)
#define EPHEMERAL 49152

struct dgram {
	struct dgram *next;
	uint32_t ip;
	uint16_t port;
	size_t len;
	uint8_t data[];
};

static struct {
	int used;
	uint16_t port;
	struct dgram *head, *tail;
	size_t queued;
	int count;
} socks[SOCKETS];

static int find(uint16_t port)
{
	for (int i = 0; i < SOCKETS; i++)
		if (socks[i].used && socks[i].port == port)
			return i;
	return -1;
}

int uk_udp_open(uint16_t port, uint16_t *bound)
{
	if (!uk_netif.up)
		return -1;
	if (port == 0) {
		for (uint32_t p = EPHEMERAL; p <= 65535 && !port; p++)
			if (find((uint16_t)p) < 0)
				port = (uint16_t)p;
	}
	if (port == 0 || find(port) >= 0)
		return -1;
	for (int i = 0; i < SOCKETS; i++)
		if (!socks[i].used) {
			socks[i].used = 1;
			socks[i].port = port;
			socks[i].head = socks[i].tail = 0;
			socks[i].queued = 0;
			socks[i].count = 0;
			if (bound)
				*bound = port;
			return i;
		}
	return -1;
}

static int valid(int s)
{
	return s >= 0 && s < SOCKETS && socks[s].used;
}

void uk_udp_close(int s)
{
	if (!valid(s))
		return;
	while (socks[s].head) {
		struct dgram *d = socks[s].head;
		socks[s].head = d->next;
		free(d);
	}
	socks[s].used = 0;
}

int uk_udp_pending(int s)
{
	return valid(s) ? socks[s].count : 0;
}

static uint32_t pseudo(uint32_t src, uint32_t dst, size_t len)
{
	uint8_t ph[12];
	net_put_ip(ph, src);
	net_put_ip(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IP_P_UDP;
	net_put16(ph + 10, (uint16_t)len);
	return net_csum_add(ph, sizeof(ph), 0);
}

int udp_input(uint32_t src, uint32_t dst, const uint8_t *pkt, size_t len)
{
	if (len < UDP_HDR)
		return 0;
	size_t ulen = net_get16(pkt + 4);
	if (ulen < UDP_HDR || ulen > len)
		return 0;
	if (net_get16(pkt + 6) && net_csum(pkt, ulen, pseudo(src, dst, ulen)) != 0)
		return 0;
	int s = find(net_get16(pkt + 2));
	if (s < 0)
		return -1;
	size_t n = ulen - UDP_HDR;
	if (socks[s].queued + n > QUEUE_BYTES)
		return 0; /* receive queue full: dropped */
	struct dgram *d = malloc(sizeof(*d) + n);
	if (!d)
		return 0;
	d->next = 0;
	d->ip = src;
	d->port = net_get16(pkt);
	d->len = n;
	memcpy(d->data, pkt + UDP_HDR, n);
	if (socks[s].tail)
		socks[s].tail->next = d;
	else
		socks[s].head = d;
	socks[s].tail = d;
	socks[s].queued += n;
	socks[s].count++;
	return 0;
}

long uk_udp_recv(int s, void *buf, size_t len, uint32_t *ip, uint16_t *port)
{
	if (!valid(s) || !socks[s].head)
		return 0;
	struct dgram *d = socks[s].head;
	socks[s].head = d->next;
	if (!socks[s].head)
		socks[s].tail = 0;
	socks[s].queued -= d->len;
	socks[s].count--;
	size_t n = d->len < len ? d->len : len;
	memcpy(buf, d->data, n);
	if (ip)
		*ip = d->ip;
	if (port)
		*port = d->port;
	free(d);
	return (long)n;
}

int uk_udp_send(int s, const void *buf, size_t len, uint32_t ip, uint16_t port)
{
	uint8_t mac[6], h[UDP_HDR];
	if (!valid(s) || len > IP_MAX - IP_HDR - UDP_HDR)
		return -1;
	if (arp_resolve(ip, mac) < 0)
		return -1;
	net_put16(h, socks[s].port);
	net_put16(h + 2, port);
	net_put16(h + 4, (uint16_t)(UDP_HDR + len));
	net_put16(h + 6, 0);
	uint32_t sum = net_csum_add(
	    buf, len, net_csum_add(h, UDP_HDR, pseudo(uk_netif.ip, ip, UDP_HDR + len)));
	uint16_t c = net_csum_fold(sum);
	net_put16(h + 6, c ? c : 0xffff);
	return ip_send_mac(ip, mac, IP_P_UDP, h, UDP_HDR, buf, len);
}
