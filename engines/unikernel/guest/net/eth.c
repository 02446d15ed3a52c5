/* engines/unikernel/guest/net/eth.c: the network interface: frames in and
 * out through the net hypercalls, Ethernet framing and ARP (RFC 826). */
#include "net.h"

struct uk_netif uk_netif;
uint8_t net_tx[UK_NET_FRAME_MAX];
uint8_t net_rx[UK_NET_FRAME_MAX];
const uint8_t net_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define ARP_ENTRIES 16
#define ARP_TRIES 3
#define ARP_WAIT_NS 200000000ull
#define POLL_BATCH 256

static struct {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t used;
} arp[ARP_ENTRIES];

int net_is_local(uint32_t ip)
{
	return (ip & uk_netif.netmask) == (uk_netif.ip & uk_netif.netmask);
}

int eth_send(const uint8_t *dst_mac, uint16_t type, size_t payload_len)
{
	memcpy(net_tx, dst_mac, 6);
	memcpy(net_tx + 6, uk_netif.mac, 6);
	net_put16(net_tx + 12, type);
	struct uk_hc_io io = {.data = (uintptr_t)net_tx, .len = ETH_HDR + payload_len};
	uk_hcall(UK_HC_NET_SEND, &io);
	return io.ret < 0 ? -1 : 0;
}

void arp_learn(uint32_t ip, const uint8_t *mac)
{
	if (!ip || (mac[0] & 1))
		return;
	int slot = 0;
	for (int i = 0; i < ARP_ENTRIES; i++) {
		if (arp[i].ip == ip) {
			slot = i;
			break;
		}
		if (arp[i].used < arp[slot].used)
			slot = i; /* least recently used */
	}
	arp[slot].ip = ip;
	memcpy(arp[slot].mac, mac, 6);
	arp[slot].used = uk_now_ns();
}

static int arp_lookup(uint32_t ip, uint8_t *mac)
{
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (arp[i].ip == ip && arp[i].used) {
			memcpy(mac, arp[i].mac, 6);
			arp[i].used = uk_now_ns();
			return 1;
		}
	return 0;
}

static void arp_send(uint16_t op, const uint8_t *tha, uint32_t tpa, const uint8_t *dst)
{
	uint8_t *a = net_tx + ETH_HDR;
	net_put16(a, 1); /* Ethernet */
	net_put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	net_put16(a + 6, op);
	memcpy(a + 8, uk_netif.mac, 6);
	net_put_ip(a + 14, uk_netif.ip);
	memcpy(a + 18, tha, 6);
	net_put_ip(a + 24, tpa);
	eth_send(dst, ETH_P_ARP, 28);
}

static void arp_input(const uint8_t *a, size_t len)
{
	if (len < 28 || net_get16(a) != 1 || net_get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return;
	uint16_t op = net_get16(a + 6);
	uint32_t spa = net_get_ip(a + 14), tpa = net_get_ip(a + 24);
	uint8_t sha[6];
	memcpy(sha, a + 8, 6);
	if (tpa == uk_netif.ip || arp_lookup(spa, (uint8_t[6]){0}))
		arp_learn(spa, sha);
	if (op == 1 && tpa == uk_netif.ip && uk_netif.ip)
		arp_send(2, sha, spa, sha);
}

int arp_resolve(uint32_t ip, uint8_t *mac)
{
	uint32_t bcast = uk_netif.ip | ~uk_netif.netmask;
	if (ip == 0xffffffffu || ip == bcast) {
		memcpy(mac, net_broadcast, 6);
		return 0;
	}
	uint32_t hop = net_is_local(ip) ? ip : uk_netif.gateway;
	if (!hop)
		return -1;
	for (int t = 0; t < ARP_TRIES; t++) {
		if (arp_lookup(hop, mac))
			return 0;
		arp_send(1, (const uint8_t[6]){0}, hop, net_broadcast);
		uint64_t deadline = uk_now_ns() + ARP_WAIT_NS;
		for (uint64_t now; (now = uk_now_ns()) < deadline;) {
			unsigned got = uk_poll(0, deadline - now);
			if (arp_lookup(hop, mac))
				return 0;
			if (got & UK_POLL_STOP)
				return -1;
		}
	}
	return -1;
}

void eth_input(const uint8_t *f, size_t len)
{
	if (len < ETH_HDR)
		return;
	if (memcmp(f, uk_netif.mac, 6) && memcmp(f, net_broadcast, 6))
		return; /* not for us */
	uint16_t type = net_get16(f + 12);
	if (type == ETH_P_ARP)
		arp_input(f + ETH_HDR, len - ETH_HDR);
	else if (type == ETH_P_IP)
		ip_input(f + ETH_HDR, len - ETH_HDR, f + 6);
}

int uk_net_poll(void)
{
	int n = 0;
	if (!uk_netif.up)
		return 0;
	for (int more = 1; more && n < POLL_BATCH;) {
		struct uk_hc_net_recv r = {.data = (uintptr_t)net_rx, .len = sizeof(net_rx)};
		uk_hcall(UK_HC_NET_RECV, &r);
		if (r.ret <= 0)
			break;
		n++;
		more = (int)r.more;
		eth_input(net_rx, (size_t)r.ret);
	}
	return n;
}

int uk_net_init(void)
{
	struct uk_hc_net_info ni = {0};
	if (uk_netif.up)
		return 0;
	uk_hcall(UK_HC_NET_INFO, &ni);
	if (ni.ret < 0)
		return (int)ni.ret;
	memcpy(uk_netif.mac, ni.mac, 6);
	uk_netif.mtu = ni.mtu && ni.mtu <= UK_NET_FRAME_MAX - ETH_HDR ? ni.mtu : 1500;
	uk_netif.ip = ni.ip;
	uk_netif.netmask = ni.netmask;
	uk_netif.gateway = ni.gateway;
	uk_netif.up = 1;
	if (uk_netif.ip) /* announce ourselves (gratuitous ARP) */
		arp_send(1, (const uint8_t[6]){0}, uk_netif.ip, net_broadcast);
	return 0;
}
