# tests/e2e/labs/lib.bash: what every lab of the course must do on this
# machine, through the CLI: `vlab check` passes it; a student's complete
# run (every step, every question answered right, numeric answers computed
# from that run's own measurements) grades to full marks; the same workbook
# emptied grades to zero; the formats agree.  Sourced by
# tests/e2e/labs/<lab>.sh, which give the answers.
#
#   lab_test LAB STATIC_ANSWERS_JSON NUMERIC_JQ
#     STATIC_ANSWERS_JSON  {"id": "answer"} for choices, texts, predictions
#     NUMERIC_JQ           a jq program over the workbook's measurements
#                          ({name: value}) giving {"id": number}
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
VLAB=${VLAB_SELF:-$PWD/vlab}
T=$(mktemp -d /tmp/vlab-e2e-labs.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME=$T/state XDG_DATA_HOME=$T/data
FAILS=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

lab_requires() { # tools...
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
	done
	[ -x "$VLAB" ] || { echo "SKIP: vlab is not built"; exit 77; }
}

lab_test() {
	local lab=$1 static=$2 numeric=$3 wb=$T/$1.json t0
	local file=labs/$lab.lua
	[ -f "$file" ] || { bad "$file is missing"; return; }

	# 1. The author's check: loads, every step passes here, the key scores.
	t0=$SECONDS
	if "$VLAB" check "$file" --quiet >"$T/check.out" 2>&1 && grep -q "is fine here" "$T/check.out"; then
		ok "vlab check $lab ($((SECONDS - t0)) s): $(grep 'is fine here' "$T/check.out")"
	else
		bad "vlab check $lab"; tail -40 "$T/check.out"
	fi

	# 2. A student's run: every step, the questions that need no measurement.
	echo "$static" >"$T/static.json"
	t0=$SECONDS
	if "$VLAB" run "$file" --headless --workbook "$wb" --answers "$T/static.json" >"$T/run.out" 2>&1; then
		ok "headless run of $lab ($((SECONDS - t0)) s)"
	else
		bad "headless run of $lab"; tail -40 "$T/run.out"; return
	fi
	# 3. The numeric questions, from this run's own measurements.
	if ! jq "(.measurements | map_values(.value)) | $numeric" "$wb" >"$T/numeric.json" 2>"$T/jq.err" ||
		! jq -e 'type == "object" and all(.[]; type == "number")' "$T/numeric.json" >/dev/null; then
		bad "$lab: numeric answers could not be computed: $(cat "$T/jq.err") $(cat "$T/numeric.json")"
		echo "--- what the run said:"; grep -vE '^  - recorded ' "$T/run.out" | tail -60
		return
	fi
	local q
	for q in $(jq -r 'keys[]' "$T/numeric.json"); do
		"$VLAB" run "$file" --headless --quiet --workbook "$wb" --only "$q" --answers "$T/numeric.json" \
			>"$T/answer.out" 2>&1 || { bad "$lab: answering $q"; cat "$T/answer.out"; }
	done

	# 4. Full marks, and every question of the lab was answered.
	"$VLAB" grade "$file" --workbook "$wb" --format json >"$T/grade.json" || { bad "$lab: grading failed"; return; }
	if jq -e '.score == .max_score and .max_score > 0 and .counts.failed == 0 and .counts.errors == 0 and .counts.not_done == 0
		and .counts.skipped == 0' "$T/grade.json" >/dev/null; then
		ok "$lab: the complete workbook grades to $(jq .score "$T/grade.json")/$(jq .max_score "$T/grade.json")"
	else
		bad "$lab: complete workbook: $(jq -c '{score, max_score, counts}' "$T/grade.json")"
		jq -c '.items[] | select(.score != .max_score) | {id, status, message, answer}' "$T/grade.json"
		echo "--- what the run said:"; grep -vE '^  - recorded ' "$T/run.out" | tail -60
	fi
	local s
	s=$(jq .score "$T/grade.json")
	"$VLAB" grade "$file" --workbook "$wb" --format tap >"$T/grade.tap" &&
		grep -q "^# score $(printf %g "$s")/" "$T/grade.tap" &&
		"$VLAB" grade "$file" --workbook "$wb" --format gradescope >"$T/grade.gs" &&
		[ "$(jq .score "$T/grade.gs")" = "$s" ] && ok "$lab: TAP and Gradescope agree on $s" ||
		bad "$lab: the formats disagree"

	# 5. The same workbook with nothing done grades to zero.
	jq '.items = {} | .measurements = {}' "$wb" >"$T/empty.json"
	"$VLAB" grade "$file" --workbook "$T/empty.json" --format json >"$T/empty.grade" || { bad "$lab: grading the empty workbook"; return; }
	if jq -e '.score == 0 and .counts.passed == 0' "$T/empty.grade" >/dev/null; then
		ok "$lab: the empty workbook grades to 0/$(jq .max_score "$T/empty.grade")"
	else
		bad "$lab: empty workbook: $(jq -c '{score, counts}' "$T/empty.grade")"
	fi
}

lab_done() {
	[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
	exit 0
}
