/* engines/vm/machine.c: build and tear down one virtual PC on /dev/kvm. */
#include "engines/vm/machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engines/kvm/x86.h"
#include "engines/vm/acpi.h"
#include "engines/vm/bzimage.h"
#include "engines/vm/cpuid.h"
#include "engines/vm/layout.h"

#define POST_PORT 0x80 /* POST codes; Linux's I/O delay writes here */
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x400
#define APIC_MODE_EXTINT 0x700

static void irq_line(void *ctx, unsigned gsi, int level)
{
	struct vm_machine *m = ctx;
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};
	if (level)
		vlab_counter_add(m->counters, m->c_line, 1);
	ioctl(m->kvm->fd, KVM_IRQ_LINE, &l);
}

static void irq_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct vm_machine *m = ctx;
	struct kvm_msi msi = {
	    .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data};
	vlab_counter_add(m->counters, m->c_msi, 1);
	ioctl(m->kvm->fd, KVM_SIGNAL_MSI, &msi);
}

static void power_stop(void *ctx, enum vm_stop_reason why)
{
	vm_machine_stop(ctx, why,
			why == VM_STOP_POWEROFF ? "the guest powered off"
						: "the guest reset the machine");
}

static void virtio_report(void *ctx, const char *dev, const char *why)
{
	struct vm_machine *m = ctx;
	if (m->cfg.child)
		vlab_child_log(m->cfg.child, "%s needs a reset: %s", dev, why);
}

static void post_write(void *dev, uint64_t off, const void *data, unsigned len)
{
	(void)dev, (void)off, (void)data, (void)len;
}

static const struct vm_io_ops post_ops = {.write = post_write};

static void phase(struct vm_machine *m, const char *name)
{
	if (m->cfg.child)
		vlab_child_phase(m->cfg.child, name);
}

/* The in-kernel interrupt controllers and timer, and KVM's private pages
 * in the hole below 4 GiB. */
static int create_chipset(struct vm_machine *m, struct vlab_err *err)
{
	int fd = m->kvm->fd;
	if (ioctl(fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS) < 0)
		return vlab_err_set(err, errno, "KVM_SET_TSS_ADDR");
	uint64_t idmap = VM_IDENTITY_MAP;
	if (kvm_vm_cap(m->kvm, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return vlab_err_set(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vlab_err_set(err, errno, "KVM_CREATE_IRQCHIP (PIC, IOAPIC, local APICs)");
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(fd, KVM_CREATE_PIT2, &pit) < 0)
		return vlab_err_set(err, errno, "KVM_CREATE_PIT2");
	return 0;
}

static int create_ram(struct vm_machine *m, struct vlab_err *err)
{
	uint64_t ram = m->cfg.ram_bytes, low = ram < VM_HOLE ? ram : VM_HOLE;
	if (kvm_vm_add_ram(m->kvm, 0, low, 0, NULL, err) < 0)
		return -1;
	if (ram > VM_HOLE && kvm_vm_add_ram(m->kvm, VM_HIGH, ram - VM_HOLE, 0, NULL, err) < 0)
		return -1;
	return 0;
}

/* Some KVMs (kvm_pvm) keep showing XSAVE whatever CPUID we set, yet their
 * instruction emulator lacks xsave/xrstor.  Read back what the vCPU got:
 * if XSAVE is still there against the template, the guest kernel must be
 * told (noxsave) instead. */
static int xsave_unhidden(struct kvm_vcpu *v)
{
	struct kvm_cpuid2 *got =
	    calloc(1, sizeof(*got) + VM_CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	int shown = 0;
	if (!got)
		return 0;
	got->nent = VM_CPUID_MAX;
	struct kvm_cpuid_entry2 *l1;
	if (ioctl(v->fd, KVM_GET_CPUID2, got) == 0 && (l1 = vm_cpuid_find(got, 1, 0)))
		shown = !!(l1->ecx & (1u << 26));
	free(got);
	return shown;
}

/* Each vCPU: its CPUID, and the local APIC inputs a BIOS would wire. */
static int create_vcpus(struct vm_machine *m, struct vlab_err *err)
{
	struct kvm_cpuid2 *supported = NULL, *c = NULL;
	int rc = -1;
	if (vm_cpuid_supported(m->kvm->sys_fd, &supported, err) < 0)
		return -1;
	size_t bytes = sizeof(*c) + supported->nent * sizeof(c->entries[0]);
	if (!(c = malloc(bytes))) {
		vlab_err_set(err, ENOMEM, "CPUID table");
		goto out;
	}
	struct vm_cpuid_template t = {.cpus = m->cfg.cpus,
				      .pae = m->cfg.pae,
				      .nx = m->cfg.nx,
				      .conservative = m->cfg.conservative};
	for (unsigned i = 0; i < m->cfg.cpus; i++) {
		if (kvm_vcpu_new(m->kvm, i, &m->vcpu[i], err) < 0)
			goto out;
		memcpy(c, supported, bytes);
		vm_cpuid_apply(c, &t, i);
		if (ioctl(m->vcpu[i]->fd, KVM_SET_CPUID2, c) < 0) {
			vlab_err_set(err, errno, "KVM_SET_CPUID2 on vCPU %u", i);
			goto out;
		}
		if (i == 0 && t.conservative && xsave_unhidden(m->vcpu[0])) {
			m->noxsave = 1;
			if (m->cfg.child)
				vlab_child_log(
				    m->cfg.child,
				    "this KVM shows XSAVE whatever CPUID says: the guest kernel "
				    "is told noxsave");
		}
		struct kvm_lapic_state lapic;
		if (ioctl(m->vcpu[i]->fd, KVM_GET_LAPIC, &lapic) < 0) {
			vlab_err_set(err, errno, "KVM_GET_LAPIC on vCPU %u", i);
			goto out;
		}
		uint32_t lvt0 = APIC_MODE_EXTINT, lvt1 = APIC_MODE_NMI;
		memcpy(lapic.regs + APIC_LVT0, &lvt0, 4);
		memcpy(lapic.regs + APIC_LVT1, &lvt1, 4);
		if (ioctl(m->vcpu[i]->fd, KVM_SET_LAPIC, &lapic) < 0) {
			vlab_err_set(err, errno, "KVM_SET_LAPIC on vCPU %u", i);
			goto out;
		}
	}
	rc = 0;
out:
	free(c);
	free(supported);
	return rc;
}

static int add(struct vm_machine *m, enum vm_space sp, uint64_t base, uint64_t len,
	       const struct vm_io_ops *ops, void *dev, const char *name, struct vlab_err *err)
{
	return vm_iobus_register(&m->bus, sp, base, len, ops, dev, name, err);
}

static int create_devices(struct vm_machine *m, struct vlab_err *err)
{
	struct vm_uart_host con, ctl;
	vm_machine_uart_hosts(m, &con, &ctl);
	vm_uart_init(&m->uart[0], VM_UART_COM1_IRQ, &m->irq, &con);
	vm_uart_init(&m->uart[1], VM_UART_COM2_IRQ, &m->irq, &ctl);
	vm_i8042_init(&m->kbd, &m->power);
	vm_rtc_init(&m->rtc);
	m->pm.power = &m->power;
	if (add(m, VM_PIO, VM_UART_COM1, VM_UART_PORTS, &vm_uart_ops, &m->uart[0], "uart0", err) ||
	    add(m, VM_PIO, VM_UART_COM2, VM_UART_PORTS, &vm_uart_ops, &m->uart[1], "uart1", err) ||
	    add(m, VM_PIO, VM_I8042_DATA, 1, &vm_i8042_data_ops, &m->kbd, "i8042", err) ||
	    add(m, VM_PIO, VM_I8042_CMD, 1, &vm_i8042_cmd_ops, &m->kbd, "i8042", err) ||
	    add(m, VM_PIO, VM_RTC_PORT, 2, &vm_rtc_ops, &m->rtc, "rtc", err) ||
	    add(m, VM_PIO, VM_PM1A_EVT, VM_PM_PORTS, &vm_pm_ops, &m->pm, "acpi-pm", err) ||
	    add(m, VM_PIO, POST_PORT, 1, &post_ops, NULL, "post", err))
		return -1;
	if (vm_pci_init(&m->pci, &m->bus, VM_PCI_MMIO, VM_PCI_MMIO_SIZE, err) < 0)
		return -1;
	if (m->cfg.disk_fd >= 0) {
		if (!(m->blk = malloc(sizeof(*m->blk))))
			return vlab_err_set(err, ENOMEM, "virtio-blk");
		vm_blk_init(m->blk, m->cfg.disk_fd, m->cfg.disk_bytes, m->cfg.disk_readonly,
			    "vlab-disk0", m->kvm, &m->irq, m->counters);
		m->blk->v.report = virtio_report;
		m->blk->v.report_ctx = m;
		if (vm_pci_plug(&m->pci, &m->blk->v.pci, err) < 0)
			return -1;
	}
	if (m->cfg.net_fd >= 0) {
		if (!(m->net = malloc(sizeof(*m->net))))
			return vlab_err_set(err, ENOMEM, "virtio-net");
		vm_net_init(m->net, m->cfg.net_fd, m->cfg.mac, m->kvm, &m->irq, m->counters);
		m->net->v.report = virtio_report;
		m->net->v.report_ctx = m;
		if (vm_pci_plug(&m->pci, &m->net->v.pci, err) < 0)
			return -1;
	}
	if (m->cfg.rng) {
		if (!(m->rng = malloc(sizeof(*m->rng))))
			return vlab_err_set(err, ENOMEM, "virtio-rng");
		vm_rng_init(m->rng, m->kvm, &m->irq);
		m->rng->v.report = virtio_report;
		m->rng->v.report_ctx = m;
		if (vm_pci_plug(&m->pci, &m->rng->v.pci, err) < 0)
			return -1;
	}
	return 0;
}

/* Kernel, initramfs, command line, zero page, ACPI; then the boot vCPU
 * enters the kernel's 64-bit entry point with RSI = the zero page. */
static int load(struct vm_machine *m, struct vlab_err *err)
{
	struct vm_bzimage bz;
	struct vm_boot boot;
	uint64_t rsdp;
	char cmdline[4096];
	if (snprintf(cmdline, sizeof(cmdline), "%s%s", m->cfg.cmdline,
		     m->noxsave ? " noxsave" : "") >= (int)sizeof(cmdline))
		return vlab_err_set(err, E2BIG, "kernel command line too long");
	if (vm_bzimage_parse(m->cfg.kernel, m->cfg.kernel_bytes,
			     m->cfg.kernel_name ? m->cfg.kernel_name : "kernel", &bz, err) < 0 ||
	    vm_acpi_install(m->kvm, m->cfg.cpus, &rsdp, err) < 0 ||
	    vm_bzimage_load(&bz, m->kvm, m->cfg.ram_bytes, cmdline, m->cfg.initrd,
			    m->cfg.initrd_bytes, rsdp, &boot, err) < 0)
		return -1;
	struct kvm_x86_mode mode = {
	    .pt_gpa = VM_PT,
	    .gdt_gpa = VM_GDT,
	    .map_bytes = VM_MAP_4G,
	    .cpl = 0,
	    .nx = m->cfg.nx,
	    .rip = boot.entry,
	    .rsp = VM_STACK_TOP,
	};
	if (kvm_x86_long_mode(m->vcpu[0], &mode, err) < 0)
		return -1;
	struct kvm_regs regs;
	if (ioctl(m->vcpu[0]->fd, KVM_GET_REGS, &regs) < 0)
		return vlab_err_set(err, errno, "KVM_GET_REGS");
	regs.rsi = boot.zeropage;
	if (ioctl(m->vcpu[0]->fd, KVM_SET_REGS, &regs) < 0)
		return vlab_err_set(err, errno, "KVM_SET_REGS");
	m->entry = boot.entry;
	m->zeropage = boot.zeropage;
	return 0;
}

int vm_machine_new(const struct vm_machine_config *cfg, struct vm_machine **out,
		   struct vlab_err *err)
{
	if (cfg->cpus == 0 || cfg->cpus > VM_MACHINE_MAX_CPUS)
		return vlab_err_set(err, EINVAL, "%u vCPUs: between 1 and %d", cfg->cpus,
				    VM_MACHINE_MAX_CPUS);
	struct vm_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return vlab_err_set(err, ENOMEM, "machine");
	m->cfg = *cfg;
	m->wake_fd = -1;
	m->counters = cfg->child ? cfg->child->counters : NULL;
	pthread_mutex_init(&m->con_lock, NULL);
	pthread_mutex_init(&m->ctl_lock, NULL);
	pthread_mutex_init(&m->stop_lock, NULL);
	vm_iobus_init(&m->bus, m->counters);
	vm_console_init(&m->console, cfg->console_fd, cfg->child);
	m->irq = (struct vm_irq){.line = irq_line, .msi = irq_msi, .ctx = m};
	m->power = (struct vm_power){.stop = power_stop, .ctx = m};
	for (unsigned i = 0; i < KVM_EXIT_BUCKETS; i++) {
		char name[VLAB_COUNTER_NAME];
		snprintf(name, sizeof(name), "exit.%s", kvm_exit_name(i));
		m->exit_id[i] = vlab_counters_id(m->counters, name); /* "other" shared */
	}
	/* Interrupts raised: line assertions (UARTs, INTx) and MSI-X messages. */
	m->c_line = vlab_counters_id(m->counters, "irq.line");
	m->c_msi = vlab_counters_id(m->counters, "irq.msi");
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0) {
		vlab_err_set(err, errno, "eventfd");
		goto fail;
	}
	if (kvm_vm_new(&m->kvm, err) < 0)
		goto fail;
	if (create_chipset(m, err) < 0 || create_ram(m, err) < 0 || create_vcpus(m, err) < 0)
		goto fail;
	phase(m, "kvm");
	if (create_devices(m, err) < 0 || load(m, err) < 0)
		goto fail;
	phase(m, "load");
	*out = m;
	return 0;
fail:
	vm_machine_free(m);
	return -1;
}

void vm_machine_stop(struct vm_machine *m, enum vm_stop_reason why, const char *detail)
{
	pthread_mutex_lock(&m->stop_lock);
	int first = m->stop == VM_RUNNING;
	if (first) {
		snprintf(m->stop_detail, sizeof(m->stop_detail), "%s", detail ? detail : "");
		__atomic_store_n(&m->stop, why, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->stop_lock);
	if (first) {
		vm_vcpus_kick(m);
		vm_machine_wake(m);
	}
}

void vm_machine_free(struct vm_machine *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < VM_MACHINE_MAX_CPUS; i++)
		kvm_vcpu_free(m->vcpu[i]);
	if (m->blk) {
		vm_blk_destroy(m->blk);
		free(m->blk);
	}
	if (m->net) {
		vm_net_destroy(m->net);
		free(m->net);
	}
	if (m->rng) {
		vm_rng_destroy(m->rng);
		free(m->rng);
	}
	kvm_vm_free(m->kvm);
	vm_pci_destroy(&m->pci);
	vm_uart_destroy(&m->uart[0]);
	vm_uart_destroy(&m->uart[1]);
	vm_i8042_destroy(&m->kbd);
	vm_rtc_destroy(&m->rtc);
	vm_console_destroy(&m->console);
	vm_iobus_destroy(&m->bus);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	pthread_mutex_destroy(&m->con_lock);
	pthread_mutex_destroy(&m->ctl_lock);
	pthread_mutex_destroy(&m->stop_lock);
	free(m);
}
