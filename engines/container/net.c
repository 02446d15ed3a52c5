/* engines/container/net.c: the container's network.
 *
 * Every container has its own network namespace: at first it holds only
 * the loopback device, which is brought up here.  With net=on the
 * container also gets a veth pair into the lab network (see labnet). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

int ct_net_attach(const struct ct_config *cfg, pid_t init_pid, struct vlab_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open the container's network namespace");
	int r = vlab_labnet_add_veth(&cfg->labnet, fd, "eth0", err);
	close(fd);
	return r;
}
