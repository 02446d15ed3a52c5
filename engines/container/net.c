/* engines/container/net.c: the container's network.
 *
 * Every container has its own network namespace: at first it holds only
 * the loopback device, which is brought up here.  With net=on the
 * container also gets a veth pair into the lab network (see labnet). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engines/container/container.h"
#include "engines/container/ct.h"

int ct_net_loopback(struct vlab_err *err)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vlab_err_set(err, errno, "socket for the loopback device");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "bring the loopback device up");
	}
	close(fd);
	return 0;
}

int ct_net_attach(const struct ct_config *cfg, pid_t init_pid, int netns_fd,
		  struct vlab_err *err)
{
	if (netns_fd >= 0)
		return vlab_labnet_add_veth(&cfg->labnet, netns_fd, "eth0", err);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open the container's network namespace");
	int r = vlab_labnet_add_veth(&cfg->labnet, fd, "eth0", err);
	close(fd);
	return r;
}

/* Making a network namespace is the dearest single step of a start (half
 * a millisecond here: the kernel sets every protocol up for it), and it
 * needs nothing else of the container: a thread makes it while the
 * runtime makes the cgroups.  unshare() moves that thread alone; the fd
 * keeps the namespace once the thread has ended. */
static void *netns_make(void *arg)
{
	struct ct_netns *ns = arg;
	if (unshare(CLONE_NEWNET) < 0) {
		vlab_err_set(&ns->err, errno, "new network namespace");
		return NULL;
	}
	ns->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0)
		vlab_err_set(&ns->err, errno, "open the new network namespace");
	return NULL;
}

void ct_netns_start(struct ct_netns *ns)
{
	pthread_attr_t a;
	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	if (pthread_attr_init(&a) != 0)
		return;
	pthread_attr_setstacksize(&a, 64 * 1024);
	/* On another CPU than ours: a new thread is otherwise often queued
	 * behind its parent on the same CPU, and nothing runs in parallel. */
	cpu_set_t cpus;
	int me = sched_getcpu();
	if (me >= 0 && sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 1) {
		CPU_CLR(me, &cpus);
		pthread_attr_setaffinity_np(&a, sizeof(cpus), &cpus);
	}
	int r = pthread_create(&ns->thread, &a, netns_make, ns);
	pthread_attr_destroy(&a);
	if (r != 0)
		vlab_err_set(&ns->err, r, "start the thread making the network namespace");
	ns->started = r == 0;
}

int ct_netns_wait(struct ct_netns *ns)
{
	if (ns->started) {
		pthread_join(ns->thread, NULL);
		ns->started = 0;
	}
	return ns->fd;
}

int ct_netns_ahead(struct ct_netns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	int fd = VLAB_CHILD_NETNS_FD;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return 0;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ns->fd = fd;
	return 1;
}

int vlab_container_netns_ahead(void)
{
	if (geteuid() != 0)
		return -1; /* (a user namespace makes its own, at the clone) */
	struct ct_netns ns;
	ct_netns_start(&ns);
	return ct_netns_wait(&ns);
}

void ct_netns_close(struct ct_netns *ns)
{
	ct_netns_wait(ns);
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}
