/* main.c: vlab's test guest, a few hundred lines of freestanding C that
 * run on the VMM's real vCPU (at CPL 0: emulated, slowly, on KVMs such as
 * kvm_pvm, so it stays small).  It proves each part of the machine:
 *
 *   ttyS0   prints a greeting and the command line it was booted with
 *   ttyS1   prints READY, then answers one request per line, the agent
 *           protocol's way ("<id> <verb>" -> "<id> ok ..."):
 *             boot      what the boot loader handed over (e820, ACPI, cmdline)
 *             cpuid     what CPUID says (leaves 1, 7 and 0x80000001)
 *             pci       the devices on bus 0, by mechanism #1
 *             blk       read sector 0, write and read back sector 1, and a
 *                       read past the end, through virtio-blk
 *             net       send one Ethernet frame through virtio-net
 *             poweroff  answer, then power off through ACPI (PM1a, S5)
 *             reboot    answer, then reset through the i8042 (command 0xfe)
 *             crash     answer, then fault with no IDT: a triple fault
 *
 * The drivers find everything the way an OS does: the virtio capabilities
 * in configuration space, the queue sizes in the common configuration. */
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3f8
#define COM2 0x2f8
#define LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define PM1A_CNT 0x604
#define SLP_S5 ((5 << 10) | (1 << 13))

/* ---- freestanding basics ---- */

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define barrier() __asm__ volatile("mfence" ::: "memory")

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* ---- serial ---- */

static void put(uint16_t com, const char *s)
{
	for (; *s; s++) {
		/* ttyS1 holds us back while the host is not reading. */
		if (com == COM2)
			while (!(inb(COM2 + LSR) & LSR_THRE))
				__asm__ volatile("pause");
		outb(com, (uint8_t)*s);
	}
}

/* A growing reply line. */
struct line {
	char b[512];
	unsigned n;
};

static void add(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = *s++;
	l->b[l->n] = 0;
}

static void add_num(struct line *l, uint64_t v, unsigned base)
{
	char t[24];
	int i = 0;
	do {
		t[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = t[--i];
	l->b[l->n] = 0;
}

static void add_hex2(struct line *l, uint8_t v)
{
	char t[3] = {"0123456789abcdef"[v >> 4], "0123456789abcdef"[v & 15], 0};
	add(l, t);
}

static unsigned get_line(char *buf, unsigned max)
{
	unsigned n = 0;
	for (;;) {
		while (!(inb(COM2 + LSR) & LSR_DR))
			for (int i = 0; i < 20; i++)
				__asm__ volatile("pause");
		char c = (char)inb(COM2);
		if (c == '\n')
			break;
		if (c != '\r' && n < max - 1)
			buf[n++] = c;
	}
	buf[n] = 0;
	return n;
}

/* ---- PCI, configuration mechanism #1 ---- */

static uint32_t pci_read(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

static void pci_write(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

/* ---- a modern virtio-pci driver ---- */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

#define QSIZE 8
struct ring {
	struct desc desc[QSIZE];
	struct {
		uint16_t flags, idx, ring[QSIZE], used_event;
	} avail;
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QSIZE];
		uint16_t avail_event;
	} __attribute__((aligned(4))) used;
} __attribute__((aligned(4096)));

struct vq {
	volatile struct ring *r;
	uint16_t index, notify_off, last_used;
};

struct vdev {
	unsigned slot;
	volatile uint8_t *common, *isr, *cfg, *notify;
	uint32_t mult;
};

#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_STATUS 0x14
#define C_QSELECT 0x16
#define C_QSIZE 0x18
#define C_QENABLE 0x1c
#define C_QNOFF 0x1e
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30
#define R8(p, o) (*(volatile uint8_t *)((p) + (o)))
#define R16(p, o) (*(volatile uint16_t *)((p) + (o)))
#define R32(p, o) (*(volatile uint32_t *)((p) + (o)))

static int vdev_find(uint16_t device, struct vdev *d)
{
	for (unsigned s = 0; s < 32; s++) {
		if (pci_read(s, 0) != ((uint32_t)device << 16 | 0x1af4))
			continue;
		memset(d, 0, sizeof(*d));
		d->slot = s;
		uint64_t bar = pci_read(s, 0x10) & ~0xfu;
		for (unsigned cap = pci_read(s, 0x34) & 0xff; cap; cap = (pci_read(s, cap) >> 8) & 0xff) {
			uint32_t w = pci_read(s, cap);
			if ((w & 0xff) != 0x09 || (pci_read(s, cap + 4) & 0xff) != 0)
				continue;
			volatile uint8_t *at = (volatile uint8_t *)(uintptr_t)(bar + pci_read(s, cap + 8));
			switch (w >> 24) {
			case 1: d->common = at; break;
			case 2:
				d->notify = at;
				d->mult = pci_read(s, cap + 16);
				break;
			case 3: d->isr = at; break;
			case 4: d->cfg = at; break;
			}
		}
		pci_write(s, 0x04, (pci_read(s, 0x04) & 0xffff) | 0x6); /* memory, bus master */
		return d->common && d->notify ? 0 : -1;
	}
	return -1;
}

static void set64(volatile uint8_t *c, unsigned off, uint64_t v)
{
	R32(c, off) = (uint32_t)v;
	R32(c, off + 4) = (uint32_t)(v >> 32);
}

/* Reset, negotiate VERSION_1 only, set up nq queues, driver OK. */
static int vdev_start(struct vdev *d, struct vq *q, struct ring *rings, unsigned nq)
{
	R8(d->common, C_STATUS) = 0;
	R8(d->common, C_STATUS) = 1 | 2;
	R32(d->common, C_DFSELECT) = 1;
	if (!(R32(d->common, C_DF) & 1))
		return -1; /* not a modern device */
	R32(d->common, C_GFSELECT) = 0;
	R32(d->common, C_GF) = 0;
	R32(d->common, C_GFSELECT) = 1;
	R32(d->common, C_GF) = 1;
	R8(d->common, C_STATUS) = 1 | 2 | 8;
	if (!(R8(d->common, C_STATUS) & 8))
		return -1;
	for (unsigned i = 0; i < nq; i++) {
		R16(d->common, C_QSELECT) = (uint16_t)i;
		if (R16(d->common, C_QSIZE) < QSIZE)
			return -1;
		R16(d->common, C_QSIZE) = QSIZE;
		memset(&rings[i], 0, sizeof(rings[i]));
		q[i] = (struct vq){.r = &rings[i], .index = (uint16_t)i,
				   .notify_off = R16(d->common, C_QNOFF)};
		set64(d->common, C_QDESC, (uintptr_t)rings[i].desc);
		set64(d->common, C_QAVAIL, (uintptr_t)&rings[i].avail);
		set64(d->common, C_QUSED, (uintptr_t)&rings[i].used);
		R16(d->common, C_QENABLE) = 1;
	}
	R8(d->common, C_STATUS) = 1 | 2 | 8 | 4;
	return R8(d->common, C_STATUS) & 0x40 ? -1 : 0; /* NEEDS_RESET: refused */
}

/* Posts descriptors 0..n-1 as one chain, notifies, waits for it to be
 * used (the VMM serves it during the notify). */
static int vq_run(struct vdev *d, struct vq *q, unsigned n)
{
	volatile struct ring *r = q->r;
	for (unsigned i = 0; i < n; i++) {
		r->desc[i].next = (uint16_t)(i + 1);
		if (i + 1 < n)
			r->desc[i].flags |= 1;
	}
	r->avail.ring[r->avail.idx % QSIZE] = 0;
	barrier();
	r->avail.idx++;
	barrier();
	R16(d->notify, q->notify_off * d->mult) = q->index;
	for (long spins = 0; r->used.idx == q->last_used; spins++)
		if (spins > 1000000)
			return -1;
	q->last_used++;
	return 0;
}

static void set_desc(struct vq *q, unsigned i, const void *p, uint32_t len, int writable)
{
	q->r->desc[i] = (struct desc){.addr = (uintptr_t)p, .len = len, .flags = writable ? 2 : 0};
}

/* ---- the verbs ---- */

static struct ring rings[4];
static uint8_t sector[512], back[512];
static uint8_t frame[12 + 64];

static void verb_boot(struct line *l, const uint8_t *zp)
{
	uint32_t cmdline = *(const uint32_t *)(zp + 0x228);
	uint64_t rsdp = *(const uint64_t *)(zp + 0x070);
	const char *sig = (const char *)(uintptr_t)rsdp;
	unsigned len = 0;
	while (((const char *)(uintptr_t)cmdline)[len])
		len++;
	add(l, " e820=");
	add_num(l, zp[0x1e8], 10);
	add(l, " rsdp=");
	add(l, rsdp && sig[0] == 'R' && sig[1] == 'S' && sig[2] == 'D' && sig[7] == ' ' ? "ok" : "bad");
	add(l, " cmdline_bytes=");
	add_num(l, len, 10);
}

static void verb_cpuid(struct line *l)
{
	static const struct {
		uint32_t leaf;
		const char *name;
	} q[] = {{1, " l1"}, {7, " l7"}, {0x80000001, " lx1"}};
	for (unsigned i = 0; i < 3; i++) {
		uint32_t a = q[i].leaf, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		add(l, q[i].name);
		add(l, "_ecx=");
		add_num(l, c, 16);
		add(l, q[i].name);
		add(l, "_edx=");
		add_num(l, d, 16);
		if (q[i].leaf != 0x80000001) {
			add(l, q[i].name);
			add(l, "_ebx=");
			add_num(l, b, 16);
		}
	}
}

static void verb_pci(struct line *l)
{
	add(l, " devices=");
	int first = 1;
	for (unsigned s = 0; s < 32; s++) {
		uint32_t id = pci_read(s, 0);
		if ((id & 0xffff) == 0xffff)
			continue;
		if (!first)
			add(l, ",");
		first = 0;
		add_num(l, s, 10);
		add(l, ":");
		for (int sh = 12; sh >= 0; sh -= 4)
			add_num(l, (id >> sh) & 15, 16);
		add(l, ":");
		for (int sh = 28; sh >= 16; sh -= 4)
			add_num(l, (id >> sh) & 15, 16);
	}
}

static int blk_io(struct vdev *d, struct vq *q, uint32_t type, uint64_t sec, uint8_t *buf,
		  uint8_t *status)
{
	static struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	hdr.type = type;
	hdr.sector = sec;
	*status = 0xff;
	set_desc(q, 0, &hdr, sizeof(hdr), 0);
	set_desc(q, 1, buf, 512, type == 0);
	set_desc(q, 2, status, 1, 1);
	return vq_run(d, q, 3);
}

static int verb_blk(struct line *l)
{
	struct vdev d;
	struct vq q;
	static uint8_t st;
	if (vdev_find(0x1042, &d) < 0 || vdev_start(&d, &q, &rings[0], 1) < 0)
		return -1;
	uint64_t capacity = *(volatile uint64_t *)d.cfg;
	if (blk_io(&d, &q, 0, 0, sector, &st) < 0 || st != 0)
		return -1;
	add(l, " read=");
	for (int i = 0; i < 16; i++)
		add_hex2(l, sector[i]);
	static const char pat[] = "vlab test guest wrote sector 1. ";
	for (int i = 0; i < 512; i++)
		sector[i] = (uint8_t)pat[i % 32];
	if (blk_io(&d, &q, 1, 1, sector, &st) < 0 || st != 0)
		return -1;
	if (blk_io(&d, &q, 0, 1, back, &st) < 0 || st != 0)
		return -1;
	for (int i = 0; i < 512; i++)
		if (back[i] != sector[i])
			return -1;
	add(l, " verify=ok capacity=");
	add_num(l, capacity, 10);
	/* Past the end: the device must fail this request, and only it. */
	if (blk_io(&d, &q, 0, capacity, back, &st) < 0)
		return -1;
	add(l, st == 1 ? " past_end=ioerr" : " past_end=accepted");
	return 0;
}

static int verb_net(struct line *l)
{
	struct vdev d;
	struct vq q[2];
	if (vdev_find(0x1041, &d) < 0 || vdev_start(&d, q, &rings[1], 2) < 0)
		return -1;
	uint8_t *eth = frame + 12; /* after the virtio_net_hdr */
	memset(frame, 0, sizeof(frame));
	memset(eth, 0xff, 6);
	for (int i = 0; i < 6; i++)
		eth[6 + i] = d.cfg[i];
	eth[12] = 0x88; /* EtherType 0x88b5: local experimental */
	eth[13] = 0xb5;
	memcpy(eth + 14, "vlab test guest frame", 21);
	set_desc(&q[1], 0, frame, sizeof(frame), 0);
	if (vq_run(&d, &q[1], 1) < 0)
		return -1;
	add(l, " sent=64 mac=");
	for (int i = 0; i < 6; i++) {
		if (i)
			add(l, ":");
		add_hex2(l, eth[6 + i]);
	}
	return 0;
}

void guest_main(const uint8_t *zp)
{
	put(COM1, "vlab test guest: hello from ttyS0\n");
	put(COM1, "command line: ");
	put(COM1, (const char *)(uintptr_t) * (const uint32_t *)(zp + 0x228));
	put(COM1, "\n");
	put(COM2, "READY vlab-testguest/1 platform=testguest\n");
	for (;;) {
		char req[128];
		get_line(req, sizeof(req));
		char *verb = req;
		while (*verb && *verb != ' ')
			verb++;
		if (*verb)
			*verb++ = 0;
		struct line l = {.n = 0};
		add(&l, req);
		int rc = 0, off = 0;
		if (streq(verb, "ping"))
			add(&l, " ok pong");
		else if (streq(verb, "boot"))
			add(&l, " ok"), verb_boot(&l, zp);
		else if (streq(verb, "cpuid"))
			add(&l, " ok"), verb_cpuid(&l);
		else if (streq(verb, "pci"))
			add(&l, " ok"), verb_pci(&l);
		else if (streq(verb, "blk"))
			add(&l, " ok"), rc = verb_blk(&l);
		else if (streq(verb, "net"))
			add(&l, " ok"), rc = verb_net(&l);
		else if (streq(verb, "poweroff"))
			add(&l, " ok"), off = 1;
		else if (streq(verb, "reboot"))
			add(&l, " ok"), off = 2;
		else if (streq(verb, "crash"))
			add(&l, " ok"), off = 3;
		else
			add(&l, " err unknown no such verb");
		if (rc < 0) {
			l.n = 0;
			add(&l, req);
			add(&l, " err io the device did not do what it should");
		}
		add(&l, "\n");
		put(COM2, l.b);
		if (off == 1) {
			put(COM1, "vlab test guest: powering off\n");
			outw(PM1A_CNT, SLP_S5);
		} else if (off == 2) {
			put(COM1, "vlab test guest: resetting\n");
			outb(0x64, 0xfe);
		} else if (off == 3) {
			/* An empty IDT: the breakpoint cannot be delivered, nor
			 * the double fault that follows: the CPU shuts down. */
			static const struct {
				uint16_t limit;
				uint64_t base;
			} __attribute__((packed)) no_idt = {0, 0};
			__asm__ volatile("lidt %0; int3" ::"m"(no_idt));
		}
	}
}
