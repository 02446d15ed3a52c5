#!/usr/bin/env bash
# tests/e2e/cli.sh: the vlab command line: help, version, exit codes, and
# `vlab doctor` in text and JSON.
set -uo pipefail
cd "$(dirname "$0")/../.."
VLAB=${VLAB_SELF:-./vlab}
fails=0
check() { # description, expected status, command...
	local what=$1 want=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $what: status $rc, expected $want"; echo "$out" | head -5; fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
	LAST=$out
}
contains() { # description, needle
	if grep -qF -- "$2" <<<"$LAST"; then echo "ok: $1"; else echo "FAIL: $1: no '$2' in output"; fails=$((fails + 1)); fi
}

check "vlab --help" 0 "$VLAB" --help
contains "help lists doctor" "doctor"
contains "help documents exit status" "Exit status"
check "vlab --version" 0 "$VLAB" --version
contains "version printed" "vlab 0."
check "unknown command" 2 "$VLAB" frobnicate
contains "unknown command named" "frobnicate"
check "unknown option" 2 "$VLAB" --frob
for sub in run labs check grade bench doctor; do
	check "vlab $sub --help" 0 "$VLAB" "$sub" --help
	contains "$sub help has usage" "Usage: vlab $sub"
	check "vlab $sub --version" 0 "$VLAB" "$sub" --version
done
check "doctor rejects a wrong flag" 2 "$VLAB" doctor --frob
contains "doctor names the flag" "--frob"
check "doctor rejects an argument" 2 "$VLAB" doctor extra

"$VLAB" doctor >/tmp/vlab-doctor.$$ 2>&1; rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then echo "FAIL: doctor status $rc"; fails=$((fails + 1)); fi
LAST=$(cat /tmp/vlab-doctor.$$); rm -f /tmp/vlab-doctor.$$
contains "doctor has an engines section" "Engines"
contains "doctor has a verdict" "Verdict:"

json=$("$VLAB" doctor --json)
if ! jq -e '.engines.vm.available and .engines.container.available and .engines.unikernel.available and (.findings | length > 5)' <<<"$json" >/dev/null; then
	echo "FAIL: doctor --json does not parse or lacks fields"; fails=$((fails + 1))
else
	echo "ok: doctor --json parses"
fi
if jq -e '[.findings[] | select(.section == "Programs" and .status == "ok")] | length == 2' <<<"$json" >/dev/null; then
	echo "ok: doctor finds the engines' programs (vlab-container, vlab-unikernel)"
else
	echo "FAIL: doctor --json lacks the engines' programs"; fails=$((fails + 1))
fi
# On a shadow-paging KVM (kvm_pvm) the measurement must say "not hardware-assisted".
if [ "$(jq -r .kvm.module <<<"$json")" = kvm_pvm ]; then
	if jq -e '.kvm.measured and (.kvm.hardware_assisted | not) and .kvm.ratio > 20' <<<"$json" >/dev/null; then
		echo "ok: kvm_pvm measured as emulating CPL 0 (ratio $(jq .kvm.ratio <<<"$json"))"
	else
		echo "FAIL: kvm_pvm not measured as emulated"; jq .kvm <<<"$json"; fails=$((fails + 1))
	fi
fi
# As a student runs it: no VLAB_SELF, no VLAB_IMAGES.  The engines' own
# programs (build/vlab-unikernel, build/vlab-container) find the images as
# vlab does.
if [ -c /dev/kvm ] && [ -r build/images/agent.uk ] && [ -d build/images/rootfs ]; then
	check "a unikernel and a container from ./vlab, no VLAB_* set" 0 env -u VLAB_SELF \
		-u VLAB_IMAGES "$(realpath "$VLAB")" bench --engines unikernel,container \
		--metrics startup --runs 2 --format csv
	contains "the unikernel's startup was measured" "unikernel,startup"
	contains "the container's startup was measured" "container,startup"
else
	echo "SKIP: engines from ./vlab: no /dev/kvm or the images are not built"
fi
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
