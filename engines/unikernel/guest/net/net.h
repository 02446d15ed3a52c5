/* engines/unikernel/guest/net/net.h: inside the library OS's network
 * stack: Ethernet and ARP (eth.c), IPv4 with fragments and ICMP echo
 * (ip.c), UDP sockets (udp.c).  Addresses are kept in network byte order. */
#ifndef VLAB_UK_GUEST_NET_NET_H
#define VLAB_UK_GUEST_NET_NET_H

#include "../uk.h"

#define ETH_HDR 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HDR 20
#define IP_MAX 65535
#define IP_P_ICMP 1
#define IP_P_UDP 17
#define UDP_HDR 8

static inline uint16_t net_htons(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t net_htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

static inline uint16_t net_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void net_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Raw address bytes <-> the uint32_t (network order) we keep. */
static inline uint32_t net_get_ip(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void net_put_ip(uint8_t *p, uint32_t ip)
{
	memcpy(p, &ip, 4);
}

/* The frame being built for sending: payload starts at ETH_HDR. */
extern uint8_t net_tx[UK_NET_FRAME_MAX];

/* eth.c */
extern uint8_t net_rx[UK_NET_FRAME_MAX]; /* where frames are received */
void eth_input(const uint8_t *f, size_t len);
extern const uint8_t net_broadcast[6];
int eth_send(const uint8_t *dst_mac, uint16_t type, size_t payload_len);
void arp_learn(uint32_t ip, const uint8_t *mac);
/* The MAC for sending to ip (via the gateway when off-link): 0, or -1
 * when nobody answers.  May receive and handle frames while waiting. */
int arp_resolve(uint32_t ip, uint8_t *mac);
int net_is_local(uint32_t ip); /* on our subnet */

/* ip.c */
void ip_input(const uint8_t *pkt, size_t len, const uint8_t *src_mac);
/* Sends hdr then data as one IP datagram to ip at mac, in fragments when
 * larger than the MTU.  0, or -1. */
int ip_send_mac(uint32_t dst, const uint8_t *mac, uint8_t proto, const void *hdr, size_t hlen,
		const void *data, size_t dlen);
uint16_t net_csum(const void *data, size_t len, uint32_t sum);
uint32_t net_csum_add(const void *data, size_t len, uint32_t sum);
uint16_t net_csum_fold(uint32_t sum);
void icmp_unreachable(const uint8_t *ip_pkt, size_t len, const uint8_t *src_mac, uint8_t code);

/* udp.c: a datagram for us (the UDP header onwards).  Returns 0 when a
 * socket took it or it was dropped, -1 when no socket holds the port. */
int udp_input(uint32_t src, uint32_t dst, const uint8_t *pkt, size_t len);

#endif
