#!/usr/bin/env bash
# bench/run.sh: every benchmark of vlab, one after the other (`make bench`).
#
# Runs each bench/*.sh (this file excepted) in name order.  A script prints
# its numbers side by side with a baseline measured in the same run; it
# exits 0 when it measured, 77 when it skipped (after saying why), anything
# else when it failed.  Prints a summary; exits 1 when one failed.
#
# BENCH_RUNS=N asks each script for N runs per figure (default: each
# script's own).  Arguments, if given, select scripts by name:
# bench/run.sh peers unikernel.
set -uo pipefail
cd "$(dirname "$0")/.."
export VLAB_SELF="$PWD/vlab"

scripts=()
for s in bench/*.sh; do
	[ "$s" = bench/run.sh ] && continue
	if [ $# -gt 0 ]; then
		want=0
		for a in "$@"; do
			[ "$(basename "$s" .sh)" = "$a" ] && want=1
		done
		[ $want = 1 ] || continue
	fi
	scripts+=("$s")
done
if [ ${#scripts[@]} -eq 0 ]; then
	echo "bench: no benchmark scripts${*:+ named $*}" >&2
	exit 1
fi

ok=() skipped=() failed=()
for s in "${scripts[@]}"; do
	echo "######## $s"
	bash "$s"
	case $? in
	0) ok+=("$s") ;;
	77) skipped+=("$s") ;;
	*) failed+=("$s") ;;
	esac
	echo
done
echo "bench: ${#ok[@]} measured, ${#skipped[@]} skipped, ${#failed[@]} failed"
[ ${#skipped[@]} -eq 0 ] || printf '  skipped: %s\n' "${skipped[@]}"
[ ${#failed[@]} -eq 0 ] || { printf '  failed: %s\n' "${failed[@]}"; exit 1; }
exit 0
