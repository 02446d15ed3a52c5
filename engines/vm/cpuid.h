/* engines/vm/cpuid.h: the CPU the guest believes it has.
 *
 * We start from what this host's KVM can virtualize
 * (KVM_GET_SUPPORTED_CPUID) and apply a template:
 *   - the lab's switches: NX (and PAE) shown or hidden, like the
 *     VirtualBox "Enable PAE/NX" box;
 *   - the topology: vCPU count, each vCPU's APIC ID;
 *   - "hypervisor present", so the guest knows it is a guest (and finds
 *     KVM's paravirtual clock);
 *   - conservative: also hide what slow instruction emulators lack
 *     (cmpxchg16b, xsave and the AVX state it manages, ...), for KVMs such
 *     as kvm_pvm that emulate guest kernel code. */
#ifndef VLAB_ENGINES_VM_CPUID_H
#define VLAB_ENGINES_VM_CPUID_H

#include <linux/kvm.h>

#include "core/err.h"

#define VM_CPUID_MAX 256

struct vm_cpuid_template {
	unsigned cpus;
	int pae, nx;
	int conservative;
};

/* What KVM supports, from /dev/kvm (sys_fd).  *out is malloc'ed. */
int vm_cpuid_supported(int sys_fd, struct kvm_cpuid2 **out, struct vlab_err *err);

/* Applies t to c in place for vCPU number vcpu. */
void vm_cpuid_apply(struct kvm_cpuid2 *c, const struct vm_cpuid_template *t, unsigned vcpu);

/* The entry for leaf/subleaf, NULL when absent. */
struct kvm_cpuid_entry2 *vm_cpuid_find(struct kvm_cpuid2 *c, unsigned leaf, unsigned index);

#endif
