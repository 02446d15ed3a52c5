/* lesson/api_measure.c: what labs measure with the host's own tools rather
 * than the agent's: inst:footprint() (the memory an instance costs the
 * host, as vlab bench reads it) and vlab.doctor() (the doctor's KVM
 * measurement: what "emulated" means here).
 *
 * No engine logic and no metric logic here: the readers are metrics/'s
 * (footprint.h, cgroup.h) and the KVM measurement is the doctor's
 * (engines/hostcaps.h); this file turns their structs into Lua tables. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/engine.h"
#include "engines/hostcaps.h"
#include "lesson/api.h"
#include "metrics/cgroup.h"
#include "metrics/footprint.h"

static void set_num(lua_State *L, const char *key, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, key);
}

static int fail(lua_State *L, const char *msg)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* ---- inst:footprint() ---- */

/* inst:footprint() -> {bytes, source, pss_bytes, rss_bytes, pss_anon_bytes,
 * pss_file_bytes, processes, [cgroup_bytes, cgroup_peak_bytes,
 * cgroup_limit_bytes, cgroup_version]} or nil, message.  bytes is the
 * figure vlab bench calls the footprint: the cgroup's usage for an instance
 * in a memory cgroup (the container), else the PSS of its process tree. */
static int l_footprint(lua_State *L)
{
	struct vlab_instance *in = lesson_api_instance(L, 1);
	if (!in)
		return luaL_argerror(L, 1, "an instance that is not closed expected");
	vlab_instance_pump(in, NULL);
	pid_t pid = vlab_instance_pid(in);
	if (pid <= 0)
		return fail(L, "the instance is not started: it costs nothing yet");
	struct metrics_smaps sm;
	size_t nprocs = 0;
	struct vlab_err err = {0};
	if (metrics_tree_smaps(pid, &sm, &nprocs, &err) < 0) {
		char msg[VLAB_ERR_MSG + 64];
		snprintf(msg, sizeof(msg), "%s: footprint: %s", vlab_instance_name(in), err.msg);
		return fail(L, msg);
	}
	lua_createtable(L, 0, 12);
	set_int(L, "pss_bytes", (long long)sm.pss);
	set_int(L, "rss_bytes", (long long)sm.rss);
	set_int(L, "pss_anon_bytes", (long long)sm.pss_anon);
	set_int(L, "pss_file_bytes", (long long)sm.pss_file);
	set_int(L, "processes", (long long)nprocs);
	const char *cgdir = vlab_instance_attr(in, "cgroup.memory");
	struct metrics_cgmem cg;
	if (cgdir && metrics_cgroup_memory(cgdir, &cg, &err) == 0) {
		set_int(L, "cgroup_bytes", (long long)cg.usage);
		set_int(L, "cgroup_peak_bytes", (long long)cg.peak);
		if (cg.limit != METRICS_CG_UNLIMITED)
			set_int(L, "cgroup_limit_bytes", (long long)cg.limit);
		set_int(L, "cgroup_version", cg.version);
		set_int(L, "bytes", (long long)cg.usage);
		set_str(L, "source", cg.version == 2 ? "cgroup v2 memory.current"
						     : "cgroup v1 memory.usage_in_bytes");
	} else {
		set_int(L, "bytes", (long long)sm.pss);
		set_str(L, "source", "PSS of the process tree");
	}
	return 1;
}

/* ---- vlab.doctor() ---- */

/* vlab.doctor() -> {kernel, root, kvm = {present, opens, error, module,
 * api, measured, hardware_assisted, cpl0_ns, cpl3_ns, ratio,
 * measure_error}, qemu, qemu_version}: the doctor's findings that explain
 * what "emulated" means on this host (the KVM loop timed at CPL 0 and 3). */
static int l_doctor(lua_State *L)
{
	struct vlab_hostcaps *caps = calloc(1, sizeof(*caps));
	if (!caps)
		return luaL_error(L, "vlab.doctor: out of memory");
	vlab_hostcaps_probe_kvm(caps, VLAB_CAPS_MEASURE_KVM);
	lua_createtable(L, 0, 5);
	struct vlab_hostcaps full;
	memset(&full, 0, sizeof(full));
	/* The cheap parts of the full probe (no second KVM measurement). */
	vlab_hostcaps_probe(&full, 0);
	set_str(L, "kernel", full.kernel);
	set_bool(L, "root", full.is_root);
	if (full.qemu_path[0]) {
		set_str(L, "qemu", full.qemu_path);
		set_str(L, "qemu_version", full.qemu_version);
	}
	lua_createtable(L, 0, 11);
	set_bool(L, "present", caps->kvm_present);
	set_bool(L, "opens", caps->kvm_present && !caps->kvm_open_errno);
	if (caps->kvm_open_errno)
		set_str(L, "error", strerror(caps->kvm_open_errno));
	set_str(L, "module", caps->kvm_module);
	set_int(L, "api", caps->kvm_api);
	set_bool(L, "measured", caps->kvm_measured);
	if (caps->kvm_measured) {
		set_bool(L, "hardware_assisted", caps->kvm_hw);
		set_num(L, "cpl0_ns", caps->cpl0_ns);
		set_num(L, "cpl3_ns", caps->cpl3_ns);
		set_num(L, "ratio", caps->ratio);
	} else if (caps->kvm_measure_error[0]) {
		set_str(L, "measure_error", caps->kvm_measure_error);
	}
	lua_setfield(L, -2, "kvm");
	free(caps);
	return 1;
}

void lesson_api_open_measure(lua_State *L, int vlab)
{
	lua_pushcfunction(L, l_doctor);
	lua_setfield(L, vlab, "doctor");
	/* inst:footprint() beside the instance methods of api_instance.c. */
	luaL_getmetatable(L, "vlab.instance");
	lua_getfield(L, -1, "__index");
	lua_pushcfunction(L, l_footprint);
	lua_setfield(L, -2, "footprint");
	lua_pop(L, 2);
}
