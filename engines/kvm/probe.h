/* engines/kvm/probe.h: is this KVM hardware-assisted?  Measured, not
 * guessed: the same tiny guest loop is timed at CPL 3 and at CPL 0.  With
 * VT-x/AMD-V both run at native speed; on shadow-paging backends such as
 * kvm_pvm, CPL 0 code is emulated and thousands of times slower. */
#ifndef VLAB_ENGINES_KVM_PROBE_H
#define VLAB_ENGINES_KVM_PROBE_H

#include <stdint.h>

#include "core/err.h"

struct kvm_loop_cost {
	double ns_per_iter;  /* loop cost, exit overhead subtracted */
	uint64_t iters;      /* iterations of the longest run */
	uint64_t run_ns;     /* wall time of that run */
	uint64_t exit_ns;    /* one KVM_RUN -> port I/O exit round trip */
};

/* Times `dec rcx; jnz` at the given CPL (0 or 3) in a throwaway VM,
 * growing the count until a run lasts at least min_run_ns. */
int kvm_measure_loop(int cpl, uint64_t min_run_ns, struct kvm_loop_cost *out,
		     struct vlab_err *err);

/* Ratio above which CPL 0 is said to be emulated. */
#define KVM_EMULATED_RATIO 20.0

#endif
