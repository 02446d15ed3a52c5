/* engines/kvm/kvm.h: the KVM plumbing the vm and unikernel engines share:
 * open /dev/kvm, create a VM, map guest RAM, create vCPUs, run them and
 * count every exit by reason.
 *
 * Guest memory is untrusted: kvm_gpa() is the one helper that turns a
 * guest-physical range into a host pointer, and it refuses any range that
 * is not wholly inside one RAM slot (overflow included). */
#ifndef VLAB_ENGINES_KVM_KVM_H
#define VLAB_ENGINES_KVM_KVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define KVM_MAX_SLOTS 8
/* Exit reasons we count individually; larger ones go to the last bucket. */
#define KVM_EXIT_BUCKETS 64

struct kvm_slot {
	uint64_t gpa, size;
	uint8_t *hva;
	uint32_t flags;
};

struct kvm_vm {
	int sys_fd;   /* /dev/kvm */
	int fd;       /* the VM */
	int run_size; /* size of each vCPU's kvm_run mapping */
	struct kvm_slot slots[KVM_MAX_SLOTS];
	unsigned nslots;
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	int fd;
	unsigned id;
	struct kvm_run *run;
	uint64_t exits[KVM_EXIT_BUCKETS]; /* by exit reason */
	uint64_t nexits;
};

/* Opens /dev/kvm, checks the API version and creates an empty VM. */
int kvm_vm_new(struct kvm_vm **out, struct vlab_err *err);

/* Maps size bytes of fresh anonymous memory at guest-physical gpa (both
 * page aligned) as one slot; *hva (optional) receives the host address.
 * flags: KVM_MEM_* (0 for plain RAM). */
int kvm_vm_add_ram(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint32_t flags,
		   uint8_t **hva, struct vlab_err *err);

/* Host pointer for guest-physical [gpa, gpa+len), or NULL when any byte of
 * it lies outside guest RAM or the sum overflows. */
void *kvm_gpa(const struct kvm_vm *vm, uint64_t gpa, uint64_t len);

/* KVM_CHECK_EXTENSION on the VM (falls back to /dev/kvm); <= 0: absent. */
int kvm_vm_cap(const struct kvm_vm *vm, long cap);

/* Unmaps RAM and closes the VM (its vCPUs must be freed first). */
void kvm_vm_free(struct kvm_vm *vm);

/* Creates vCPU number id and maps its kvm_run area. */
int kvm_vcpu_new(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out, struct vlab_err *err);

/* One KVM_RUN.  Returns the exit reason (KVM_EXIT_*, counted in
 * vcpu->exits), KVM_EXIT_INTR when a signal interrupted it, or -1 with err. */
int kvm_vcpu_run(struct kvm_vcpu *vcpu, struct vlab_err *err);

void kvm_vcpu_free(struct kvm_vcpu *vcpu);

/* "io", "mmio", "hlt", "shutdown", ... for an exit reason. */
const char *kvm_exit_name(unsigned reason);

#endif
