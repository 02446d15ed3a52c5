/* engines/vm/acpi.c: RSDP, XSDT, FADT, FACS, DSDT (in AML) and MADT. */
#include "engines/vm/acpi.h"

#include <errno.h>
#include <string.h>

#include "engines/vm/i8042.h"
#include "engines/vm/layout.h"
#include "engines/vm/pci.h"
#include "engines/vm/power.h"

#define OEM_ID "VLAB  "
#define OEM_TABLE "VLABVMM "
#define HDR 36

uint8_t vm_acpi_sum(const void *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + ((const uint8_t *)p)[i]);
	return s;
}

/* A byte builder; overflow is remembered and reported at the end. */
struct buf {
	uint8_t *p;
	size_t n, cap;
	int full;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void u16(struct buf *b, uint16_t v)
{
	put(b, &v, 2);
}

static void u32(struct buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void u64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void align(struct buf *b, size_t a)
{
	while (b->n % a && !b->full)
		u8(b, 0);
}

/* ---- AML: just the terms the DSDT needs ---- */

/* PkgLength counts its own bytes (ACPI 6, 20.2.4). */
static void aml_pkglen(struct buf *b, size_t body)
{
	size_t len = body + 1;
	if (len < 0x40) {
		u8(b, (uint8_t)len);
		return;
	}
	len = body + 2;
	if (len < 0x1000) {
		u8(b, (uint8_t)(0x40 | (len & 0xf)));
		u8(b, (uint8_t)(len >> 4));
		return;
	}
	len = body + 3;
	u8(b, (uint8_t)(0x80 | (len & 0xf)));
	u8(b, (uint8_t)(len >> 4));
	u8(b, (uint8_t)(len >> 12));
}

static void aml_int(struct buf *b, uint64_t v)
{
	if (v <= 1) {
		u8(b, (uint8_t)v); /* ZeroOp, OneOp */
	} else if (v <= 0xff) {
		u8(b, 0x0a);
		u8(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		u8(b, 0x0b);
		u16(b, (uint16_t)v);
	} else if (v <= 0xffffffff) {
		u8(b, 0x0c);
		u32(b, (uint32_t)v);
	} else {
		u8(b, 0x0e);
		u64(b, v);
	}
}

/* Opcode(s), PkgLength, then body. */
static void aml_wrap(struct buf *b, const uint8_t *op, size_t oplen, const struct buf *body)
{
	put(b, op, oplen);
	aml_pkglen(b, body->n);
	put(b, body->p, body->n);
	b->full |= body->full;
}

static void aml_name_int(struct buf *b, const char *seg, uint64_t v)
{
	u8(b, 0x08); /* NameOp */
	put(b, seg, 4);
	aml_int(b, v);
}

/* "PNP0A03" as a compressed EISA ID. */
static uint32_t eisa_id(const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v = (uint32_t)(((id[0] - 0x40) & 0x1f) << 10 | ((id[1] - 0x40) & 0x1f) << 5 |
				((id[2] - 0x40) & 0x1f));
	uint32_t d = 0;
	for (int i = 3; i < 7; i++)
		d = d << 4 | (uint32_t)(strchr(hex, id[i]) - hex);
	/* Both halves big endian in a little-endian dword. */
	return (v >> 8 & 0xff) | (v & 0xff) << 8 | (d >> 8 & 0xff) << 16 | (d & 0xff) << 24;
}

/* Word or DWord address space descriptors (ACPI 6, 6.4.3.5). */
static void res_word(struct buf *b, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	u8(b, 0x88);
	u16(b, 13);
	u8(b, type);
	u8(b, 0x0c); /* min and max fixed, positive decode */
	u8(b, tflags);
	u16(b, 0); /* granularity */
	u16(b, min);
	u16(b, max);
	u16(b, 0); /* translation */
	u16(b, (uint16_t)(max - min + 1));
}

static void res_dword_mem(struct buf *b, uint32_t min, uint32_t max)
{
	u8(b, 0x87);
	u16(b, 23);
	u8(b, 0);    /* memory */
	u8(b, 0x0c); /* min and max fixed */
	u8(b, 0x01); /* read-write, non-cacheable */
	u32(b, 0);
	u32(b, min);
	u32(b, max);
	u32(b, 0);
	u32(b, max - min + 1);
}

/* Device(\_SB.PCI0): the host bridge, its windows and INTx routing. */
static void dsdt_pci(struct buf *out)
{
	uint8_t crs_b[256], dev_b[2048], scope_b[2048], prt_b[1024], pkg_b[64];
	struct buf crs = {crs_b, 0, sizeof(crs_b), 0};
	res_word(&crs, 2, 0, 0, 0); /* bus 0 */
	u8(&crs, 0x47);		    /* IO: the configuration ports */
	u8(&crs, 1);
	u16(&crs, VM_PCI_CONFIG_ADDR);
	u16(&crs, VM_PCI_CONFIG_ADDR);
	u8(&crs, 1);
	u8(&crs, 8);
	res_word(&crs, 1, 3, 0x0000, 0x0cf7);
	res_word(&crs, 1, 3, 0x0d00, 0xffff);
	res_dword_mem(&crs, (uint32_t)VM_PCI_MMIO, (uint32_t)(VM_PCI_MMIO + VM_PCI_MMIO_SIZE - 1));
	u8(&crs, 0x79); /* end tag, checksum 0: "ignore" */
	u8(&crs, 0);

	/* _PRT: Package { Package { address (slot << 16 | 0xffff), pin, 0, GSI } } */
	struct buf prt = {prt_b, 0, sizeof(prt_b), 0};
	u8(&prt, VM_PCI_SLOTS - 1);
	for (unsigned s = 1; s < VM_PCI_SLOTS; s++) {
		struct buf pkg = {pkg_b, 0, sizeof(pkg_b), 0};
		u8(&pkg, 4);
		aml_int(&pkg, (uint64_t)s << 16 | 0xffff);
		aml_int(&pkg, 0); /* INTA# */
		aml_int(&pkg, 0); /* no link device: a global interrupt */
		aml_int(&pkg, VM_PCI_GSI_BASE + s);
		aml_wrap(&prt, (const uint8_t *)"\x12", 1, &pkg);
	}

	struct buf dev = {dev_b, 0, sizeof(dev_b), 0};
	put(&dev, "PCI0", 4);
	aml_name_int(&dev, "_HID", eisa_id("PNP0A03"));
	aml_name_int(&dev, "_ADR", 0);
	aml_name_int(&dev, "_UID", 0);
	aml_name_int(&dev, "_SEG", 0);
	aml_name_int(&dev, "_BBN", 0);
	u8(&dev, 0x08);
	put(&dev, "_CRS", 4);
	uint8_t size_b[16];
	struct buf size = {size_b, 0, sizeof(size_b), 0};
	aml_int(&size, crs.n);
	uint8_t bufbody_b[300];
	struct buf bufbody = {bufbody_b, 0, sizeof(bufbody_b), 0};
	put(&bufbody, size.p, size.n);
	put(&bufbody, crs.p, crs.n);
	aml_wrap(&dev, (const uint8_t *)"\x11", 1, &bufbody); /* BufferOp */
	u8(&dev, 0x08);
	put(&dev, "_PRT", 4);
	aml_wrap(&dev, (const uint8_t *)"\x12", 1, &prt);

	struct buf scope = {scope_b, 0, sizeof(scope_b), 0};
	put(&scope, "\\_SB_", 5);
	aml_wrap(&scope, (const uint8_t *)"\x5b\x82", 2, &dev); /* DeviceOp */
	aml_wrap(out, (const uint8_t *)"\x10", 1, &scope);	/* ScopeOp */
}

/* ---- tables ---- */

static size_t header(struct buf *b, const char *sig, uint8_t rev)
{
	size_t at = b->n;
	put(b, sig, 4);
	u32(b, 0); /* length, fixed up by finish() */
	u8(b, rev);
	u8(b, 0); /* checksum */
	put(b, OEM_ID, 6);
	put(b, OEM_TABLE, 8);
	u32(b, 1);
	put(b, "VLAB", 4);
	u32(b, 1);
	return at;
}

static void finish(struct buf *b, size_t at)
{
	if (b->full)
		return;
	uint32_t len = (uint32_t)(b->n - at);
	memcpy(b->p + at + 4, &len, 4);
	b->p[at + 9] = (uint8_t)(0 - vm_acpi_sum(b->p + at, len));
}

/* Generic Address Structure in system I/O space. */
static void gas_io(struct buf *b, uint16_t port, uint8_t bits)
{
	u8(b, port ? 1 : 0);
	u8(b, port ? bits : 0);
	u8(b, 0);
	u8(b, port ? (bits == 8 ? 1 : bits == 16 ? 2 : 3) : 0);
	u64(b, port);
}

static void fadt(struct buf *b, uint64_t facs, uint64_t dsdt)
{
	size_t at = header(b, "FACP", 6);
	u32(b, 0); /* FIRMWARE_CTRL: 0 since X_FIRMWARE_CTRL has it (ACPI 6, 5.2.9) */
	u32(b, (uint32_t)dsdt);
	u8(b, 0);
	u8(b, 0);	     /* preferred PM profile: unspecified */
	u16(b, VM_ACPI_SCI); /* SCI interrupt (never raised) */
	u32(b, 0);	     /* no SMI command port: always in ACPI mode */
	u32(b, 0);	     /* ACPI enable/disable, S4BIOS, P-state */
	u32(b, VM_PM1A_EVT);
	u32(b, 0);
	u32(b, VM_PM1A_CNT);
	u32(b, 0);
	u32(b, 0); /* PM2 */
	u32(b, 0); /* no PM timer: kvm-clock and the TSC are better */
	u32(b, 0); /* no GPE blocks */
	u32(b, 0);
	u8(b, 4); /* PM1 event block length */
	u8(b, 2); /* PM1 control block length */
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u16(b, 101);  /* C2 latency > 100: no C2 */
	u16(b, 1001); /* C3 latency > 1000: no C3 */
	u16(b, 0);
	u16(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0);
	u8(b, 0x32); /* CMOS century register */
	/* IA-PC boot flags: legacy devices, no VGA; no 8042 (no keyboard). */
	u16(b, 0x0001 | 0x0004);
	u8(b, 0);
	/* Flags: WBINVD, C1 on all CPUs, power and sleep buttons are not
	 * fixed features, reset register supported. */
	u32(b, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5 | 1u << 10);
	gas_io(b, VM_I8042_CMD, 8); /* reset register */
	u8(b, 0xfe);		    /* reset value: pulse reset */
	u16(b, 0);		    /* ARM boot flags */
	u8(b, 0);		    /* minor version */
	u64(b, facs);
	u64(b, dsdt);
	gas_io(b, VM_PM1A_EVT, 32);
	gas_io(b, 0, 0);
	gas_io(b, VM_PM1A_CNT, 16);
	gas_io(b, 0, 0);
	gas_io(b, 0, 0);       /* PM2 */
	gas_io(b, 0, 0);       /* PM timer */
	gas_io(b, 0, 0);       /* GPE0 */
	gas_io(b, 0, 0);       /* GPE1 */
	gas_io(b, 0, 0);       /* sleep control (hardware-reduced only) */
	gas_io(b, 0, 0);       /* sleep status */
	put(b, "VLABVMM ", 8); /* hypervisor vendor */
	finish(b, at);
}

static void madt(struct buf *b, unsigned cpus)
{
	size_t at = header(b, "APIC", 4);
	u32(b, (uint32_t)VM_LAPIC);
	u32(b, 1); /* PCAT_COMPAT: there are 8259s too */
	for (unsigned i = 0; i < cpus; i++) {
		u8(b, 0); /* processor local APIC */
		u8(b, 8);
		u8(b, (uint8_t)i); /* processor UID */
		u8(b, (uint8_t)i); /* APIC ID: the vCPU number */
		u32(b, 1);	   /* enabled */
	}
	u8(b, 1); /* IOAPIC */
	u8(b, 12);
	u8(b, 0); /* its ID: what KVM's IOAPIC reports */
	u8(b, 0);
	u32(b, (uint32_t)VM_IOAPIC);
	u32(b, 0); /* GSI base */
	/* The SCI, as ACPI says it is wired: level, active high. */
	u8(b, 2);
	u8(b, 10);
	u8(b, 0); /* ISA */
	u8(b, VM_ACPI_SCI);
	u32(b, VM_ACPI_SCI);
	u16(b, 0x000d);
	u8(b, 4); /* LINT1 of every CPU is NMI */
	u8(b, 6);
	u8(b, 0xff);
	u16(b, 0);
	u8(b, 1);
	finish(b, at);
}

size_t vm_acpi_tables(uint8_t *buf, size_t cap, uint64_t base, unsigned cpus)
{
	struct buf b = {buf, 0, cap, 0};
	memset(buf, 0, cap);
	/* RSDP (ACPI 2.0+): 36 bytes, checksums over 20 and over 36. */
	put(&b, "RSD PTR ", 8);
	u8(&b, 0);
	put(&b, OEM_ID, 6);
	u8(&b, 2);
	u32(&b, 0); /* no RSDT: the XSDT serves */
	u32(&b, 36);
	size_t xsdt_ptr = b.n;
	u64(&b, 0);
	u8(&b, 0);
	put(&b, "\0\0\0", 3);

	align(&b, 64);
	size_t facs = b.n;
	uint8_t f[64] = {'F', 'A', 'C', 'S', 64};
	f[32] = 2; /* version */
	put(&b, f, sizeof(f));

	size_t dsdt = b.n;
	header(&b, "DSDT", 2);
	/* Name (_S5, Package () { 5, 5, 0, 0 }): the power-off sleep type. */
	uint8_t s5_b[16];
	struct buf s5 = {s5_b, 0, sizeof(s5_b), 0};
	u8(&s5, 4);
	aml_int(&s5, VM_PM_SLP_TYP_S5);
	aml_int(&s5, VM_PM_SLP_TYP_S5);
	aml_int(&s5, 0);
	aml_int(&s5, 0);
	u8(&b, 0x08);
	put(&b, "_S5_", 4);
	aml_wrap(&b, (const uint8_t *)"\x12", 1, &s5);
	dsdt_pci(&b);
	finish(&b, dsdt);

	align(&b, 8);
	size_t fadt_at = b.n;
	fadt(&b, base + facs, base + dsdt);
	align(&b, 8);
	size_t madt_at = b.n;
	madt(&b, cpus);
	align(&b, 8);
	size_t xsdt = b.n;
	header(&b, "XSDT", 1);
	u64(&b, base + fadt_at);
	u64(&b, base + madt_at);
	finish(&b, xsdt);
	if (b.full)
		return 0;

	uint64_t xa = base + xsdt;
	memcpy(buf + xsdt_ptr, &xa, 8);
	buf[8] = (uint8_t)(0 - vm_acpi_sum(buf, 20));
	buf[32] = (uint8_t)(0 - vm_acpi_sum(buf, 36));
	return b.n;
}

int vm_acpi_install(const struct kvm_vm *mem, unsigned cpus, uint64_t *rsdp, struct vlab_err *err)
{
	size_t cap = VM_ACPI_END - VM_ACPI;
	uint8_t *p = kvm_gpa(mem, VM_ACPI, cap);
	if (!p)
		return vlab_err_set(err, EFAULT, "ACPI area outside guest RAM");
	if (!vm_acpi_tables(p, cap, VM_ACPI, cpus))
		return vlab_err_set(err, ENOSPC, "ACPI tables for %u CPUs do not fit in %zu bytes",
				    cpus, cap);
	*rsdp = VM_ACPI;
	return 0;
}
