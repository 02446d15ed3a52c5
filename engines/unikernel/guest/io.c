/* engines/unikernel/guest/io.c: the console, the control channel and
 * waiting, each one hypercall. */
#include "uk.h"
#include "net/net.h"

void uk_console_write(const void *buf, size_t len)
{
	struct uk_hc_io io = {.data = (uintptr_t)buf, .len = len};
	uk_hcall(UK_HC_CONSOLE_WRITE, &io);
}

long uk_ctl_read(void *buf, size_t len)
{
	struct uk_hc_io io = {.data = (uintptr_t)buf, .len = len};
	uk_hcall(UK_HC_CTL_READ, &io);
	return io.ret == -UK_EAGAIN ? 0 : (long)io.ret;
}

int uk_ctl_write(const void *buf, size_t len)
{
	struct uk_hc_io io = {.data = (uintptr_t)buf, .len = len};
	uk_hcall(UK_HC_CTL_WRITE, &io);
	return io.ret < 0 ? (int)io.ret : 0;
}

unsigned uk_poll(unsigned events, uint64_t timeout_ns)
{
	if (timeout_ns > UK_POLL_MAX_NS)
		timeout_ns = UK_POLL_MAX_NS;
	if (uk_netif.up)
		events |= UK_POLL_NET;
	struct uk_hc_poll p = {.timeout_ns = timeout_ns, .events = events};
	if (uk_netif.up) { /* the first frame comes with the answer */
		p.net_data = (uintptr_t)net_rx;
		p.net_len = sizeof(net_rx);
	}
	uk_hcall(UK_HC_POLL, &p);
	if (p.net_ret > 0)
		eth_input(net_rx, (size_t)p.net_ret);
	if (p.net_more || ((p.ready & UK_POLL_NET) && p.net_ret <= 0))
		uk_net_poll();
	return (unsigned)p.ready;
}
