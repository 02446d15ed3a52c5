/* programs/vlab-unikernel.c: the unikernel's monitor as a program of its
 * own, the way Solo5's hvt tender is separate from the rest of Solo5: what
 * stays resident beside the guest is the monitor and little else, which is
 * what a student measures as the unikernel's footprint. */
#include "programs/program.h"

extern const struct vlab_engine vlab_engine_unikernel;

int main(int argc, char **argv)
{
	return vlab_program_main(argc, argv, &vlab_engine_unikernel, NULL);
}
