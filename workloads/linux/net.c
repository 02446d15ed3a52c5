/* workloads/linux/net.c: UDP sockets for the echo server. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "workloads/linux/internal.h"
#include "workloads/platform.h"

int plat_udp_open(uint16_t port, uint16_t *bound)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return plat_linux_fail(PLAT_EIO, errno, "socket");
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(s);
		return plat_linux_fail(e == EADDRINUSE ? PLAT_EBUSY
				       : e == EACCES   ? PLAT_EINVAL
						       : PLAT_EIO,
				       e, "bind UDP port %u", (unsigned)port);
	}
	socklen_t len = sizeof(a);
	if (getsockname(s, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		close(s);
		return plat_linux_fail(PLAT_EIO, e, "getsockname");
	}
	*bound = ntohs(a.sin_port);
	return s;
}

long plat_udp_recv(int sock, void *buf, size_t len, struct plat_addr *from)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	ssize_t n = recvfrom(sock, buf, len, MSG_DONTWAIT, (struct sockaddr *)&a, &alen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* An ICMP error queued by an earlier send: not ours to fail on. */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
			return 0;
		return plat_linux_fail(PLAT_EIO, errno, "recvfrom");
	}
	memcpy(from->ip, &a.sin_addr.s_addr, 4);
	from->port = ntohs(a.sin_port);
	return (long)n;
}

int plat_udp_send(int sock, const void *buf, size_t len, const struct plat_addr *to)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(to->port)};
	memcpy(&a.sin_addr.s_addr, to->ip, 4);
	ssize_t n;
	do
		n = sendto(sock, buf, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return plat_linux_fail(PLAT_EIO, errno, "sendto");
	return 0;
}

void plat_udp_close(int sock)
{
	if (sock >= 0)
		close(sock);
}
