#!/usr/bin/env bash
# bench/peers.sh: vlab's engines against what a user would otherwise pick,
# measured in the same run on the same machine (machines are noisy: read
# the ratios).
#
#   container start   vlab's runtime vs crun, runc, bwrap: the same busybox
#                     rootfs and agent, time from launch to the agent's READY
#   VM boot           vlab's vm engine on its TCG backend vs plain
#                     qemu-system-x86_64 -M microvm -accel tcg: the same
#                     kernel and initramfs, launch to READY
#   unikernel start   vlab's unikernel vs the raw KVM floor (bench/kvm_floor:
#                     open /dev/kvm, one page, one vCPU, its first exit);
#                     bench/unikernel.sh looks at this one more closely
#
# vlab's figures come from `vlab bench` (create to READY); the peers' from
# bench/tools/readytime (spawn to the first line starting with READY).  A
# missing tool, engine or image is skipped with the reason.
#   BENCH_RUNS   measured runs per figure (default 10; 1 warm-up first)
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-10}
VLAB=./vlab
RT=build/bench/readytime
FLOOR=build/bench/kvm_floor
IMG=build/images
for f in "$VLAB" "$RT" "$FLOOR"; do
	[ -x "$f" ] || { echo "peers: $f is not built (make bench builds it)"; exit 1; }
done
command -v jq >/dev/null || { echo "SKIP: peers: jq is missing (apt-get install jq)"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vlab-peers-$$-XXXX")
trap 'rm -rf "$TMP"' EXIT

# One line per measurement: "name min median max" (ms), or a skip line.
row() { # name min median max base_median
	local ratio=""
	[ -n "${5:-}" ] && ratio=$(awk -v a="$3" -v b="$5" 'BEGIN { if (b > 0) printf "x%.2f", a / b }')
	printf '  %-32s %10.2f %10.2f %10.2f   %s\n' "$1" "$2" "$3" "$4" "$ratio"
}
skip() { printf '  %-32s skipped: %s\n' "$1" "$2"; }
header() {
	echo
	echo "== $1 (ms; $RUNS runs after 1 warm-up)"
	printf '  %-32s %10s %10s %10s   %s\n' "" min median max "median / vlab's"
}

# vlab's own startup for an engine: sets OURS="min median max" or prints
# why not and returns 1.
ours() { # label engine [--opt ...]
	local label=$1 engine=$2
	shift 2
	"$VLAB" bench -q --engines "$engine" --metrics startup --runs "$RUNS" --format json "$@" \
		>"$TMP/ours.json" 2>"$TMP/ours.err"
	local verdict
	verdict=$(jq -r '.engines[0] |
		if (.available | not) then "unavailable: " + .reason
		elif ([.metrics[] | select(.key == "startup")] | length) == 0 then "failed: " + (.error // "?")
		else .title as $t | (.metrics[] | select(.key == "startup") | "ok \(.min) \(.median) \(.max) \($t)") end' \
		"$TMP/ours.json" 2>/dev/null)
	if [ -z "$verdict" ]; then
		skip "$label" "vlab bench failed: $(head -c 300 "$TMP/ours.err")"
		return 1
	fi
	case $verdict in
	ok*)
		read -r _ min med max title <<<"$verdict"
		OURS="$min $med $max"
		row "vlab $title" $OURS "$med"
		;;
	*)
		skip "$label" "$verdict"
		return 1
		;;
	esac
}

# A peer through readytime: row with its ratio to vlab's median.  $WRAP,
# when set, is a command readytime itself runs under (set up once).
WRAP=()
peer() { # label base_median readytime-args...
	local label=$1 base=$2
	shift 2
	local out
	if ! out=$("${WRAP[@]}" "$RT" -n "$RUNS" -w 1 "$@" 2>"$TMP/peer.err"); then
		skip "$label" "$(tail -n 2 "$TMP/peer.err" | tr '\n' ' ')"
		return
	fi
	local min med max
	min=$(sed -n 's/.*min_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	med=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	max=$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	row "$label" "$min" "$med" "$max" "$base"
}

echo "vlab peers: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

# ---- containers ----
header "Container start: launch to the agent's READY, same rootfs and agent"
if [ ! -d "$IMG/rootfs" ]; then
	skip "all" "the container rootfs is not built (make images)"
else
	OURS="" && ours "vlab container" container
	base=$(cut -s -d' ' -f2 <<<"$OURS")
	# The peers get their own copy of the rootfs (runc creates mount points).
	mkdir -p "$TMP/bundle"
	cp -a "$IMG/rootfs" "$TMP/bundle/rootfs"
	name=vlab-peers-$$
	if [ "$(id -u)" -ne 0 ]; then
		skip "crun, runc" "they need root here (rootless OCI is another comparison)"
	elif ! command -v runc >/dev/null && ! command -v crun >/dev/null; then
		skip "crun, runc" "neither is installed (apt-get install crun runc)"
	else
		(cd "$TMP/bundle" && { crun spec 2>/dev/null || runc spec; }) >/dev/null 2>&1
		jq '.process.terminal = false | .process.args = ["/bin/vlab-agent"] |
			.root.path = "rootfs" | .root.readonly = true | .hostname = "box"' \
			"$TMP/bundle/config.json" >"$TMP/config.json" && mv "$TMP/config.json" "$TMP/bundle/config.json"
		if command -v crun >/dev/null; then
			# crun 1.8 refuses the hybrid cgroup layout of this kind of host
			# unless cgroup2 is out of sight: give it a private mount namespace
			# without it (once, around all its runs).
			if [ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/memory ]; then
				WRAP=(unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh)
				peer "crun (cgroup2 unmounted)" "$base" -- crun run -b "$TMP/bundle" "$name-crun"
				WRAP=()
			else
				peer "crun" "$base" -- crun run -b "$TMP/bundle" "$name-crun"
			fi
		else
			skip "crun" "not installed (apt-get install crun)"
		fi
		if command -v runc >/dev/null; then
			peer "runc" "$base" -- runc run -b "$TMP/bundle" "$name-runc"
		else
			skip "runc" "not installed (apt-get install runc)"
		fi
	fi
	if command -v bwrap >/dev/null; then
		peer "bwrap --unshare-all" "$base" -- bwrap --unshare-all --die-with-parent \
			--ro-bind "$TMP/bundle/rootfs" / --proc /proc --dev /dev --tmpfs /tmp \
			/bin/vlab-agent
	else
		skip "bwrap" "not installed (apt-get install bubblewrap)"
	fi
fi

# ---- virtual machines ----
header "VM boot under software emulation (TCG): launch to READY, same kernel and initramfs"
if [ ! -f "$IMG/vmlinuz" ] || [ ! -f "$IMG/initramfs.cpio.gz" ]; then
	skip "all" "the kernel and initramfs are not built (make images)"
else
	OURS="" && ours "vlab vm, backend tcg" vm --opt vm.backend=tcg
	base=$(cut -s -d' ' -f2 <<<"$OURS")
	if command -v qemu-system-x86_64 >/dev/null; then
		# microvm has one serial port: the agent talks on ttyS0.  Without a
		# PIT/HPET reference under TCG the kernel needs the TSC rate given.
		peer "qemu -M microvm -accel tcg" "$base" -k -t 120 -- qemu-system-x86_64 \
			-M microvm,x-option-roms=off,pit=on,pic=on,rtc=on -accel tcg -cpu max -m 256M \
			-nodefaults -no-user-config -display none -no-reboot \
			-kernel "$IMG/vmlinuz" -initrd "$IMG/initramfs.cpio.gz" \
			-append "console=ttyS0 panic=-1 tsc_early_khz=2000000 tsc=reliable vlab.agent=ttyS0 vlab.console=none" \
			-serial stdio
	else
		skip "qemu -M microvm" "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	fi
fi

# ---- unikernels ----
header "Unikernel start: launch to READY vs the least KVM allows"
if [ ! -r /dev/kvm ]; then
	skip "all" "/dev/kvm is not usable here"
else
	OURS="" && ours "vlab unikernel" unikernel
	base=$(cut -s -d' ' -f2 <<<"$OURS")
	peer "raw KVM floor (kvm_floor)" "$base" -f 3 -- "$FLOOR" 3
fi
exit 0
