#!/usr/bin/env bash
# tests/run.sh TIER...: run every test of the given tiers and summarise.
#
# A tier is $VLAB_BUILD/tests/TIER/**/test_* (build/ by default) (cmocka programs) plus
# tests/TIER/**/*.sh (scripts: exit 0 pass, 77 skip with the reason printed,
# anything else fail).  Prints each program's own output, then one summary
# line per tier and a total; exits 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export VLAB_SELF="${VLAB_SELF:-$PWD/vlab}"
# The build folder holding the test programs (build/san for make check-asan).
B=${VLAB_BUILD:-build}
: "${VLAB_TEST_TIMEOUT:=900}"
total_pass=0 total_skip=0 total_fail=0
failed_list=()

run_one() { # name cmd...
	local name=$1; shift
	local log out rc
	log=$(mktemp)
	echo "---- $name"
	timeout --kill-after=10 "$VLAB_TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	out=$(cat "$log")
	rm -f "$log"
	LAST_RC=$rc LAST_OUT=$out
}

for tier in "$@"; do
	pass=0 skip=0 fail=0 progs=0
	mapfile -t bins < <(find "$B/tests/$tier" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)
	mapfile -t scripts < <(find "tests/$tier" -type f -name '*.sh' 2>/dev/null | sort)
	echo "==== $tier tests"
	for b in "${bins[@]}"; do
		progs=$((progs + 1))
		run_one "${b#"$B"/tests/}" "$b"
		p=$(grep -oE '\[  PASSED  \] [0-9]+' <<<"$LAST_OUT" | grep -oE '[0-9]+$' || true)
		s=$(grep -oE '\[  SKIPPED \] [0-9]+ test' <<<"$LAST_OUT" | grep -oE '[0-9]+' | head -1 || true)
		f=$(grep -oE '\[  FAILED  \] [0-9]+ test' <<<"$LAST_OUT" | grep -oE '[0-9]+' | head -1 || true)
		pass=$((pass + ${p:-0})) skip=$((skip + ${s:-0})) fail=$((fail + ${f:-0}))
		if [ "$LAST_RC" -ne 0 ] && [ -z "$f" ]; then
			echo "!!!! $b exited with status $LAST_RC"
			fail=$((fail + 1))
		fi
		if [ "$LAST_RC" -ne 0 ]; then failed_list+=("$b"); fi
	done
	for s in "${scripts[@]}"; do
		progs=$((progs + 1))
		run_one "$s" bash "$s"
		case $LAST_RC in
		0) pass=$((pass + 1)); echo "[       OK ] $s" ;;
		77) skip=$((skip + 1)); echo "[  SKIPPED ] $s" ;;
		*) fail=$((fail + 1)); failed_list+=("$s"); echo "[  FAILED  ] $s (status $LAST_RC)" ;;
		esac
	done
	echo "==== $tier: $progs programs, $pass passed, $skip skipped, $fail failed"
	total_pass=$((total_pass + pass)) total_skip=$((total_skip + skip)) total_fail=$((total_fail + fail))
done
echo "==== total: $total_pass passed, $total_skip skipped, $total_fail failed"
if [ "$total_fail" -ne 0 ]; then
	printf '  failed: %s\n' "${failed_list[@]}"
	exit 1
fi
