/* engines/vm/msix.c: the MSI-X table, pending bits and delivery. */
#include "engines/vm/msix.h"

#include <string.h>

#define CAP_MSIX 0x11
#define CTRL_ENABLE 0x8000
#define CTRL_MASKALL 0x4000
#define ENTRY_MASKED 1

void vm_msix_init(struct vm_msix *x, struct vm_pci_dev *d, unsigned bar, uint32_t table_off,
		  uint32_t pba_off, unsigned n, const struct vm_irq *irq)
{
	memset(x, 0, sizeof(*x));
	x->n = n > VM_MSIX_MAX ? VM_MSIX_MAX : n;
	x->table_off = table_off;
	x->pba_off = pba_off;
	x->irq = irq;
	for (unsigned i = 0; i < x->n; i++)
		x->entry[i].ctrl = ENTRY_MASKED;
	uint8_t cap[12] = {CAP_MSIX}, wmask[12] = {0};
	uint16_t ctrl = (uint16_t)(x->n - 1);
	uint32_t t = table_off | bar, p = pba_off | bar;
	memcpy(cap + 2, &ctrl, 2);
	memcpy(cap + 4, &t, 4);
	memcpy(cap + 8, &p, 4);
	wmask[3] = (CTRL_ENABLE | CTRL_MASKALL) >> 8; /* only enable and mask-all */
	x->cap = vm_pci_dev_cap(d, cap, wmask, sizeof(cap));
}

static uint16_t ctrl(const struct vm_msix *x, const struct vm_pci_dev *d)
{
	return x->cap ? vm_pci_get16(d, x->cap + 2) : 0;
}

int vm_msix_enabled(const struct vm_msix *x, const struct vm_pci_dev *d)
{
	return !!(ctrl(x, d) & CTRL_ENABLE);
}

static void send(struct vm_msix *x, unsigned v)
{
	x->pending &= ~(1ull << v);
	x->sent++;
	if (x->irq && x->irq->msi)
		x->irq->msi(x->irq->ctx, (uint64_t)x->entry[v].addr_hi << 32 | x->entry[v].addr_lo,
			    x->entry[v].data);
}

static int masked(const struct vm_msix *x, const struct vm_pci_dev *d, unsigned v)
{
	return (ctrl(x, d) & CTRL_MASKALL) || (x->entry[v].ctrl & ENTRY_MASKED);
}

void vm_msix_notify(struct vm_msix *x, const struct vm_pci_dev *d, unsigned vector)
{
	if (vector >= x->n)
		return;
	if (masked(x, d, vector))
		x->pending |= 1ull << vector;
	else
		send(x, vector);
}

/* Delivers every pending vector that is no longer masked. */
static void flush(struct vm_msix *x, const struct vm_pci_dev *d)
{
	if (!vm_msix_enabled(x, d))
		return;
	for (unsigned v = 0; v < x->n; v++)
		if ((x->pending & (1ull << v)) && !masked(x, d, v))
			send(x, v);
}

int vm_msix_read(struct vm_msix *x, uint64_t off, void *data, unsigned len)
{
	if (off >= x->table_off && off + len <= x->table_off + 16ull * x->n) {
		memcpy(data, (uint8_t *)x->entry + (off - x->table_off), len);
		return 1;
	}
	if (off >= x->pba_off && off + len <= x->pba_off + 8) {
		memcpy(data, (uint8_t *)&x->pending + (off - x->pba_off), len);
		return 1;
	}
	return 0;
}

int vm_msix_write(struct vm_msix *x, const struct vm_pci_dev *d, uint64_t off, const void *data,
		  unsigned len)
{
	if (off >= x->pba_off && off + len <= x->pba_off + 8)
		return 1; /* pending bits are read-only */
	if (off < x->table_off || off + len > x->table_off + 16ull * x->n)
		return 0;
	memcpy((uint8_t *)x->entry + (off - x->table_off), data, len);
	unsigned v = (unsigned)(off - x->table_off) / 16;
	x->entry[v].ctrl &= ENTRY_MASKED; /* other control bits are reserved */
	flush(x, d);
	return 1;
}

void vm_msix_cap_written(struct vm_msix *x, const struct vm_pci_dev *d, unsigned off, unsigned len)
{
	if (x->cap && off < x->cap + 4 && off + len > x->cap + 2)
		flush(x, d);
}
