/* engines/labnet/nl.c: per-thread network namespace switching and the few
 * netlink operations the lab network needs (libnl-route-3). */
#include "engines/labnet/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "engines/labnet/labnet.h"

int vlab_netns_enter(int nsfd, int *saved, struct vlab_err *err)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return vlab_err_set(err, errno, "open this thread's network namespace");
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(self);
		return vlab_err_set(err, e, "enter network namespace");
	}
	*saved = self;
	return 0;
}

int vlab_netns_leave(int saved, struct vlab_err *err)
{
	int r = setns(saved, CLONE_NEWNET);
	int e = errno;
	close(saved);
	return r < 0 ? vlab_err_set(err, e, "return to the thread's network namespace") : 0;
}

/* libnl reports its own codes; map the ones a user can act on. */
static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_PERM:
		return EPERM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return ENODEV;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_INVAL:
		return EINVAL;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	default:
		return EIO;
	}
}

int labnet_nl_err(struct vlab_err *err, int nlerr, const char *fmt, ...)
{
	char ctx[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	vlab_err_set(err, 0, "%s: netlink: %s", ctx, nl_geterror(nlerr));
	if (err)
		err->code = nl_errno(nlerr);
	return -1;
}

struct nl_sock *labnet_nl_open(int nsfd, struct vlab_err *err)
{
	int saved = -1;
	if (nsfd >= 0 && vlab_netns_enter(nsfd, &saved, err) < 0)
		return NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (rc < 0) {
		labnet_nl_err(err, rc, "open a route netlink socket");
		if (sk)
			nl_socket_free(sk);
		sk = NULL;
	}
	if (saved >= 0 && vlab_netns_leave(saved, sk ? err : NULL) < 0) {
		/* The thread is stranded in another namespace: nothing sane
		 * can follow, so say so rather than carry on there. */
		if (sk)
			nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int labnet_ifindex(struct nl_sock *sk, const char *name, struct vlab_err *err)
{
	struct rtnl_link *link = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);
	if (rc < 0)
		return labnet_nl_err(err, rc, "find device %s", name);
	int idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return idx;
}

int labnet_link_up(struct nl_sock *sk, const char *name, int master_ifindex, struct vlab_err *err)
{
	struct rtnl_link *link = NULL, *change = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);
	if (rc < 0)
		return labnet_nl_err(err, rc, "find device %s", name);
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return vlab_err_set(err, ENOMEM, "bring %s up", name);
	}
	if (master_ifindex > 0) {
		rc = rtnl_link_enslave_ifindex(sk, master_ifindex, rtnl_link_get_ifindex(link));
		if (rc < 0) {
			rtnl_link_put(change);
			rtnl_link_put(link);
			return labnet_nl_err(err, rc, "put %s on the lab bridge", name);
		}
	}
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return rc < 0 ? labnet_nl_err(err, rc, "bring %s up", name) : 0;
}

int labnet_addr_add(struct nl_sock *sk, int ifindex, struct in_addr addr, unsigned prefixlen,
		    struct vlab_err *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &addr, sizeof(addr));
	int rc = -NLE_NOMEM;
	char text[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	if (a && local) {
		nl_addr_set_prefixlen(local, (int)prefixlen);
		rtnl_addr_set_ifindex(a, ifindex);
		rc = rtnl_addr_set_local(a, local);
		if (rc >= 0)
			rc = rtnl_addr_add(sk, a, 0);
	}
	if (local)
		nl_addr_put(local);
	if (a)
		rtnl_addr_put(a);
	return rc < 0 ? labnet_nl_err(err, rc, "add address %s/%u", text, prefixlen) : 0;
}
