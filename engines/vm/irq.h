/* engines/vm/irq.h: how a device model raises an interrupt.
 *
 * Devices see an interrupt controller only through this: set a line
 * (a GSI: the legacy IRQ of a UART, a PCI INTx pin routed to the IOAPIC)
 * high or low, or send a message-signalled interrupt (MSI-X).  The
 * machine implements them with KVM_IRQ_LINE and KVM_SIGNAL_MSI on the
 * in-kernel irqchip; unit tests record the calls instead. */
#ifndef VLAB_ENGINES_VM_IRQ_H
#define VLAB_ENGINES_VM_IRQ_H

#include <stdint.h>

struct vm_irq {
	void (*line)(void *ctx, unsigned gsi, int level);
	/* An MSI: the guest-chosen message (address, data). */
	void (*msi)(void *ctx, uint64_t addr, uint32_t data);
	void *ctx;
};

static inline void vm_irq_line(const struct vm_irq *irq, unsigned gsi, int level)
{
	if (irq && irq->line)
		irq->line(irq->ctx, gsi, level);
}

#endif
