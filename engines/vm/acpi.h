/* engines/vm/acpi.h: the ACPI tables that describe the machine to the
 * guest, as firmware would leave them (the Debian cloud kernel has no MP
 * table support: ACPI is how it finds CPUs, the IOAPIC and PCI routing).
 *
 *   RSDP -> XSDT -> FADT -> FACS, DSDT
 *                -> MADT: one local APIC per vCPU, the IOAPIC, overrides
 *
 * The FADT describes a PC with legacy devices (8259, PIT, UARTs, CMOS
 * clock) but no keyboard and no VGA; power off is the PM1a control
 * register (SLP_TYP 5 with SLP_EN, see power.h), reset is the FADT reset
 * register: 0xfe to the i8042's port 0x64.  The DSDT holds \_S5 and the
 * PCI host bridge (PNP0A03) with its windows (_CRS) and its interrupt
 * routing (_PRT: slot N's INTA# is GSI 16 + N), written in AML bytes. */
#ifndef VLAB_ENGINES_VM_ACPI_H
#define VLAB_ENGINES_VM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "engines/kvm/kvm.h"

#define VM_ACPI_SCI 9

/* Builds every table into buf as if buf sat at guest-physical base (the
 * RSDP first, at base).  Returns the bytes used, 0 when cap is too small. */
size_t vm_acpi_tables(uint8_t *buf, size_t cap, uint64_t base, unsigned cpus);

/* Builds the tables into guest memory at VM_ACPI; *rsdp gets the root
 * pointer's address. */
int vm_acpi_install(const struct kvm_vm *mem, unsigned cpus, uint64_t *rsdp, struct vlab_err *err);

/* Sum of len bytes (an ACPI table checksums to 0). */
uint8_t vm_acpi_sum(const void *p, size_t len);

#endif
