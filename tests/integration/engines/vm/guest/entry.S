/* entry.S: the protected-mode part's first bytes.  0x100000 is the 32-bit
 * entry (unused: it stops), 0x100200 the 64-bit one: the VMM arrives here
 * in long mode at CPL 0 with RSI = the zero page (boot_params). */
	.section .entry, "ax"
	.code64
	.globl _start
_start:
	cli
1:	hlt
	jmp 1b
	.org 0x200
entry64:
	cli
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi			/* main(boot_params) */
	call guest_main
2:	cli
	hlt
	jmp 2b

	.section .bss
	.balign 16
	.space 16384
stack_top:
