/* engines/vm/layout.h: the guest-physical map of a vlab VM.
 *
 *   0x0000_0000  low RAM: zero page (boot_params) at 0x7000, our boot page
 *                tables at 0x9000, GDT and TSS at 0x10000, the kernel
 *                command line at 0x20000
 *   0x0009_fc00  reserved (where a PC's EBDA would be)
 *   0x000e_0000  reserved: the ACPI tables (RSDP first, where Linux looks)
 *   0x0010_0000  RAM: the kernel (protected-mode part of the bzImage) is
 *                loaded here; the initramfs goes to the top of low RAM
 *   ...          RAM up to 3 GiB
 *   0xc000_0000  PCI MMIO window: the devices' BARs
 *   0xfec0_0000  IOAPIC, 0xfee0_0000 local APICs (KVM's in-kernel irqchip)
 *   0xfffb_c000  KVM's identity-map page and TSS (KVM_SET_TSS_ADDR)
 *   0x1_0000_0000  the rest of RAM when the VM has more than 3 GiB
 */
#ifndef VLAB_ENGINES_VM_LAYOUT_H
#define VLAB_ENGINES_VM_LAYOUT_H

#define VM_ZEROPAGE 0x7000ull
#define VM_STACK_TOP 0x8ff0ull
#define VM_PT 0x9000ull
#define VM_GDT 0x10000ull
#define VM_CMDLINE 0x20000ull
#define VM_EBDA 0x9fc00ull
#define VM_LOWMEM_END 0xa0000ull
#define VM_ACPI 0xe0000ull
#define VM_ACPI_END 0x100000ull
#define VM_KERNEL 0x100000ull
#define VM_HOLE 0xc0000000ull
#define VM_PCI_MMIO 0xc0000000ull
#define VM_PCI_MMIO_SIZE 0x10000000ull
#define VM_IOAPIC 0xfec00000ull
#define VM_LAPIC 0xfee00000ull
#define VM_IDENTITY_MAP 0xfffbc000ull
#define VM_TSS 0xfffbd000ull
#define VM_HIGH 0x100000000ull
#define VM_MAP_4G 0x100000000ull /* what our boot page tables map */

#endif
