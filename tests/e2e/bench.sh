#!/usr/bin/env bash
# tests/e2e/bench.sh: `vlab bench` through its command line: wrong flags
# are refused with status 2; a real run of every engine prints the seven
# metrics for each engine that can run here (or says why one is missing),
# and its JSON parses and carries exactly the figures of its table.
set -uo pipefail
cd "$(dirname "$0")/../.."
V=./vlab
T=$(mktemp -d "${TMPDIR:-/tmp}/vlab-e2e-bench-XXXX")
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

expect_usage() { # description args...
	local what=$1
	shift
	$V bench "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ $rc -eq 2 ] && [ -s "$T/err" ]; then ok "$what"; else bad "$what (status $rc: $(head -c 200 "$T/err"))"; fi
}
expect_usage "--runs 1 is refused (a single sample is not a figure)" --runs 1
expect_usage "an unknown engine is refused" --engines docker
expect_usage "an unknown format is refused" --format xml
expect_usage "an unknown metric is refused" --metrics gpu
expect_usage "a stray argument is refused" extra
expect_usage "--opt names an engine that is measured" --engines host --opt vm.memory=64M
grep -q "unknown metric 'gpu'" <($V bench --metrics gpu 2>&1) && ok "the bad metric is named" ||
	bad "the bad metric is not named"
$V bench --help | grep -q -- "--engines LIST" && ok "bench --help" || bad "bench --help"

if [ ! -x build/images/vlab-agent ]; then
	echo "SKIP: the probe agent is not built (make images): no real run"
	[ $fails -eq 0 ] && exit 77 || exit 1
fi
command -v jq >/dev/null || { echo "SKIP: jq is missing"; exit 77; }

runs=${VLAB_E2E_BENCH_RUNS:-5}
$V bench --runs "$runs" --save-json "$T/bench.json" >"$T/table" 2>"$T/progress"
rc=$?
cat "$T/table"
case $rc in
0 | 1) ok "vlab bench --runs $runs ran (status $rc)" ;;
*) bad "vlab bench --runs $runs: status $rc: $(tail -3 "$T/progress")" ;;
esac
grep -q "vlab bench: host: startup" "$T/progress" && ok "progress on stderr" || bad "no progress on stderr"
jq -e . "$T/bench.json" >/dev/null && ok "the JSON parses" || { bad "the JSON does not parse"; exit 1; }
[ "$(jq '.runs' "$T/bench.json")" = "$runs" ] && ok "the JSON says $runs runs" || bad "runs in JSON"
[ "$(jq '.engines | length' "$T/bench.json")" = 4 ] && ok "four columns" || bad "not four columns"
[ "$(jq -r '.engines[3].engine' "$T/bench.json")" = host ] && ok "host is the last column" ||
	bad "host is not the last column"
jq -e '.engines[] | select(.engine == "host") | .available' "$T/bench.json" >/dev/null &&
	ok "the host baseline ran" || bad "the host baseline did not run"

# The seven metrics for every engine that can run here, or the reason.
while IFS=$'\t' read -r engine available error; do
	if [ "$available" != true ]; then
		grep -q "$engine: unavailable: " "$T/table" && ok "$engine: unavailable, with the reason" ||
			bad "$engine is unavailable without a reason in the table"
		continue
	fi
	for key in startup image footprint cpu.int cpu.fp mem.triad disk.write disk.read net.rtt net.tps; do
		if jq -e --arg e "$engine" --arg k "$key" \
			'.engines[] | select(.engine == $e) | .metrics[] | select(.key == $k) |
			 select(.n == '"$runs"' and .unit != "" and .min <= .median and .median <= .max)' \
			"$T/bench.json" >/dev/null; then
			ok "$engine: $key over $runs runs"
		elif [ -n "$error" ] && grep -q "${key%%.*}" <<<"$error"; then
			echo "note: $engine: $key not measured: $error"
		else
			bad "$engine: no $key and no reason"
		fi
	done
done < <(jq -r '.engines[] | [.engine, .available, (.error // "")] | @tsv' "$T/bench.json")
jq -e '.engines[] | select(.emulated) | .title | endswith("(emulated)")' "$T/bench.json" >/dev/null ||
	[ "$(jq '[.engines[] | select(.emulated)] | length' "$T/bench.json")" = 0 ] &&
	ok "an emulated engine is labelled so" || bad "an emulated engine is not labelled"

# Every median of the JSON is in the table, on its row, as the table rounds it.
fmt() { # value -> the table's rounding (metrics_fmt_value)
	awk -v v="$1" 'BEGIN {
		a = v < 0 ? -v : v
		d = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : (a >= 0.1 || a == 0) ? 3 : a >= 0.01 ? 4 : a >= 0.001 ? 5 : -1
		if (d < 0) printf "%.3g", v; else printf("%." d "f", v) }'
}
checked=0
while IFS=$'\t' read -r engine label unit median; do
	want=$(fmt "$median")
	line=$(grep -F -- "  $label " "$T/table" | head -1)
	if [ -z "$line" ]; then
		bad "no table row '$label'"
	elif ! grep -qF -- " $unit " <<<"$line"; then
		bad "table row '$label' lacks its unit $unit"
	elif ! grep -qE -- "(^| )$(sed 's/[.]/[.]/g' <<<"$want")( |$)" <<<"$line"; then
		bad "$engine '$label': the JSON median $median ($want) is not in the table row: $line"
	else
		checked=$((checked + 1))
	fi
done < <(jq -r '.engines[] | .engine as $e | .metrics[] | [$e, .label, .unit, .median] | @tsv' "$T/bench.json")
[ $checked -gt 0 ] && ok "$checked JSON medians found in the table" || bad "no figure compared"

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
exit 0
