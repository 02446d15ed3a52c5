/* engines/kvm/kvm.c: VMs, RAM slots and vCPUs on /dev/kvm. */
#include "engines/kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int kvm_vm_new(struct kvm_vm **out, struct vlab_err *err)
{
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return vlab_err_set(err, ENOMEM, "kvm vm");
	vm->fd = -1;
	vm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		vlab_err_set(err, errno, "open /dev/kvm");
		goto fail;
	}
	int api = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		vlab_err_set(err, EINVAL, "KVM API version %d, expected %d", api, KVM_API_VERSION);
		goto fail;
	}
	do
		vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	while (vm->fd < 0 && errno == EINTR);
	if (vm->fd < 0) {
		vlab_err_set(err, errno, "KVM_CREATE_VM");
		goto fail;
	}
	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		vlab_err_set(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	*out = vm;
	return 0;
fail:
	kvm_vm_free(vm);
	return -1;
}

int kvm_vm_add_ram(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint32_t flags,
		   uint8_t **hva, struct vlab_err *err)
{
	long page = sysconf(_SC_PAGESIZE);
	if (size == 0 || (gpa | size) & (uint64_t)(page - 1) || gpa + size < gpa)
		return vlab_err_set(err, EINVAL, "guest RAM at %#llx size %#llx is not page aligned",
				    (unsigned long long)gpa, (unsigned long long)size);
	if (vm->nslots == KVM_MAX_SLOTS)
		return vlab_err_set(err, ENOSPC, "more than %d RAM slots", KVM_MAX_SLOTS);
	for (unsigned i = 0; i < vm->nslots; i++) {
		const struct kvm_slot *s = &vm->slots[i];
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return vlab_err_set(err, EEXIST, "guest RAM at %#llx overlaps slot %u",
					    (unsigned long long)gpa, i);
	}
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);
	if (mem == MAP_FAILED)
		return vlab_err_set(err, errno, "allocate %llu bytes of guest RAM",
				    (unsigned long long)size);
	madvise(mem, size, MADV_MERGEABLE);
	struct kvm_userspace_memory_region r = {
		.slot = vm->nslots,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int e = errno;
		munmap(mem, size);
		return vlab_err_set(err, e, "map guest RAM slot %u", r.slot);
	}
	vm->slots[vm->nslots++] = (struct kvm_slot){.gpa = gpa, .size = size, .hva = mem, .flags = flags};
	if (hva)
		*hva = mem;
	return 0;
}

void *kvm_gpa(const struct kvm_vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	for (unsigned i = 0; i < vm->nslots; i++) {
		const struct kvm_slot *s = &vm->slots[i];
		if (gpa >= s->gpa && gpa - s->gpa <= s->size && len <= s->size - (gpa - s->gpa))
			return s->hva + (gpa - s->gpa);
	}
	return NULL;
}

int kvm_vm_cap(const struct kvm_vm *vm, long cap)
{
	int r = ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);
	if (r < 0)
		r = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, cap);
	return r;
}

void kvm_vm_free(struct kvm_vm *vm)
{
	if (!vm)
		return;
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	for (unsigned i = 0; i < vm->nslots; i++)
		munmap(vm->slots[i].hva, vm->slots[i].size);
	free(vm);
}

int kvm_vcpu_new(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out, struct vlab_err *err)
{
	struct kvm_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return vlab_err_set(err, ENOMEM, "vcpu");
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		vlab_err_set(err, errno, "KVM_CREATE_VCPU %u", id);
		free(v);
		return -1;
	}
	fcntl(v->fd, F_SETFD, FD_CLOEXEC);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		vlab_err_set(err, errno, "map kvm_run of vcpu %u", id);
		close(v->fd);
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu, struct vlab_err *err)
{
	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			vcpu->exits[KVM_EXIT_INTR]++;
			vcpu->nexits++;
			return KVM_EXIT_INTR;
		}
		return vlab_err_set(err, errno, "KVM_RUN on vcpu %u", vcpu->id);
	}
	unsigned r = vcpu->run->exit_reason;
	vcpu->exits[r < KVM_EXIT_BUCKETS ? r : KVM_EXIT_BUCKETS - 1]++;
	vcpu->nexits++;
	return (int)r;
}

void kvm_vcpu_free(struct kvm_vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, (size_t)vcpu->vm->run_size);
	close(vcpu->fd);
	free(vcpu);
}

const char *kvm_exit_name(unsigned reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "unknown";
	case KVM_EXIT_EXCEPTION: return "exception";
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_HYPERCALL: return "hypercall";
	case KVM_EXIT_DEBUG: return "debug";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
	case KVM_EXIT_INTR: return "intr";
	case KVM_EXIT_SET_TPR: return "set_tpr";
	case KVM_EXIT_TPR_ACCESS: return "tpr_access";
	case KVM_EXIT_NMI: return "nmi";
	case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
	case KVM_EXIT_SYSTEM_EVENT: return "system_event";
	case KVM_EXIT_X86_RDMSR: return "rdmsr";
	case KVM_EXIT_X86_WRMSR: return "wrmsr";
	default: return "other";
	}
}
