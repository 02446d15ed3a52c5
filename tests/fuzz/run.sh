#!/usr/bin/env bash
# tests/fuzz/run.sh run SECONDS | merge: drives the libFuzzer targets.
#
#   run SECONDS  for each target: replays every saved crash input
#                (tests/fuzz/regress/<name>/), then fuzzes for SECONDS on the
#                committed seeds (tests/fuzz/corpus/<name>/) plus the inputs
#                earlier runs found ($VLAB_FUZZ_WORK/corpus/<name>/, where new
#                ones go: the committed seeds are never written).  Prints the
#                executions and what was found; a crash is saved under
#                $VLAB_FUZZ_WORK/crashes/ and fails the run.
#   merge        minimises the found inputs into the committed seeds.
#
# Environment (set by mk/hardening.mk): VLAB_FUZZ_BIN (the built targets),
# VLAB_FUZZ_WORK, VLAB_FUZZ_TARGETS (comma-separated names; empty: all).
# A target that cannot run here (no /dev/kvm) exits 77 with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?usage: run.sh run SECONDS | merge}
secs=${2:-3}
bin=${VLAB_FUZZ_BIN:?} work=${VLAB_FUZZ_WORK:?}
mapfile -t names < <(ls tests/fuzz/fuzz_*.c | sed 's|^tests/fuzz/fuzz_||; s|\.c$||' | sort)
if [ -n "${VLAB_FUZZ_TARGETS:-}" ]; then
	IFS=, read -ra names <<<"$VLAB_FUZZ_TARGETS"
fi
mkdir -p "$work/crashes"
# Sanitizers: abort on the first report; no leak check between inputs
# (the fixtures live for the whole run), but at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A lab under fuzz must never start a real instance.
export VLAB_SELF=/nonexistent/vlab-under-fuzz

fail=0 skipped=0 summary=()
for n in "${names[@]}"; do
	exe="$bin/fuzz_$n"
	seeds="tests/fuzz/corpus/$n" found="$work/corpus/$n" regress="tests/fuzz/regress/$n"
	[ -x "$exe" ] || { echo "fuzz: no target $n ($exe)"; fail=1; continue; }
	mkdir -p "$found"
	dict=()
	[ -f "tests/fuzz/$n.dict" ] && dict=(-dict="tests/fuzz/$n.dict")
	# libFuzzer exits 77 on a crash by default, the code scripts here use for a skip.
	opts=(-error_exitcode=99 -rss_limit_mb=2048 -timeout=20 -max_len=262144 "${dict[@]}")
	if [ "$mode" = merge ]; then
		"$exe" "${opts[@]}" -merge=1 "$seeds" "$found" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
		continue
	fi
	echo "==== fuzz $n"
	# 1. every input that once crashed this target
	shopt -s nullglob
	reg=("$regress"/*)
	shopt -u nullglob
	if [ ${#reg[@]} -gt 0 ]; then
		log=$("$exe" "${opts[@]}" "${reg[@]}" 2>&1)
		rc=$?
		if [ $rc -eq 77 ]; then
			echo "$log" | grep SKIP
			skipped=$((skipped + 1)); summary+=("$n: skipped"); continue
		fi
		if [ $rc -ne 0 ]; then
			echo "$log" | tail -40
			echo "fuzz $n: a saved crash input crashes again (rc $rc)"
			fail=1; summary+=("$n: REGRESSION"); continue
		fi
		echo "fuzz $n: ${#reg[@]} saved crash input(s) replayed clean"
	fi
	# 2. fuzz for a while
	log=$("$exe" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/crashes/$n-" "$found" "$seeds" 2>&1)
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "$log" | grep SKIP
		skipped=$((skipped + 1)); summary+=("$n: skipped"); continue
	fi
	execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' <<<"$log" | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+' <<<"$log" | tail -1 | grep -oE '[0-9]+')
	units=$(ls "$found" | wc -l)
	if [ $rc -ne 0 ]; then
		echo "$log" | grep -vE '^#[0-9]+' | tail -60
		echo "fuzz $n: CRASH after ${execs:-?} executions; input saved as $(grep -oE "$work/crashes/[^ ]+" <<<"$log" | tail -1)"
		fail=1; summary+=("$n: CRASH"); continue
	fi
	line="$n: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges, corpus $(ls "$seeds" | wc -l) seeds + $units found, no crash"
	echo "fuzz $line"
	summary+=("$line")
done
[ "$mode" = merge ] && exit 0
echo "==== fuzz summary"
printf '  %s\n' "${summary[@]}"
exit $fail
