/* bench/kvm_floor.c: the raw KVM floor, the least a process can do to run
 * guest code: open /dev/kvm, create a VM with one page of memory and one
 * vCPU, run it to its first exit, tear it all down.  The vCPU starts as
 * the CPU does at reset (real mode, first instruction at 0xfffffff0), so
 * no register is even set: the page there holds `out 0x10, al`.
 *
 * Only libc: the benchmark starts it as a fresh process, and the time to
 * its first exit and to its end is the floor every KVM-based instance
 * (our unikernel monitor included) stands on.  With fd 3 open it writes
 * one byte there at the first exit, so the parent can time that moment. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int notify = argc > 1 ? atoi(argv[1]) : -1;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm_floor: open /dev/kvm");
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || mem == MAP_FAILED) {
		perror("kvm_floor: create VM");
		return 1;
	}
	mem[0xff0] = 0xe6; /* out 0x10, al */
	mem[0xff1] = 0x10;
	struct kvm_userspace_memory_region r = {
	    .slot = 0,
	    .guest_phys_addr = 0xfffff000,
	    .memory_size = 4096,
	    .userspace_addr = (uintptr_t)mem,
	};
	int vcpu = -1;
	long run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0 ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 || run_size <= 0) {
		perror("kvm_floor: memory or vCPU");
		return 1;
	}
	struct kvm_run *run =
	    mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_RUN, 0) < 0) {
		perror("kvm_floor: run");
		return 1;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
		fprintf(stderr, "kvm_floor: unexpected exit %u\n", run->exit_reason);
		return 1;
	}
	if (notify >= 0 && write(notify, "x", 1) != 1)
		return 1;
	munmap(run, (size_t)run_size);
	close(vcpu);
	close(vm);
	munmap(mem, 4096);
	close(kvm);
	return 0;
}
