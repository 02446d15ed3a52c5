/* engines/unikernel/guest/net/ip.c: IPv4 (RFC 791): checks on the way in,
 * fragmentation on the way out, reassembly of one datagram at a time on
 * the way in, and ICMP (RFC 792): echo replies and port unreachable. */
#include "net.h"

#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff
#define REASM_TIMEOUT_NS 2000000000ull
#define ICMP_ECHO_REPLY 0
#define ICMP_UNREACH 3
#define ICMP_ECHO 8

static uint16_t ip_id = 1;

/* One datagram being put back together. */
static struct {
	int active;
	uint32_t src;
	uint16_t id;
	uint8_t proto;
	uint32_t total; /* payload bytes, known once the last fragment came */
	uint64_t start_ns;
	uint8_t *buf;		       /* IP_MAX bytes, allocated on first use */
	uint8_t have[IP_MAX / 64 + 1]; /* one bit per 8-byte unit received */
} reasm;

uint32_t net_csum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t net_csum(const void *data, size_t len, uint32_t sum)
{
	return net_csum_fold(net_csum_add(data, len, sum));
}

/* Copies [off, off + n) of the concatenation hdr ++ data to dst. */
static void gather(uint8_t *dst, const uint8_t *hdr, size_t hlen, const uint8_t *data, size_t off,
		   size_t n)
{
	if (off < hlen) {
		size_t k = hlen - off < n ? hlen - off : n;
		memcpy(dst, hdr + off, k);
		dst += k;
		off += k;
		n -= k;
	}
	if (n)
		memcpy(dst, data + (off - hlen), n);
}

int ip_send_mac(uint32_t dst, const uint8_t *mac, uint8_t proto, const void *hdr, size_t hlen,
		const void *data, size_t dlen)
{
	size_t total = hlen + dlen;
	if (total > IP_MAX - IP_HDR)
		return -1;
	size_t room = (size_t)(uk_netif.mtu - IP_HDR) & ~(size_t)7; /* per fragment, 8-aligned */
	uint16_t id = ip_id++;
	size_t off = 0;
	do {
		size_t n = total - off <= (size_t)(uk_netif.mtu - IP_HDR) ? total - off : room;
		int more = off + n < total;
		uint8_t *ip = net_tx + ETH_HDR;
		ip[0] = 0x45;
		ip[1] = 0;
		net_put16(ip + 2, (uint16_t)(IP_HDR + n));
		net_put16(ip + 4, id);
		net_put16(ip + 6, (uint16_t)((more ? IP_MF : 0) | (off / 8)));
		ip[8] = 64;
		ip[9] = proto;
		net_put16(ip + 10, 0);
		net_put_ip(ip + 12, uk_netif.ip);
		net_put_ip(ip + 16, dst);
		net_put16(ip + 10, net_csum(ip, IP_HDR, 0));
		gather(ip + IP_HDR, hdr, hlen, data, off, n);
		if (eth_send(mac, ETH_P_IP, IP_HDR + n) < 0)
			return -1;
		off += n;
	} while (off < total);
	return 0;
}

static void icmp_input(uint32_t src, const uint8_t *p, size_t len, const uint8_t *src_mac)
{
	if (len < 8 || net_csum(p, len, 0) != 0 || p[0] != ICMP_ECHO)
		return;
	uint8_t h[8];
	memcpy(h, p, 8);
	h[0] = ICMP_ECHO_REPLY;
	h[2] = h[3] = 0;
	uint32_t sum = net_csum_add(p + 8, len - 8, net_csum_add(h, 8, 0));
	net_put16(h + 2, net_csum_fold(sum));
	ip_send_mac(src, src_mac, IP_P_ICMP, h, 8, p + 8, len - 8);
}

void icmp_unreachable(const uint8_t *ip_pkt, size_t len, const uint8_t *src_mac, uint8_t code)
{
	size_t quote = (size_t)(ip_pkt[0] & 15) * 4 + 8;
	if (quote > len)
		quote = len;
	uint8_t h[8] = {ICMP_UNREACH, code};
	uint32_t sum = net_csum_add(ip_pkt, quote, net_csum_add(h, 8, 0));
	net_put16(h + 2, net_csum_fold(sum));
	ip_send_mac(net_get_ip(ip_pkt + 12), src_mac, IP_P_ICMP, h, 8, ip_pkt, quote);
}

/* Takes one fragment; returns the whole payload's length once complete
 * (the payload is then in reasm.buf), else 0. */
static size_t reassemble(uint32_t src, uint16_t id, uint8_t proto, uint16_t frag,
			 const uint8_t *data, size_t n)
{
	size_t off = (size_t)(frag & IP_OFFMASK) * 8;
	int more = frag & IP_MF;
	uint64_t now = uk_now_ns();
	if (off + n > IP_MAX - IP_HDR || (more && n % 8) || n == 0)
		return 0;
	if (!reasm.buf && !(reasm.buf = malloc(IP_MAX)))
		return 0;
	if (!reasm.active || reasm.src != src || reasm.id != id || reasm.proto != proto) {
		if (reasm.active && now - reasm.start_ns < REASM_TIMEOUT_NS)
			return 0; /* busy with another datagram: drop this one */
		reasm.active = 1;
		reasm.src = src;
		reasm.id = id;
		reasm.proto = proto;
		reasm.total = 0;
		reasm.start_ns = now;
		memset(reasm.have, 0, sizeof(reasm.have));
	}
	memcpy(reasm.buf + off, data, n);
	for (size_t u = off / 8; u < (off + n + 7) / 8; u++)
		reasm.have[u / 8] |= (uint8_t)(1u << (u % 8));
	if (!more)
		reasm.total = (uint32_t)(off + n);
	if (!reasm.total)
		return 0;
	for (size_t u = 0; u < (reasm.total + 7) / 8; u++)
		if (!(reasm.have[u / 8] & (1u << (u % 8))))
			return 0;
	reasm.active = 0;
	return reasm.total;
}

void ip_input(const uint8_t *pkt, size_t len, const uint8_t *src_mac)
{
	if (len < IP_HDR || pkt[0] >> 4 != 4)
		return;
	size_t hl = (size_t)(pkt[0] & 15) * 4, tl = net_get16(pkt + 2);
	if (hl < IP_HDR || tl < hl || tl > len || net_csum(pkt, hl, 0) != 0)
		return;
	uint32_t src = net_get_ip(pkt + 12), dst = net_get_ip(pkt + 16);
	uint32_t bcast = uk_netif.ip | ~uk_netif.netmask;
	if (dst != uk_netif.ip && dst != 0xffffffffu && dst != bcast)
		return;
	if (net_is_local(src))
		arp_learn(src, src_mac); /* the reply needs no ARP round trip */
	const uint8_t *data = pkt + hl;
	size_t n = tl - hl;
	uint16_t frag = net_get16(pkt + 6);
	uint8_t proto = pkt[9];
	if (frag & (IP_MF | IP_OFFMASK)) {
		n = reassemble(src, net_get16(pkt + 4), proto, frag, data, n);
		if (!n)
			return;
		data = reasm.buf;
	}
	if (proto == IP_P_ICMP && dst == uk_netif.ip)
		icmp_input(src, data, n, src_mac);
	else if (proto == IP_P_UDP && udp_input(src, dst, data, n) < 0 && dst == uk_netif.ip &&
		 data != reasm.buf)
		icmp_unreachable(pkt, tl, src_mac, 3);
}
