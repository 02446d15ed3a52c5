/* setup.S: the test guest's bzImage setup part: one boot sector and one
 * setup sector carrying the Linux boot protocol's setup header (boot.rst),
 * so vlab's VMM loads this guest exactly as it loads Linux: protected-mode
 * part at 1 MiB, 64-bit entry point at 1 MiB + 0x200.  There is no
 * real-mode code: a boot loader that uses the 64-bit entry never runs it. */
	.section .setup, "a"
	.code16
	.org 0x1f1
setup_sects:	.byte 1			/* one setup sector after the boot sector */
root_flags:	.word 0
syssize:	.long _syssize		/* protected-mode part, in 16-byte units */
ram_size:	.word 0
vid_mode:	.word 0xffff
root_dev:	.word 0
boot_flag:	.word 0xaa55
	.org 0x200
	.byte 0xeb, hdr_end - 0x202	/* jmp: tells where the header ends */
	.ascii "HdrS"
version:	.word 0x020f
realmode_swtch:	.long 0
start_sys_seg:	.word 0
kernel_version:	.word 0
type_of_loader:	.byte 0
loadflags:	.byte 0x01		/* LOADED_HIGH */
setup_move_size: .word 0
code32_start:	.long 0x100000
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x200000
relocatable_kernel: .byte 0
min_alignment:	.byte 21
xloadflags:	.word 0x0001		/* XLF_KERNEL_64: 64-bit entry at +0x200 */
cmdline_size:	.long 255
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad 0x100000
init_size:	.long _init_size	/* image plus bss, from 1 MiB */
handover_offset: .long 0
kernel_info_offset: .long 0
hdr_end:
	.org 0x400
