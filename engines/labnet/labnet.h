/* engines/labnet/labnet.h: the lab network.
 *
 * One network namespace per vlab front-end process, named so students can
 * look inside (`ip netns exec vlab-<pid> ip addr`):
 *
 *     /run/netns/vlab-<front-end pid>
 *       lo        up
 *       vlab0     a bridge, 10.77.0.1/24: the host side, where the
 *                 measuring client lives
 *       vethN     the lab end of a container's veth pair (the other end,
 *                 eth0, is in the container's own namespace: 10.77.0.N/24)
 *       tapN      a VM's or unikernel's TAP device (the guest is 10.77.0.N)
 *
 * Nothing is routed out: the namespace has no route but 10.77.0.0/24 and no
 * device that leads elsewhere.  Everything is configured through netlink
 * (libnl-route-3); no `ip` subprocess.
 *
 * Three users, three halves of this API:
 *   - the front end (the CLI, the TUI, the Lua layer) acquires the network,
 *     gives each instance an address and puts it into the instance's spec
 *     (vlab_labnet_spec_attach), and releases it at the end;
 *   - the instance process (container runtime, VMM, unikernel monitor) reads
 *     its part back from the spec (vlab_labnet_cfg_from_spec) and attaches a
 *     veth (vlab_labnet_add_veth) or opens a TAP (vlab_labnet_open_tap);
 *   - the measuring client runs code inside the namespace
 *     (vlab_labnet_socket, vlab_labnet_call, vlab_netns_enter/leave).
 *
 * Leftovers of a killed vlab (its namespace, and with it every device in
 * it) are removed by the next vlab_labnet_acquire() (or
 * vlab_labnet_sweep()), but only those whose owner process is dead: other
 * vlab processes on the machine keep theirs.
 *
 * Needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root): without them acquire fails
 * with EPERM and a message saying so. */
#ifndef VLAB_ENGINES_LABNET_H
#define VLAB_ENGINES_LABNET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "engines/spec.h"

#define VLAB_LABNET_DIR "/run/netns"	      /* where `ip netns` looks */
#define VLAB_LABNET_PREFIX "vlab-"	      /* + the owner's pid */
#define VLAB_LABNET_OWNERS "/run/vlab-labnet" /* <pid> -> owner start time */
#define VLAB_LABNET_BRIDGE "vlab0"
#define VLAB_LABNET_HOST_IP "10.77.0.1" /* the bridge: the measuring side */
#define VLAB_LABNET_NET "10.77.0.0"
#define VLAB_LABNET_PREFIXLEN 24
#define VLAB_LABNET_FIRST 2  /* instances get 10.77.0.2 ... */
#define VLAB_LABNET_LAST 254 /* ... 10.77.0.254 */

/* The spec options an engine that joins the lab network accepts: put this
 * macro inside the engine's vlab_opt_desc table.  The user sets only
 * net=on; the front end fills the rest (vlab_labnet_spec_attach). */
#define VLAB_LABNET_OPTS                                                                           \
	{.name = "net",                                                                            \
	 .type = VLAB_OPT_BOOL,                                                                    \
	 .def = "off",                                                                             \
	 .help = "attach to the lab network (10.77.0.0/24)"},                                      \
	    {.name = "net.ns",                                                                     \
	     .type = VLAB_OPT_STRING,                                                              \
	     .help = "lab network namespace (filled in by the front end)"},                        \
	    {.name = "net.ip",                                                                     \
	     .type = VLAB_OPT_STRING,                                                              \
	     .help = "this instance's address, 10.77.0.N/24 (filled in by the front end)"},        \
	{                                                                                          \
		.name = "net.mac", .type = VLAB_OPT_STRING,                                        \
		.help = "this instance's MAC address (filled in by the front end)"                 \
	}

/* ---- front-end side ---- */

struct vlab_labnet;

/* The lab network of this process: created on the first call (after
 * sweeping dead vlabs' leftovers), shared by later calls (a reference
 * count).  Thread-safe.  Pair every acquire with vlab_labnet_release(). */
int vlab_labnet_acquire(struct vlab_labnet **out, struct vlab_err *err);

/* Drops a reference; the last one removes the namespace (and so every
 * device in it once no instance process holds it any more). */
void vlab_labnet_release(struct vlab_labnet *net);

/* Removes the namespaces of vlab processes that are no longer alive.
 * Returns how many it removed, or -1 with err when /run/netns cannot be
 * read. */
int vlab_labnet_sweep(struct vlab_err *err);

/* "/run/netns/vlab-1234" and "vlab-1234". */
const char *vlab_labnet_path(const struct vlab_labnet *net);
const char *vlab_labnet_name(const struct vlab_labnet *net);
/* A descriptor of the namespace, owned by net (do not close). */
int vlab_labnet_fd(const struct vlab_labnet *net);

/* Reserves a free instance address (10.77.0.2-254); EADDRNOTAVAIL when all
 * are taken. */
int vlab_labnet_addr_alloc(struct vlab_labnet *net, struct in_addr *out, struct vlab_err *err);
/* Returns an address to the pool (ignored when not reserved). */
void vlab_labnet_addr_free(struct vlab_labnet *net, struct in_addr addr);

/* Gives the instance of spec an address and writes net=on, net.ns, net.ip
 * and net.mac into spec.  Undo with vlab_labnet_spec_detach() after the
 * instance is freed. */
int vlab_labnet_spec_attach(struct vlab_labnet *net, struct vlab_spec *spec, struct vlab_err *err);
/* Frees the address spec holds (no-op when spec has none). */
void vlab_labnet_spec_detach(struct vlab_labnet *net, const struct vlab_spec *spec);

/* A socket (socket(2) arguments) created inside the lab network; it keeps
 * working from any thread.  The caller owns it.  Close-on-exec. */
int vlab_labnet_socket(const struct vlab_labnet *net, int domain, int type, int protocol,
		       struct vlab_err *err);

/* Runs fn(arg) on the calling thread inside the lab network, then returns
 * the thread to its own namespace.  Returns fn's result, or -1 with err when
 * the namespace could not be entered or left. */
int vlab_labnet_call(const struct vlab_labnet *net, int (*fn)(void *arg), void *arg,
		     struct vlab_err *err);

/* ---- instance-process side ---- */

/* The instance's part of the lab network, read back from its spec. */
struct vlab_labnet_cfg {
	int on;			  /* net=on */
	char ns_path[128];	  /* /run/netns/vlab-<pid> */
	struct in_addr ip;	  /* 10.77.0.N */
	struct in_addr host;	  /* 10.77.0.1: the bridge, where the client is */
	unsigned prefixlen;	  /* 24 */
	uint8_t mac[6];		  /* 02:76:6c:00:00:N ("vl"), the instance's side */
	char veth_name[IFNAMSIZ]; /* its device in the lab namespace: vethN ... */
	char tap_name[IFNAMSIZ];  /* ... or tapN */
};

/* Fills cfg from spec's net, net.ns, net.ip, net.mac.  With net off (the
 * default) cfg->on is 0 and nothing else is read.  Fails, naming the
 * option, when net is on and one is missing or malformed. */
int vlab_labnet_cfg_from_spec(const struct vlab_spec *spec, struct vlab_labnet_cfg *cfg,
			      struct vlab_err *err);

/* Creates a veth pair: cfg->veth_name in the lab namespace, on the bridge,
 * up; its peer in the namespace target_netns_fd (e.g. open
 * /proc/<child>/ns/net) named inner_ifname ("eth0"), with cfg->mac,
 * cfg->ip/prefixlen, up, and that namespace's lo up too.  The pair vanishes
 * with either namespace. */
int vlab_labnet_add_veth(const struct vlab_labnet_cfg *cfg, int target_netns_fd,
			 const char *inner_ifname, struct vlab_err *err);

/* Opens a TAP device cfg->tap_name in the lab namespace, on the bridge,
 * up, and returns its descriptor (the caller owns it; closing it removes
 * the device).  tun_flags adds IFF_* flags to IFF_TAP|IFF_NO_PI (e.g.
 * IFF_VNET_HDR).  The descriptor is blocking and close-on-exec (clear
 * FD_CLOEXEC to hand it to QEMU); it keeps working after the calling thread
 * is back in its own namespace.  The guest behind it uses cfg->mac and
 * cfg->ip. */
int vlab_labnet_open_tap(const struct vlab_labnet_cfg *cfg, int tun_flags, struct vlab_err *err);

/* "02:76:6c:00:00:05" for 10.77.0.5 (buf >= 18). */
char *vlab_labnet_mac_str(const uint8_t mac[6], char *buf, size_t len);

/* ---- namespace plumbing (any side) ---- */

/* Moves the calling thread into the network namespace nsfd; *saved gets a
 * descriptor of the one it was in, for vlab_netns_leave().  Only network
 * namespaces (per thread; other threads are not affected). */
int vlab_netns_enter(int nsfd, int *saved, struct vlab_err *err);
/* Returns the thread to saved and closes it. */
int vlab_netns_leave(int saved, struct vlab_err *err);

#endif
