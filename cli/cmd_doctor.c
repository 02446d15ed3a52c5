/* cli/cmd_doctor.c: `vlab doctor`: what this machine can run, and why.
 *
 * Every finding comes from engines/hostcaps.c (tried, not guessed); this
 * file only words it for a student and renders it as text or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/paths.h"
#include "core/units.h"
#include "engines/confine.h"
#include "engines/engine.h"
#include "engines/hostcaps.h"

enum status { ST_OK, ST_WARN, ST_FAIL, ST_INFO };
static const char *status_name[] = {"ok", "warn", "fail", "info"};

struct finding {
	const char *section, *id;
	enum status st;
	char summary[400];
	char means[400]; /* what it means for the engines */
};

#define MAX_FINDINGS 40

struct report {
	struct finding f[MAX_FINDINGS];
	int n;
};

static struct finding *add(struct report *r, const char *section, const char *id, enum status st,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct finding *add(struct report *r, const char *section, const char *id, enum status st,
			   const char *fmt, ...)
{
	static struct finding sink;
	struct finding *f = r->n < MAX_FINDINGS ? &r->f[r->n++] : &sink;
	memset(f, 0, sizeof(*f));
	f->section = section;
	f->id = id;
	f->st = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->summary, sizeof(f->summary), fmt, ap);
	va_end(ap);
	return f;
}

#define MEANS(f, ...) snprintf((f)->means, sizeof((f)->means), __VA_ARGS__)

static void kvm_findings(struct report *r, const struct vlab_hostcaps *c, int measured)
{
	struct finding *f;
	if (!c->kvm_present) {
		f = add(r, "KVM", "kvm.device", ST_FAIL, "/dev/kvm is absent");
		MEANS(f, "unikernel: cannot run. vm: only QEMU software emulation (tcg).");
		return;
	}
	if (c->kvm_open_errno) {
		f = add(r, "KVM", "kvm.device", ST_FAIL, "/dev/kvm cannot be opened: %s",
			strerror(c->kvm_open_errno));
		MEANS(f, "unikernel: cannot run. vm: only QEMU software emulation. Add yourself to "
			 "the kvm group or run as root.");
		return;
	}
	f = add(r, "KVM", "kvm.device", ST_OK, "/dev/kvm opens (API %d%s%s)", c->kvm_api,
		c->kvm_module[0] ? ", module " : "", c->kvm_module);
	MEANS(f, "unikernel and vm can create KVM virtual machines.");
	if (!measured) {
		add(r, "KVM", "kvm.speed", ST_INFO, "speed not measured (--no-measure)");
		return;
	}
	if (!c->kvm_measured) {
		f = add(r, "KVM", "kvm.speed", ST_WARN, "could not run the measuring guest: %s",
			c->kvm_measure_error);
		MEANS(f, "vm: falls back to QEMU software emulation.");
		return;
	}
	char n0[32], n3[32];
	snprintf(n0, sizeof(n0), c->cpl0_ns >= 1000 ? "%.2f us" : "%.2f ns",
		 c->cpl0_ns >= 1000 ? c->cpl0_ns / 1000 : c->cpl0_ns);
	snprintf(n3, sizeof(n3), "%.2f ns", c->cpl3_ns);
	if (c->kvm_hw) {
		f = add(r, "KVM", "kvm.speed", ST_OK,
			"hardware-assisted: a guest loop costs %s per iteration in kernel mode (CPL 0) "
			"and %s in user mode (CPL 3), ratio %.1f",
			n0, n3, c->ratio);
		MEANS(f, "vm: vlab's own VMM boots the Linux guest on KVM. unikernel: native speed.");
	} else {
		f = add(r, "KVM", "kvm.speed", ST_WARN,
			"NOT hardware-assisted: a guest loop costs %s per iteration in kernel mode "
			"(CPL 0) against %s in user mode (CPL 3): kernel code runs %.0fx slower, "
			"so this KVM emulates guest kernel code",
			n0, n3, c->ratio);
		MEANS(f, "vm: a Linux kernel cannot boot in useful time; the Linux guest runs under "
			 "QEMU software emulation (tcg) instead. unikernel: runs at CPL 3, so at native "
			 "speed anyway.");
	}
}

static void isolation_findings(struct report *r, const struct vlab_hostcaps *c, int verbose)
{
	char ok[128] = "", bad[256] = "";
	for (int i = 0; i < VLAB_NS_COUNT; i++) {
		char *dst = c->ns[i].ok ? ok : bad;
		size_t cap = c->ns[i].ok ? sizeof(ok) : sizeof(bad), l = strlen(dst);
		if (c->ns[i].ok)
			snprintf(dst + l, cap - l, "%s%s", l ? " " : "", c->ns[i].name);
		else
			snprintf(dst + l, cap - l, "%s%s (%s)", l ? ", " : "", c->ns[i].name,
				 strerror(c->ns[i].err));
	}
	struct finding *f;
	if (!bad[0]) {
		f = add(r, "Isolation", "ns", ST_OK, "namespaces: %s", ok);
		MEANS(f, "container: every isolation mechanism of the lesson is available.");
	} else {
		f = add(r, "Isolation", "ns", ST_FAIL, "namespaces missing: %s", bad);
		MEANS(f, "container: cannot isolate fully here.");
	}
	f = add(r, "Isolation", "userns.unprivileged", c->userns_unpriv ? ST_OK : ST_WARN,
		"unprivileged user namespaces: %s",
		c->userns_unpriv ? "allowed" : strerror(c->userns_unpriv_err));
	MEANS(f, c->userns_unpriv ? "container: also runs rootless, as a normal user."
				  : "container: needs root here.");

	char v1[512] = "", v2[300] = "";
	for (int i = 0; i < c->ncg; i++) {
		const struct vlab_cg_mount *m = &c->cg[i];
		char *dst = m->version == 1 ? v1 : v2;
		size_t cap = m->version == 1 ? sizeof(v1) : sizeof(v2), l = strlen(dst);
		if (m->version == 1 && !verbose)
			snprintf(dst + l, cap - l, "%s%s", l ? ", " : "", m->controllers);
		else
			snprintf(dst + l, cap - l, "%s%s at %s", l ? "; " : "",
				 m->controllers[0] ? m->controllers : "(no controllers)", m->path);
	}
	const struct vlab_cg_mount *mem = vlab_hostcaps_cgroup(c, "memory"),
				   *pids = vlab_hostcaps_cgroup(c, "pids"),
				   *cpu = vlab_hostcaps_cgroup(c, "cpu");
	int limits = mem && pids && cpu;
	f = add(r, "Isolation", "cgroup.v1", v1[0] ? ST_INFO : ST_INFO, "cgroup v1: %s",
		v1[0] ? v1 : "none mounted");
	MEANS(f, "%s", v1[0] ? "container: limits can use the v1 hierarchies."
			     : "container: limits must come from cgroup v2.");
	f = add(r, "Isolation", "cgroup.v2", ST_INFO, "cgroup v2: %s", v2[0] ? v2 : "not mounted");
	MEANS(f, "vlab uses v2 for each controller it lists, v1 otherwise.");
	f = add(r, "Isolation", "cgroup.limits", limits ? (c->is_root ? ST_OK : ST_WARN) : ST_WARN,
		"memory, pids and cpu controllers: %s",
		limits ? (c->is_root ? "available" : "available, but only root can use them")
		       : "not all present");
	MEANS(f, limits && c->is_root ? "container: memory, pids and CPU limits are enforced."
				      : "container: runs without resource limits.");
	f = add(r, "Isolation", "seccomp", c->seccomp_filter ? ST_OK : ST_FAIL, "seccomp filters: %s%s%s",
		c->seccomp_filter ? "available" : "missing", c->seccomp_actions[0] ? "; actions: " : "",
		c->seccomp_actions);
	MEANS(f, "container: system calls can be denied (the seccomp lesson).");
	f = add(r, "Isolation", "overlayfs", c->overlayfs ? ST_OK : ST_FAIL, "overlayfs: %s",
		c->overlayfs ? "available" : "missing");
	MEANS(f, "container: image layer + container layer, as Docker does it.");
	f = add(r, "Isolation", "tun", c->tun ? ST_OK : ST_WARN, "/dev/net/tun: %s",
		c->tun ? "available" : "cannot be opened");
	MEANS(f, "vm and unikernel: network devices backed by TAP in the lab network.");
}

static void emulation_findings(struct report *r, const struct vlab_hostcaps *c)
{
	struct finding *f;
	if (c->qemu_path[0]) {
		f = add(r, "Software emulation", "qemu", ST_OK, "qemu-system-x86_64 %s (%s)",
			c->qemu_version[0] ? c->qemu_version : "", c->qemu_path);
		MEANS(f, "vm: the tcg backend can boot the Linux guest without KVM.");
	} else {
		f = add(r, "Software emulation", "qemu", c->kvm_hw ? ST_INFO : ST_WARN,
			"qemu-system-x86_64 not found");
		MEANS(f, "vm: no fallback where KVM cannot run Linux (apt-get install qemu-system-x86).");
	}
}

static void image_findings(struct report *r, const struct vlab_hostcaps *c, int verbose)
{
	static const char *ids[VLAB_IMAGE_COUNT] = {"image.kernel", "image.initramfs",
						    "image.rootfs", "image.agent",
						    "image.unikernel"};
	static const char *used_by[VLAB_IMAGE_COUNT] = {"vm", "vm", "container", "host baseline",
							"unikernel"};
	for (int i = 0; i < VLAB_IMAGE_COUNT; i++) {
		char sz[32];
		struct finding *f;
		if (c->image[i].built)
			f = add(r, "Guest images", ids[i], ST_OK, "%s: built, %s%s%s",
				vlab_image_name((enum vlab_image)i),
				vlab_fmt_bytes(c->image[i].bytes, sz, sizeof(sz)), verbose ? " at " : "",
				verbose ? c->image[i].path : "");
		else
			f = add(r, "Guest images", ids[i], ST_WARN, "%s: not built (%s)",
				vlab_image_name((enum vlab_image)i), c->image[i].path);
		MEANS(f, "%s: %s", used_by[i], c->image[i].built ? "ready" : "run `make images` first");
	}
}

/* The engines' own instance programs (vlab-container, vlab-unikernel). */
static void program_findings(struct report *r, int verbose)
{
	for (size_t i = 0; vlab_engine_at(i); i++) {
		const struct vlab_engine *e = vlab_engine_at(i);
		char path[VLAB_PATH_MAX];
		if (!e->program)
			continue;
		const char *id = e->program; /* a finding keeps the pointer */
		struct finding *f;
		if (vlab_program_path(e->program, path, sizeof(path)) == 0) {
			f = add(r, "Programs", id, ST_OK, "%s: found%s%s", e->program,
				verbose ? " at " : "", verbose ? path : "");
			MEANS(f, "%s: runs as a small program of its own.", e->name);
		} else {
			f = add(r, "Programs", id, ST_INFO,
				"%s: not found beside vlab, in build/ or in %s", e->program,
				VLAB_LIBDIR);
			MEANS(f, "%s: vlab runs it itself (a larger process: slower to start).",
			      e->name);
		}
	}
}

struct engine_row {
	const char *name;
	struct vlab_avail a;
};

static int engine_rows(const struct vlab_hostcaps *c, struct engine_row rows[4])
{
	rows[0].name = "vm";
	vlab_avail_vm(c, &rows[0].a);
	rows[1].name = "container";
	vlab_avail_container(c, &rows[1].a);
	rows[2].name = "unikernel";
	vlab_avail_unikernel(c, &rows[2].a);
	rows[3].name = "host";
	const struct vlab_engine *h = vlab_engine_find("host");
	h->probe(&rows[3].a);
	int any = 0;
	for (int i = 0; i < 3; i++)
		any |= rows[i].a.level != VLAB_AVAIL_NO;
	return any;
}

/* What the VMM and the unikernel monitor may still do once confined
 * (engines/confine.h). */
static void print_confinement(void)
{
	static char calls[128][256];
	printf("\nSelf-confinement: the system calls a running VMM or unikernel monitor may\n"
	       "make (seccomp); any other stops the instance with SIGSYS, and its log says "
	       "which\n");
	for (int p = 0; p < VLAB_CONFINE_PROFILES; p++) {
		size_t n = vlab_confine_describe((enum vlab_confine_profile)p, calls, 128);
		printf("  %s (%zu):\n   ", vlab_confine_name((enum vlab_confine_profile)p), n);
		int col = 3;
		for (size_t i = 0; i < n && i < 128; i++) {
			if (strchr(calls[i], ':'))
				continue;
			if (col + 1 + (int)strlen(calls[i]) > 78) {
				printf("\n   ");
				col = 3;
			}
			col += printf(" %s", calls[i]);
		}
		printf("\n");
		for (size_t i = 0; i < n && i < 128; i++)
			if (strchr(calls[i], ':'))
				printf("    %s\n", calls[i]);
	}
}

static json_t *confinement_json(void)
{
	static char calls[128][256];
	json_t *o = json_object();
	for (int p = 0; p < VLAB_CONFINE_PROFILES; p++) {
		size_t n = vlab_confine_describe((enum vlab_confine_profile)p, calls, 128);
		json_t *a = json_array();
		for (size_t i = 0; i < n && i < 128; i++)
			json_array_append_new(a, json_string(calls[i]));
		json_object_set_new(o, vlab_confine_name((enum vlab_confine_profile)p), a);
	}
	return o;
}

static void print_text(const struct report *r, const struct vlab_hostcaps *c,
		       const struct engine_row *rows, int any)
{
	printf("vlab doctor: what this machine can run\n\nMachine\n  %s, running as %s\n",
	       c->kernel, c->is_root ? "root" : "a normal user");
	const char *section = "";
	for (int i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];
		if (strcmp(section, f->section)) {
			section = f->section;
			printf("\n%s\n", section);
		}
		printf("  %-5s %s\n", status_name[f->st], f->summary);
		if (f->means[0])
			printf("        -> %s\n", f->means);
	}
	printf("\nEngines\n");
	for (int i = 0; i < 4; i++)
		printf("  %-10s %-9s %-9s %s\n", rows[i].name, vlab_avail_level_name(rows[i].a.level),
		       rows[i].a.backend, rows[i].a.reason);
	printf("\n%s\n", any ? "Verdict: ready for the labs (engines marked degraded say how)."
			     : "Verdict: none of the three engines can run here; see the fixes above.");
}

static int print_json(const struct report *r, const struct vlab_hostcaps *c,
		      const struct engine_row *rows, int any)
{
	json_t *root = json_object(), *findings = json_array(), *engines = json_object();
	json_object_set_new(root, "vlab_version", json_string(VLAB_VERSION));
	json_object_set_new(root, "kernel", json_string(c->kernel));
	json_object_set_new(root, "root", json_boolean(c->is_root));
	for (int i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];
		json_array_append_new(findings,
				      json_pack("{s:s, s:s, s:s, s:s, s:s}", "section", f->section,
						"id", f->id, "status", status_name[f->st], "summary",
						f->summary, "means", f->means));
	}
	json_object_set_new(root, "findings", findings);
	json_t *kvm = json_pack("{s:b, s:i, s:s, s:b}", "present", c->kvm_present, "open_errno",
				c->kvm_open_errno, "module", c->kvm_module, "measured",
				c->kvm_measured);
	if (c->kvm_measured) {
		json_object_set_new(kvm, "cpl0_ns_per_iter", json_real(c->cpl0_ns));
		json_object_set_new(kvm, "cpl3_ns_per_iter", json_real(c->cpl3_ns));
		json_object_set_new(kvm, "ratio", json_real(c->ratio));
		json_object_set_new(kvm, "hardware_assisted", json_boolean(c->kvm_hw));
	}
	json_object_set_new(root, "kvm", kvm);
	for (int i = 0; i < 4; i++)
		json_object_set_new(engines, rows[i].name,
				    json_pack("{s:s, s:s, s:s}", "available",
					      vlab_avail_level_name(rows[i].a.level), "backend",
					      rows[i].a.backend, "reason", rows[i].a.reason));
	json_object_set_new(root, "engines", engines);
	json_object_set_new(root, "confinement", confinement_json());
	json_object_set_new(root, "can_run", json_boolean(any));
	int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
	return rc;
}

int cmd_doctor(const struct vlab_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},       {"verbose", no_argument, NULL, 'v'},
		{"no-measure", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0},
	};
	int json = 0, verbose = 0, measure = 1, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'n':
			measure = 0;
			break;
		case 'h':
			cli_cmd_help(cmd);
			return VLAB_EXIT_OK;
		case 'V':
			printf("vlab %s\n", VLAB_VERSION);
			return VLAB_EXIT_OK;
		default:
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

	struct vlab_hostcaps caps;
	vlab_hostcaps_probe(&caps, measure ? VLAB_CAPS_MEASURE_KVM : 0);
	struct report r = {.n = 0};
	kvm_findings(&r, &caps, measure);
	isolation_findings(&r, &caps, verbose);
	emulation_findings(&r, &caps);
	image_findings(&r, &caps, verbose);
	program_findings(&r, verbose);
	struct engine_row rows[4];
	int any = engine_rows(&caps, rows);
	if (json) {
		if (print_json(&r, &caps, rows, any) < 0)
			return VLAB_EXIT_INTERNAL;
	} else {
		print_text(&r, &caps, rows, any);
		if (verbose)
			print_confinement();
	}
	return any ? VLAB_EXIT_OK : VLAB_EXIT_FAIL;
}
