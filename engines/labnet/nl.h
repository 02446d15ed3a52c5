/* engines/labnet/nl.h: netlink helpers shared by the two halves of the lab
 * network (front end: labnet.c, instance process: attach.c).  Internal. */
#ifndef VLAB_ENGINES_LABNET_NL_H
#define VLAB_ENGINES_LABNET_NL_H

#include <netinet/in.h>
#include <netlink/netlink.h>

#include "core/err.h"

/* A NETLINK_ROUTE socket bound to the network namespace nsfd (-1: the
 * calling thread's own).  A netlink socket acts on the namespace it was
 * created in, wherever the thread goes afterwards.  Free with
 * nl_socket_free(). */
struct nl_sock *labnet_nl_open(int nsfd, struct vlab_err *err);

/* Sets err from a libnl error code (negative NLE_*), with context. */
int labnet_nl_err(struct vlab_err *err, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ifindex of the device name; -1 with err when there is none. */
int labnet_ifindex(struct nl_sock *sk, const char *name, struct vlab_err *err);

/* Brings device name up, enslaving it to master_ifindex when not 0. */
int labnet_link_up(struct nl_sock *sk, const char *name, int master_ifindex, struct vlab_err *err);

/* Adds addr/prefixlen to ifindex. */
int labnet_addr_add(struct nl_sock *sk, int ifindex, struct in_addr addr, unsigned prefixlen,
		    struct vlab_err *err);

#endif
