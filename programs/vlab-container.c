/* programs/vlab-container.c: the container runtime as a program of its own,
 * as crun and runc are: a smaller process to start, and to fork into the
 * container's init and program, than vlab with its terminal UI and Lua. */
#include "engines/container/container.h"
#include "programs/program.h"

extern const struct vlab_engine vlab_engine_container;

int main(int argc, char **argv)
{
	return vlab_program_main(argc, argv, &vlab_engine_container, vlab_container_netns_ahead);
}
