/* engines/unikernel/guest/start.S: the first instructions the guest runs.
 * The monitor enters here at CPL 3 in 64-bit mode with rdi = the boot info
 * and rsp = the top of RAM.  Stamp the TSC (the monitor turns it into the
 * "first-insn" startup phase), align the stack and enter C. */
#include "engines/unikernel/uk_abi.h"

	.section .text.boot, "ax"
	.globl _start
	.type _start, @function
_start:
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, UK_BOOT_FIRST_TSC_OFFSET(%rdi)
	and $-16, %rsp
	xor %ebp, %ebp
	call uk_boot
	ud2
	.size _start, . - _start
	.section .note.GNU-stack, "", @progbits
