/* engines/unikernel/guest/agent/main.c: the unikernel image's application:
 * the probe agent (workloads/), on the library OS through its platform
 * shim.  The command line may carry hostname=NAME. */
#include "uk.h"
#include "workloads/agent.h"

void plat_uk_init(int argc, char **argv);

int main(int argc, char **argv)
{
	plat_uk_init(argc, argv);
	return wl_agent_serve();
}
