/* engines/labnet/labnet.c: the lab network, front-end side: one named
 * network namespace per vlab process (bridge + host address), instance
 * addresses, and the sweep of what killed vlabs left behind.
 *
 * The namespace is created the way `ip netns add` does it (so `ip netns`
 * sees it): /run/netns is made a shared mount, an empty file
 * /run/netns/vlab-<pid> is created and the new namespace is bind-mounted
 * on it.  Its owner is recorded in /run/vlab-labnet/<pid> with the
 * process' start time, so a recycled pid never keeps a dead vlab's
 * namespace alive, and a sweep never removes a live one's. */
#include "engines/labnet/labnet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "core/proc.h"
#include "engines/labnet/nl.h"

struct vlab_labnet {
	pid_t owner;
	int refs;
	int nsfd;
	char name[32];
	char path[128];
	uint8_t used[256]; /* used[n]: 10.77.0.n is taken */
	unsigned next;	   /* where the next search starts (round robin) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vlab_labnet *current; /* this process' network, if any */

static void owner_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d", VLAB_LABNET_OWNERS, (int)pid);
}

/* Is the vlab process that created the namespace of pid still running? */
static int owner_alive(pid_t pid)
{
	char path[128], buf[64];
	unsigned long long recorded, now;
	owner_path(pid, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (sscanf(buf, "%llu", &recorded) == 1)
				return vlab_proc_starttime(pid, &now) == 0 && now == recorded;
		}
	}
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* "vlab-1234" -> 1234; 0 when name is not one of ours. */
static pid_t parse_name(const char *name)
{
	size_t pl = strlen(VLAB_LABNET_PREFIX);
	if (strncmp(name, VLAB_LABNET_PREFIX, pl) != 0 || !name[pl])
		return 0;
	long v = 0;
	for (const char *p = name + pl; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > 100000000)
			return 0;
		v = v * 10 + (*p - '0');
	}
	return (pid_t)v;
}

/* Unmounts and removes a namespace file (ENOENT/EINVAL are fine: already
 * gone, or created but never mounted). */
static int remove_ns(const char *path, struct vlab_err *err)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return vlab_err_set(err, errno, "unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return vlab_err_set(err, errno, "remove %s", path);
	return 0;
}

/* Serialises creation and sweeping between vlab processes. */
static int lock_owners(struct vlab_err *err)
{
	if (mkdir(VLAB_LABNET_OWNERS, 0755) < 0 && errno != EEXIST)
		return vlab_err_set(err, errno, "create %s", VLAB_LABNET_OWNERS);
	int fd = open(VLAB_LABNET_OWNERS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open %s", VLAB_LABNET_OWNERS);
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "lock %s", VLAB_LABNET_OWNERS);
	}
	return fd;
}

static int sweep_locked(struct vlab_err *err)
{
	int removed = 0;
	DIR *d = opendir(VLAB_LABNET_DIR);
	if (!d && errno != ENOENT)
		return vlab_err_set(err, errno, "read %s", VLAB_LABNET_DIR);
	for (struct dirent *e; d && (e = readdir(d));) {
		pid_t pid = parse_name(e->d_name);
		if (pid <= 0 || owner_alive(pid))
			continue;
		char path[300], owner[128];
		snprintf(path, sizeof(path), "%s/%s", VLAB_LABNET_DIR, e->d_name);
		if (remove_ns(path, err) < 0) {
			closedir(d);
			return vlab_err_prefix(err, "remove the lab network of dead vlab %d",
					       (int)pid);
		}
		owner_path(pid, owner, sizeof(owner));
		unlink(owner);
		removed++;
	}
	if (d)
		closedir(d);
	/* Owner records whose namespace is gone already. */
	d = opendir(VLAB_LABNET_OWNERS);
	for (struct dirent *e; d && (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (pid <= 0 || *end || owner_alive((pid_t)pid))
			continue;
		char owner[128];
		owner_path((pid_t)pid, owner, sizeof(owner));
		unlink(owner);
	}
	if (d)
		closedir(d);
	return removed;
}

int vlab_labnet_sweep(struct vlab_err *err)
{
	int fd = lock_owners(err);
	if (fd < 0)
		return -1;
	int r = sweep_locked(err);
	close(fd);
	return r;
}

/* /run/netns as a shared mount of its own, as iproute2 leaves it, so the
 * namespaces mounted there show up in every mount namespace. */
static int netns_dir_ready(struct vlab_err *err)
{
	if (mkdir(VLAB_LABNET_DIR, 0755) < 0 && errno != EEXIST)
		return vlab_err_set(err, errno, "create %s", VLAB_LABNET_DIR);
	if (mount("", VLAB_LABNET_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return vlab_err_set(err, errno, "make %s a shared mount", VLAB_LABNET_DIR);
	if (mount(VLAB_LABNET_DIR, VLAB_LABNET_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return vlab_err_set(err, errno, "bind-mount %s", VLAB_LABNET_DIR);
	if (mount("", VLAB_LABNET_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return vlab_err_set(err, errno, "make %s a shared mount", VLAB_LABNET_DIR);
	return 0;
}

/* Best effort: no IPv6 in the lab (no router solicitations, no MLD in the
 * guests' receive queues).  Runs inside the new namespace. */
static void no_ipv6(void)
{
	static const char *const knobs[] = {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
					    "/proc/sys/net/ipv6/conf/default/disable_ipv6"};
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		int fd = open(knobs[i], O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) {
				/* IPv6 may be compiled out: nothing to quiet. */
			}
			close(fd);
		}
	}
}

/* Inside the new namespace (the calling thread is there): lo, the bridge,
 * the host address. */
static int configure(struct vlab_err *err)
{
	struct nl_sock *sk = labnet_nl_open(-1, err);
	if (!sk)
		return -1;
	struct in_addr host;
	inet_pton(AF_INET, VLAB_LABNET_HOST_IP, &host);
	int rc = -1, br;
	no_ipv6();
	if (labnet_link_up(sk, "lo", 0, err) < 0)
		goto out;
	int nr = rtnl_link_bridge_add(sk, VLAB_LABNET_BRIDGE);
	if (nr < 0) {
		labnet_nl_err(err, nr, "create bridge %s", VLAB_LABNET_BRIDGE);
		goto out;
	}
	if ((br = labnet_ifindex(sk, VLAB_LABNET_BRIDGE, err)) < 0 ||
	    labnet_addr_add(sk, br, host, VLAB_LABNET_PREFIXLEN, err) < 0 ||
	    labnet_link_up(sk, VLAB_LABNET_BRIDGE, 0, err) < 0)
		goto out;
	rc = 0;
out:
	nl_socket_free(sk);
	return rc;
}

static int write_owner(pid_t pid, struct vlab_err *err)
{
	char path[128], buf[32];
	unsigned long long start;
	if (vlab_proc_starttime(pid, &start) < 0)
		return vlab_err_set(err, ESRCH, "read the start time of process %d", (int)pid);
	owner_path(pid, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vlab_err_set(err, errno, "create %s", path);
	int n = snprintf(buf, sizeof(buf), "%llu\n", start);
	ssize_t w = write(fd, buf, (size_t)n);
	close(fd);
	return w == n ? 0 : vlab_err_set(err, EIO, "write %s", path);
}

/* Creates the namespace at net->path; the lock is held. */
static int create_ns(struct vlab_labnet *net, struct vlab_err *err)
{
	char owner[128];
	int saved = -1, made_file = 0, mounted = 0;
	owner_path(net->owner, owner, sizeof(owner));
	if (netns_dir_ready(err) < 0 || write_owner(net->owner, err) < 0)
		goto fail;
	/* A file of our own pid that is still there is a leftover of an
	 * earlier process with this pid (the sweep spared it: the pid is us). */
	if (remove_ns(net->path, err) < 0)
		goto fail;
	int fd = open(net->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		vlab_err_set(err, errno, "create %s", net->path);
		goto fail;
	}
	close(fd);
	made_file = 1;

	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		vlab_err_set(err, errno, "open this thread's network namespace");
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		vlab_err_set(err, errno, "create a network namespace");
		goto fail;
	}
	if (configure(err) < 0)
		goto fail;
	if (mount("/proc/thread-self/ns/net", net->path, "none", MS_BIND, NULL) < 0) {
		vlab_err_set(err, errno, "bind-mount the namespace on %s", net->path);
		goto fail;
	}
	mounted = 1;
	net->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (net->nsfd < 0) {
		vlab_err_set(err, errno, "open the lab network namespace");
		goto fail;
	}
	if (vlab_netns_leave(saved, err) < 0) {
		saved = -1;
		goto fail;
	}
	return 0;

fail:
	if (saved >= 0 && vlab_netns_leave(saved, NULL) < 0)
		vlab_err_prefix(err, "and the thread could not return to its namespace");
	if (net->nsfd >= 0) {
		close(net->nsfd);
		net->nsfd = -1;
	}
	if (mounted || made_file)
		remove_ns(net->path, NULL);
	unlink(owner);
	return -1;
}

int vlab_labnet_acquire(struct vlab_labnet **out, struct vlab_err *err)
{
	pthread_mutex_lock(&lock);
	if (current && current->owner != getpid()) {
		/* Inherited across fork: the parent's, not ours to remove. */
		close(current->nsfd);
		free(current);
		current = NULL;
	}
	if (current) {
		current->refs++;
		*out = current;
		pthread_mutex_unlock(&lock);
		return 0;
	}
	struct vlab_labnet *net = calloc(1, sizeof(*net));
	if (!net) {
		pthread_mutex_unlock(&lock);
		return vlab_err_set(err, ENOMEM, "lab network");
	}
	net->owner = getpid();
	net->nsfd = -1;
	net->refs = 1;
	snprintf(net->name, sizeof(net->name), VLAB_LABNET_PREFIX "%d", (int)net->owner);
	snprintf(net->path, sizeof(net->path), VLAB_LABNET_DIR "/%s", net->name);

	int lfd = lock_owners(err);
	if (lfd < 0 || sweep_locked(err) < 0 || create_ns(net, err) < 0) {
		if (lfd >= 0)
			close(lfd);
		free(net);
		pthread_mutex_unlock(&lock);
		if (err && (err->code == EPERM || err->code == EACCES))
			vlab_err_prefix(err, "the lab network needs root (CAP_SYS_ADMIN and "
					     "CAP_NET_ADMIN)");
		return vlab_err_prefix(err, "lab network");
	}
	close(lfd);
	current = net;
	*out = net;
	pthread_mutex_unlock(&lock);
	return 0;
}

void vlab_labnet_release(struct vlab_labnet *net)
{
	if (!net)
		return;
	pthread_mutex_lock(&lock);
	if (--net->refs > 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (net->nsfd >= 0)
		close(net->nsfd);
	if (net->owner == getpid()) {
		char owner[128];
		int lfd = lock_owners(NULL);
		remove_ns(net->path, NULL);
		owner_path(net->owner, owner, sizeof(owner));
		unlink(owner);
		if (lfd >= 0)
			close(lfd);
	}
	if (current == net)
		current = NULL;
	free(net);
	pthread_mutex_unlock(&lock);
}

const char *vlab_labnet_path(const struct vlab_labnet *net)
{
	return net->path;
}

const char *vlab_labnet_name(const struct vlab_labnet *net)
{
	return net->name;
}

int vlab_labnet_fd(const struct vlab_labnet *net)
{
	return net->nsfd;
}

int vlab_labnet_addr_alloc(struct vlab_labnet *net, struct in_addr *out, struct vlab_err *err)
{
	/* Round robin, not the lowest free: an instance that just ended may
	 * still have its veth or TAP (named after the address) in the lab
	 * network for a moment, as network namespaces go asynchronously. */
	pthread_mutex_lock(&lock);
	const unsigned span = VLAB_LABNET_LAST - VLAB_LABNET_FIRST + 1;
	for (unsigned k = 0; k < span; k++) {
		unsigned n = VLAB_LABNET_FIRST + (net->next + k) % span;
		if (!net->used[n]) {
			net->used[n] = 1;
			net->next = (n - VLAB_LABNET_FIRST + 1) % span;
			pthread_mutex_unlock(&lock);
			out->s_addr = htonl((10u << 24) | (77u << 16) | n);
			return 0;
		}
	}
	pthread_mutex_unlock(&lock);
	return vlab_err_set(err, EADDRNOTAVAIL, "lab network: all %d addresses are in use",
			    VLAB_LABNET_LAST - VLAB_LABNET_FIRST + 1);
}

void vlab_labnet_addr_free(struct vlab_labnet *net, struct in_addr addr)
{
	uint32_t a = ntohl(addr.s_addr);
	if ((a >> 8) != ((10u << 16) | (77u << 8)))
		return;
	pthread_mutex_lock(&lock);
	net->used[a & 0xff] = 0;
	pthread_mutex_unlock(&lock);
}

char *vlab_labnet_mac_str(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

int vlab_labnet_spec_attach(struct vlab_labnet *net, struct vlab_spec *spec, struct vlab_err *err)
{
	struct in_addr a;
	char ip[INET_ADDRSTRLEN + 4], mactext[18];
	if (vlab_labnet_addr_alloc(net, &a, err) < 0)
		return vlab_err_prefix(err, "instance %s", spec->name);
	uint8_t last = (uint8_t)(ntohl(a.s_addr) & 0xff);
	const uint8_t mac[6] = {0x02, 0x76, 0x6c, 0x00, 0x00, last};
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%d", VLAB_LABNET_PREFIXLEN);
	if (vlab_spec_set(spec, "net", "on", err) < 0 ||
	    vlab_spec_set(spec, "net.ns", net->path, err) < 0 ||
	    vlab_spec_set(spec, "net.ip", ip, err) < 0 ||
	    vlab_spec_set(spec, "net.mac", vlab_labnet_mac_str(mac, mactext, sizeof(mactext)),
			  err) < 0) {
		vlab_labnet_addr_free(net, a);
		return -1;
	}
	return 0;
}

void vlab_labnet_spec_detach(struct vlab_labnet *net, const struct vlab_spec *spec)
{
	const char *ip = vlab_spec_get(spec, "net.ip");
	char text[INET_ADDRSTRLEN];
	struct in_addr a;
	if (!ip)
		return;
	snprintf(text, sizeof(text), "%.*s", (int)strcspn(ip, "/"), ip);
	if (inet_pton(AF_INET, text, &a) == 1)
		vlab_labnet_addr_free(net, a);
}

int vlab_labnet_socket(const struct vlab_labnet *net, int domain, int type, int protocol,
		       struct vlab_err *err)
{
	int saved;
	if (vlab_netns_enter(net->nsfd, &saved, err) < 0)
		return vlab_err_prefix(err, "lab network %s", net->name);
	int s = socket(domain, type | SOCK_CLOEXEC, protocol);
	int e = errno;
	if (vlab_netns_leave(saved, err) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s < 0 ? vlab_err_set(err, e, "socket in lab network %s", net->name) : s;
}

int vlab_labnet_call(const struct vlab_labnet *net, int (*fn)(void *arg), void *arg,
		     struct vlab_err *err)
{
	int saved;
	if (vlab_netns_enter(net->nsfd, &saved, err) < 0)
		return vlab_err_prefix(err, "lab network %s", net->name);
	int r = fn(arg);
	if (vlab_netns_leave(saved, err) < 0)
		return -1;
	return r;
}
