#!/usr/bin/env bash
# bench/run.sh: runs every benchmark script bench/*.sh (this one aside),
# each printing its figures side by side with its baseline.  A script
# exits 0 (ran), 77 (skipped, after saying why) or anything else (failed).
# Exits 1 when one failed.  BENCH_RUNS=N asks each for N runs.
set -uo pipefail
cd "$(dirname "$0")/.."
export VLAB_SELF="$PWD/vlab"
failed=()
for s in bench/*.sh; do
	[ "$s" = bench/run.sh ] && continue
	echo "==== $s"
	bash "$s"
	rc=$?
	case $rc in
	0) ;;
	77) echo "(skipped)" ;;
	*) echo "!!!! $s failed (status $rc)"; failed+=("$s") ;;
	esac
done
[ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
