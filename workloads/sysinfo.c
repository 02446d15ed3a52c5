/* workloads/sysinfo.c: the sysinfo verb: what the guest sees of its
 * machine.  The CPU part comes from the CPUID instruction itself, the same
 * way in every guest, so a VMM's CPUID template (PAE/NX on or off, the
 * hypervisor signature) shows here exactly as the guest receives it; the
 * rest (kernel, memory, CPUs online) comes from the platform. */
#include "workloads/workloads.h"

struct flag {
	uint8_t reg; /* which register of which leaf, below */
	uint8_t bit;
	const char *name; /* as Linux names it in /proc/cpuinfo */
};

enum { L1_EDX, L1_ECX, L7_EBX, L7_ECX, X1_EDX, X1_ECX, NREGS };

static const struct flag flags[] = {
    {L1_EDX, 0, "fpu"},
    {L1_EDX, 1, "vme"},
    {L1_EDX, 2, "de"},
    {L1_EDX, 3, "pse"},
    {L1_EDX, 4, "tsc"},
    {L1_EDX, 5, "msr"},
    {L1_EDX, 6, "pae"},
    {L1_EDX, 7, "mce"},
    {L1_EDX, 8, "cx8"},
    {L1_EDX, 9, "apic"},
    {L1_EDX, 11, "sep"},
    {L1_EDX, 12, "mtrr"},
    {L1_EDX, 13, "pge"},
    {L1_EDX, 14, "mca"},
    {L1_EDX, 15, "cmov"},
    {L1_EDX, 16, "pat"},
    {L1_EDX, 17, "pse36"},
    {L1_EDX, 19, "clflush"},
    {L1_EDX, 23, "mmx"},
    {L1_EDX, 24, "fxsr"},
    {L1_EDX, 25, "sse"},
    {L1_EDX, 26, "sse2"},
    {L1_EDX, 28, "ht"},
    {X1_EDX, 11, "syscall"},
    {X1_EDX, 20, "nx"},
    {X1_EDX, 26, "pdpe1gb"},
    {X1_EDX, 27, "rdtscp"},
    {X1_EDX, 29, "lm"},
    {L1_ECX, 0, "pni"},
    {L1_ECX, 1, "pclmulqdq"},
    {L1_ECX, 3, "monitor"},
    {L1_ECX, 5, "vmx"},
    {L1_ECX, 9, "ssse3"},
    {L1_ECX, 12, "fma"},
    {L1_ECX, 13, "cx16"},
    {L1_ECX, 19, "sse4_1"},
    {L1_ECX, 20, "sse4_2"},
    {L1_ECX, 21, "x2apic"},
    {L1_ECX, 22, "movbe"},
    {L1_ECX, 23, "popcnt"},
    {L1_ECX, 24, "tsc_deadline_timer"},
    {L1_ECX, 25, "aes"},
    {L1_ECX, 26, "xsave"},
    {L1_ECX, 28, "avx"},
    {L1_ECX, 29, "f16c"},
    {L1_ECX, 30, "rdrand"},
    {L1_ECX, 31, "hypervisor"},
    {X1_ECX, 0, "lahf_lm"},
    {X1_ECX, 2, "svm"},
    {X1_ECX, 5, "abm"},
    {L7_EBX, 0, "fsgsbase"},
    {L7_EBX, 3, "bmi1"},
    {L7_EBX, 5, "avx2"},
    {L7_EBX, 7, "smep"},
    {L7_EBX, 8, "bmi2"},
    {L7_EBX, 9, "erms"},
    {L7_EBX, 16, "avx512f"},
    {L7_EBX, 18, "rdseed"},
    {L7_EBX, 19, "adx"},
    {L7_EBX, 20, "smap"},
    {L7_EBX, 29, "sha_ni"},
    {L7_ECX, 2, "umip"},
    {L7_ECX, 16, "la57"},
};

#if defined(__x86_64__) || defined(__i386__)
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
#define HAVE_CPUID 1
#else
#define HAVE_CPUID 0
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)leaf, (void)sub;
	r[0] = r[1] = r[2] = r[3] = 0;
}
#endif

static void put_regs(char *dst, const uint32_t *regs, int n)
{
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 4; b++)
			dst[i * 4 + b] = (char)(regs[i] >> (8 * b));
	dst[n * 4] = '\0';
}

/* Drops leading and repeated spaces (brand strings are padded). */
static void squeeze(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++)
		if (*r != ' ' || (w > s && w[-1] != ' '))
			*w++ = *r;
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

void wl_cpuid_read(struct wl_cpuid *c)
{
	memset(c, 0, sizeof(*c));
	if (!HAVE_CPUID)
		return;
	uint32_t r[4], regs[NREGS] = {0};
	cpuid(0, 0, r);
	uint32_t max = r[0];
	uint32_t v[3] = {r[1], r[3], r[2]};
	put_regs(c->vendor, v, 3);
	if (max >= 1) {
		cpuid(1, 0, r);
		regs[L1_ECX] = r[2];
		regs[L1_EDX] = r[3];
		c->virtualized = (r[2] >> 31) & 1;
	}
	if (max >= 7) {
		cpuid(7, 0, r);
		regs[L7_EBX] = r[1];
		regs[L7_ECX] = r[2];
	}
	cpuid(0x80000000u, 0, r);
	uint32_t xmax = r[0];
	if (xmax >= 0x80000001u) {
		cpuid(0x80000001u, 0, r);
		regs[X1_ECX] = r[2];
		regs[X1_EDX] = r[3];
	}
	if (xmax >= 0x80000004u) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002u + i, 0, r);
			put_regs(c->model + 16 * i, r, 4);
		}
		squeeze(c->model);
	}
	if (c->virtualized) {
		cpuid(0x40000000u, 0, r);
		uint32_t h[3] = {r[1], r[2], r[3]};
		put_regs(c->hypervisor, h, 3);
		squeeze(c->hypervisor);
	}
	size_t len = 0;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!((regs[flags[i].reg] >> flags[i].bit) & 1))
			continue;
		size_t n = strlen(flags[i].name);
		if (len + n + 2 > sizeof(c->flags))
			break;
		if (len)
			c->flags[len++] = ',';
		memcpy(c->flags + len, flags[i].name, n);
		len += n;
	}
	c->flags[len] = '\0';
}

int wl_verb_sysinfo(struct wl_req *r)
{
	struct plat_info info;
	struct wl_cpuid c;
	memset(&info, 0, sizeof(info));
	plat_info(&info);
	wl_cpuid_read(&c);
	struct vlab_proto_out *o = r->out;
	vlab_proto_put_str(o, "platform", info.platform);
	vlab_proto_put_str(o, "kernel", info.kernel);
	vlab_proto_put_str(o, "kernel_version", info.kernel_version);
	vlab_proto_put_str(o, "arch", info.arch);
	vlab_proto_put_str(o, "hostname", info.hostname);
	vlab_proto_put_str(o, "addrs", info.addrs);
	vlab_proto_put_u64(o, "cpus_count", info.cpus);
	vlab_proto_put_u64(o, "cpus_allowed_count", info.cpus_allowed);
	vlab_proto_put_u64(o, "mem_total_bytes", info.mem_total_bytes);
	vlab_proto_put_u64(o, "mem_free_bytes", info.mem_free_bytes);
	vlab_proto_put_u64(o, "mem_limit_bytes", info.mem_limit_bytes);
	vlab_proto_put_u64(o, "uptime_ns", info.uptime_ns);
	vlab_proto_put_u64(o, "pid", info.pid);
	vlab_proto_put_str(o, "cpu_vendor", c.vendor);
	vlab_proto_put_str(o, "cpu_model", c.model);
	vlab_proto_put_bool(o, "virtualized", c.virtualized);
	vlab_proto_put_str(o, "hypervisor", c.hypervisor);
	vlab_proto_put_str(o, "cpu_flags", c.flags);
	return 0;
}
