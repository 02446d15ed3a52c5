/* engines/labnet/attach.c: the lab network, instance-process side: read the
 * instance's address back from its spec, then plug it in: a veth pair for a
 * container, a TAP device for a VM or a unikernel. */
#include "engines/labnet/labnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "core/units.h"
#include "engines/labnet/nl.h"

static int check_ns_path(const char *path)
{
	const char *pre = VLAB_LABNET_DIR "/" VLAB_LABNET_PREFIX;
	size_t pl = strlen(pre);
	if (strncmp(path, pre, pl) != 0 || !path[pl] || strlen(path) >= 128)
		return -1;
	for (const char *p = path + pl; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	/* A unicast address: bit 0 of the first octet clear. */
	return (mac[0] & 1) ? -1 : 0;
}

int vlab_labnet_cfg_from_spec(const struct vlab_spec *spec, struct vlab_labnet_cfg *cfg,
			      struct vlab_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	const char *on = vlab_spec_get(spec, "net");
	int b = 0;
	if (on && vlab_parse_bool(on, &b, "net", err) < 0)
		return -1;
	if (!b)
		return 0;
	const char *ns = vlab_spec_get(spec, "net.ns");
	const char *ip = vlab_spec_get(spec, "net.ip");
	const char *mac = vlab_spec_get(spec, "net.mac");
	if (!ns || !ip)
		return vlab_err_set(err, EINVAL,
				    "net=on but option %s is missing (the front end fills it in: "
				    "vlab_labnet_spec_attach)",
				    !ns ? "net.ns" : "net.ip");
	if (check_ns_path(ns) < 0)
		return vlab_err_set(err, EINVAL,
				    "option net.ns: '%s' is not a lab network (" VLAB_LABNET_DIR
				    "/" VLAB_LABNET_PREFIX "<pid>)",
				    ns);
	snprintf(cfg->ns_path, sizeof(cfg->ns_path), "%s", ns);

	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(ip, '/');
	size_t al = slash ? (size_t)(slash - ip) : strlen(ip);
	struct in_addr net;
	inet_pton(AF_INET, VLAB_LABNET_NET, &net);
	if (al >= sizeof(addr) || !slash || strcmp(slash + 1, "24") != 0)
		return vlab_err_set(err, EINVAL, "option net.ip: '%s' is not 10.77.0.N/24", ip);
	memcpy(addr, ip, al);
	addr[al] = '\0';
	uint32_t host;
	if (inet_pton(AF_INET, addr, &cfg->ip) != 1 ||
	    (ntohl(cfg->ip.s_addr) & 0xffffff00u) != ntohl(net.s_addr) ||
	    (host = ntohl(cfg->ip.s_addr) & 0xff) < VLAB_LABNET_FIRST || host > VLAB_LABNET_LAST)
		return vlab_err_set(err, EINVAL,
				    "option net.ip: '%s' is not 10.77.0.N/24 with N in %d-%d", ip,
				    VLAB_LABNET_FIRST, VLAB_LABNET_LAST);
	cfg->prefixlen = VLAB_LABNET_PREFIXLEN;
	inet_pton(AF_INET, VLAB_LABNET_HOST_IP, &cfg->host);
	if (mac) {
		if (parse_mac(mac, cfg->mac) < 0)
			return vlab_err_set(err, EINVAL,
					    "option net.mac: '%s' is not a unicast MAC address "
					    "(xx:xx:xx:xx:xx:xx)",
					    mac);
	} else {
		const uint8_t def[6] = {0x02, 0x76, 0x6c, 0x00, 0x00, (uint8_t)host};
		memcpy(cfg->mac, def, 6);
	}
	snprintf(cfg->veth_name, sizeof(cfg->veth_name), "veth%u", host);
	snprintf(cfg->tap_name, sizeof(cfg->tap_name), "tap%u", host);
	cfg->on = 1;
	return 0;
}

static int open_ns(const struct vlab_labnet_cfg *cfg, struct vlab_err *err)
{
	if (!cfg->on)
		return vlab_err_set(err, EINVAL,
				    "the instance is not on the lab network (net=off)");
	int fd = open(cfg->ns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open lab network %s", cfg->ns_path);
	return fd;
}

static void delete_link(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return;
	rtnl_link_set_name(l, name);
	rtnl_link_delete(sk, l);
	rtnl_link_put(l);
}

int vlab_labnet_add_veth(const struct vlab_labnet_cfg *cfg, int target_netns_fd,
			 const char *inner_ifname, struct vlab_err *err)
{
	struct nl_sock *lab = NULL, *inner = NULL;
	struct rtnl_link *veth = NULL;
	struct nl_addr *mac = NULL;
	int rc = -1, created = 0, br, idx;
	int nsfd = open_ns(cfg, err);
	if (nsfd < 0)
		return -1;
	if (!inner_ifname || !*inner_ifname || strlen(inner_ifname) >= IFNAMSIZ) {
		vlab_err_set(err, EINVAL, "veth: interface name '%s' is not valid",
			     inner_ifname ? inner_ifname : "");
		goto out;
	}
	if (!(lab = labnet_nl_open(nsfd, err)) || !(inner = labnet_nl_open(target_netns_fd, err)))
		goto out;
	if ((br = labnet_ifindex(lab, VLAB_LABNET_BRIDGE, err)) < 0)
		goto out;

	veth = rtnl_link_veth_alloc();
	mac = nl_addr_build(AF_LLC, cfg->mac, 6);
	if (!veth || !mac) {
		vlab_err_set(err, ENOMEM, "veth %s", cfg->veth_name);
		goto out;
	}
	struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, cfg->veth_name);
	rtnl_link_set_name(peer, inner_ifname);
	rtnl_link_set_addr(peer, mac);
	rtnl_link_set_ns_fd(peer, target_netns_fd);
	rtnl_link_put(peer);
	int nr = rtnl_link_add(lab, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (nr < 0) {
		labnet_nl_err(err, nr, "create veth pair %s/%s", cfg->veth_name, inner_ifname);
		goto out;
	}
	created = 1;
	if (labnet_link_up(lab, cfg->veth_name, br, err) < 0)
		goto out;
	if ((idx = labnet_ifindex(inner, inner_ifname, err)) < 0 ||
	    labnet_addr_add(inner, idx, cfg->ip, cfg->prefixlen, err) < 0 ||
	    labnet_link_up(inner, inner_ifname, 0, err) < 0 ||
	    labnet_link_up(inner, "lo", 0, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && created)
		delete_link(lab, cfg->veth_name); /* takes the peer with it */
	if (mac)
		nl_addr_put(mac);
	if (veth)
		rtnl_link_put(veth);
	if (inner)
		nl_socket_free(inner);
	if (lab)
		nl_socket_free(lab);
	close(nsfd);
	return rc < 0 ? vlab_err_prefix(err, "lab network") : 0;
}

int vlab_labnet_open_tap(const struct vlab_labnet_cfg *cfg, int tun_flags, struct vlab_err *err)
{
	struct nl_sock *lab = NULL;
	int tfd = -1, saved, br;
	int nsfd = open_ns(cfg, err);
	if (nsfd < 0)
		return -1;
	/* The TAP device is born in the namespace of whoever opens
	 * /dev/net/tun; the descriptor keeps it there. */
	if (vlab_netns_enter(nsfd, &saved, err) < 0)
		goto fail;
	tfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	int e = errno;
	if (vlab_netns_leave(saved, err) < 0)
		goto fail;
	if (tfd < 0) {
		vlab_err_set(err, e, "open /dev/net/tun");
		goto fail;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | tun_flags);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->tap_name);
	if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
		vlab_err_set(err, errno, "create TAP device %s", cfg->tap_name);
		goto fail;
	}
	if (!(lab = labnet_nl_open(nsfd, err)) ||
	    (br = labnet_ifindex(lab, VLAB_LABNET_BRIDGE, err)) < 0 ||
	    labnet_link_up(lab, cfg->tap_name, br, err) < 0)
		goto fail;
	nl_socket_free(lab);
	close(nsfd);
	return tfd;

fail:
	if (lab)
		nl_socket_free(lab);
	if (tfd >= 0)
		close(tfd); /* a non-persistent TAP goes with its last descriptor */
	close(nsfd);
	return vlab_err_prefix(err, "lab network");
}
