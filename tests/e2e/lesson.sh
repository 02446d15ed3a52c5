#!/usr/bin/env bash
# tests/e2e/lesson.sh: the lesson commands through the CLI: `vlab check`
# passes on the shipped labs; `vlab grade` of a complete and of an empty
# workbook gives the expected scores in every format (JSON and Gradescope
# read with jq, JUnit with xmllint, TAP with prove); bad input gets its own
# exit status; --batch writes a report each and a summary.
set -uo pipefail
cd "$(dirname "$0")/../.."
VLAB=${VLAB_SELF:-$PWD/vlab}
T=$(mktemp -d /tmp/vlab-e2e-lesson.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME=$T/state XDG_DATA_HOME=$T/data
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { # want description command...
	local want=$1 what=$2; shift 2
	"$@" >"$T/out" 2>&1; local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what (status $rc)"; else bad "$what: status $rc, expected $want"; head -20 "$T/out"; fi
}
for tool in jq xmllint prove; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

# ---- vlab labs and vlab check on the shipped labs ----
expect_rc 0 "vlab labs" "$VLAB" labs
grep -q "01-first-look" "$T/out" && grep -q "02-container-isolation" "$T/out" && ok "labs listed" || bad "labs not listed"
for lab in labs/*.lua; do
	expect_rc 0 "vlab check $lab" "$VLAB" check "$lab" --quiet
	grep -q "is fine here" "$T/out" || bad "$lab: no verdict"
done
# The complete example of docs/lab-api.md is a lab that passes its check.
awk '/^```lua$/ {keep = 1; next} /^```$/ {if (keep) exit} keep' docs/lab-api.md >"$T/03-hello.lua"
grep -q 'id = "03-hello"' "$T/03-hello.lua" || bad "no example found in docs/lab-api.md"
expect_rc 0 "vlab check of the documented example" "$VLAB" check "$T/03-hello.lua" --quiet
bad_lab=$T/bad.lua
printf 'return vlab.lab {\n  id = "x", title = "y",\n  steps = { vlab.step { text = "no title" } } }\n' >"$bad_lab"
expect_rc 3 "vlab check of a malformed lab" "$VLAB" check "$bad_lab"
grep -q "bad.lua:3: vlab.step: missing field 'title'" "$T/out" && ok "error names file and line" || { bad "no file:line"; cat "$T/out"; }

# ---- grading: a complete and an empty workbook, every format ----
G=tests/e2e/lesson/grading.lua
cat >"$T/answers.json" <<'J'
{"q-choice": "2", "q-num": 42, "q-text": "Host"}
J
expect_rc 0 "complete run" "$VLAB" run "$G" --headless --workbook "$T/complete.json" --answers "$T/answers.json"
jq '.items = {} | .measurements = {}' "$T/complete.json" >"$T/empty.json"

check_scores() { # workbook want_score max
	local wb=$1 want=$2 max=$3 name
	name=$(basename "$wb" .json)
	"$VLAB" grade "$G" --workbook "$wb" --format text >"$T/$name.txt" || bad "$name: text grading failed"
	grep -q "^Score: $want/$max " "$T/$name.txt" && ok "$name text: $want/$max" || { bad "$name text"; cat "$T/$name.txt"; }
	"$VLAB" grade "$G" --workbook "$wb" --format json >"$T/$name.json.out" || bad "$name: json grading failed"
	jq -e --argjson s "$want" --argjson m "$max" '.score == $s and .max_score == $m and ([.items[].score] | add) == $s and (.items | length) == 5' "$T/$name.json.out" >/dev/null \
		&& ok "$name json: $want/$max" || { bad "$name json"; cat "$T/$name.json.out"; }
	"$VLAB" grade "$G" --workbook "$wb" --format gradescope >"$T/$name.gs" || bad "$name: gradescope grading failed"
	jq -e --argjson s "$want" --argjson m "$max" '(.score == $s) and ([.tests[].score] | add) == $s and ([.tests[].max_score] | add) == $m and all(.tests[]; (.status == "passed" or .status == "failed") and (.name | type) == "string" and .visibility == "visible")' "$T/$name.gs" >/dev/null \
		&& ok "$name gradescope: $want/$max" || { bad "$name gradescope"; cat "$T/$name.gs"; }
	"$VLAB" grade "$G" --workbook "$wb" --format junit >"$T/$name.xml" || bad "$name: junit grading failed"
	if xmllint --noout "$T/$name.xml"; then
		local score cases failed
		score=$(xmllint --xpath 'string(//property[@name="score"]/@value)' "$T/$name.xml")
		cases=$(xmllint --xpath 'count(//testcase[@classname="e2e-grading"])' "$T/$name.xml")
		failed=$(xmllint --xpath 'count(//testcase/failure) + count(//testcase/error)' "$T/$name.xml")
		[ "$score" = "$want" ] && [ "$cases" = 5 ] && ok "$name junit: score $score, $cases cases, $failed failing" || bad "$name junit: score $score cases $cases"
		echo "$failed" >"$T/$name.failed"
	else
		bad "$name junit does not parse"
	fi
	"$VLAB" grade "$G" --workbook "$wb" --format tap >"$T/$name.tap" || bad "$name: tap grading failed"
	head -1 "$T/$name.tap" | grep -qx "TAP version 13" || bad "$name tap: no version line"
	grep -q "^# score $want/$max " "$T/$name.tap" && ok "$name tap: $want/$max" || bad "$name tap score"
	prove -e cat "$T/$name.tap" >"$T/$name.prove" 2>&1; PROVE_RC=$?
	if grep -q "Parse errors" "$T/$name.prove"; then bad "$name: prove found parse errors"; cat "$T/$name.prove"; fi
}
check_scores "$T/complete.json" 7 7
[ "$PROVE_RC" -eq 0 ] && ok "prove passes the complete workbook" || { bad "prove failed the complete workbook"; cat "$T/complete.prove"; }
[ "$(cat "$T/complete.failed")" = 0 ] && ok "junit: nothing fails in the complete workbook" || bad "junit failures in the complete workbook"
check_scores "$T/empty.json" 0 7
[ "$PROVE_RC" -ne 0 ] && grep -q "Failed 5/5 subtests" "$T/empty.prove" && ok "prove fails all 5 of the empty workbook" || { bad "prove on the empty workbook"; cat "$T/empty.prove"; }
[ "$(cat "$T/empty.failed")" = 5 ] && ok "junit: all 5 fail in the empty workbook" || bad "junit failures in the empty workbook"

# ---- reset one step, redo it (a fresh runner replays the step before), --rerun ----
cp "$T/complete.json" "$T/redo.json"
expect_rc 0 "reset one step" "$VLAB" run "$G" --workbook "$T/redo.json" --reset again
[ "$("$VLAB" grade "$G" --workbook "$T/redo.json" --format json | jq .score)" = 6 ] && ok "reset step no longer scores" || bad "reset step still scores"
expect_rc 0 "redo the step alone" "$VLAB" run "$G" --headless --workbook "$T/redo.json" --only again
[ "$("$VLAB" grade "$G" --workbook "$T/redo.json" --format json | jq .score)" = 7 ] && ok "redone step scores again" || bad "redone step"
[ "$("$VLAB" grade "$G" --workbook "$T/complete.json" --rerun --format json | jq .score)" = 7 ] && ok "--rerun confirms the steps" || bad "--rerun"
jq '.items.again.status = "failed"' "$T/complete.json" >"$T/forged.json"
[ "$("$VLAB" grade "$G" --workbook "$T/forged.json" --rerun --format json | jq .score)" = 6 ] && ok "--rerun keeps the workbook's failure" || bad "--rerun with a failed step"

# ---- bad input ----
echo '{"format": "vlab-workbook/1", "items": ' >"$T/corrupt.json"
expect_rc 3 "grade a corrupt workbook" "$VLAB" grade "$G" --workbook "$T/corrupt.json"
grep -q "corrupt.json:2:" "$T/out" && ok "corrupt workbook: line named" || { bad "corrupt: no line"; cat "$T/out"; }
jq '.lab.id = "another-lab"' "$T/complete.json" >"$T/other.json"
expect_rc 3 "grade a workbook of another lab" "$VLAB" grade "$G" --workbook "$T/other.json"
expect_rc 2 "grade a missing workbook" "$VLAB" grade "$G" --workbook "$T/none.json"
expect_rc 2 "grade with an unknown format" "$VLAB" grade "$G" --workbook "$T/complete.json" --format yaml
expect_rc 3 "grade against a malformed lab" "$VLAB" grade "$bad_lab" --workbook "$T/complete.json"

# ---- batch ----
mkdir -p "$T/subs/alice"
cp "$T/complete.json" "$T/subs/alice/workbook.json"
cp "$T/empty.json" "$T/subs/bob.json"
cp "$T/corrupt.json" "$T/subs/carol.json"
expect_rc 3 "batch with one corrupt workbook" "$VLAB" grade "$G" --batch "$T/subs" --format junit --output-dir "$T/grades"
[ -f "$T/grades/alice-workbook.xml" ] && [ -f "$T/grades/bob.xml" ] && ok "batch: one report each" || bad "batch reports missing"
[ "$(wc -l <"$T/grades/summary.csv")" = 4 ] && grep -q '^.*alice/workbook.json,.*,7,7,100.0,' "$T/grades/summary.csv" \
	&& grep -q 'carol.json,.*not valid JSON' "$T/grades/summary.csv" && ok "batch: summary.csv" || { bad "summary.csv"; cat "$T/grades/summary.csv"; }

# ---- the shipped labs: a complete run grades to its maximum less what this host skipped ----
for lab in 01-first-look 02-container-isolation; do
	wb=$T/$lab.json
	"$VLAB" run "$lab" --headless --quiet --workbook "$wb" >"$T/run.out" 2>&1 || { bad "$lab: headless run failed"; tail -20 "$T/run.out"; continue; }
	# Answer every question with the value the student's own run makes right.
	"$VLAB" check "$lab" --load-only >/dev/null || bad "$lab: does not load"
	case $lab in
	01-first-look)
		su=$(jq '.measurements["startup.container"].value // 0' "$wb")
		ratio=$(jq '(.measurements["image.vm"].value // 0) / (.measurements["image.unikernel"].value // 1)' "$wb")
		answers="{\"q-kernel\": \"2\", \"q-startup\": $su, \"q-smallest\": \"3\", \"q-ratio\": $ratio, \"q-vm-kernel\": \"Linux\"}" ;;
	02-container-isolation)
		n=$(jq '.measurements["box.processes"].value // 0' "$wb")
		answers="{\"q-pid1\": \"2\", \"q-processes\": $n, \"q-oom\": \"2\", \"q-errno\": \"EPERM\"}" ;;
	esac
	echo "$answers" >"$T/answers-$lab.json"
	for q in $(jq -r 'keys[]' "$T/answers-$lab.json"); do
		"$VLAB" run "$lab" --headless --quiet --workbook "$wb" --only "$q" --answers "$T/answers-$lab.json" >/dev/null 2>&1
	done
	"$VLAB" grade "$lab" --workbook "$wb" --format json >"$T/$lab.grade" || { bad "$lab: grading failed"; continue; }
	if jq -e '.score == (.max_score - ([.items[] | select(.status == "skipped") | .max_score] | add // 0)) and .counts.failed == 0 and .counts.errors == 0' "$T/$lab.grade" >/dev/null; then
		ok "$lab: complete workbook grades to $(jq .score "$T/$lab.grade")/$(jq .max_score "$T/$lab.grade") ($(jq .counts.skipped "$T/$lab.grade") skipped here)"
	else
		bad "$lab: complete workbook grade"; jq '.items[] | select(.status != "passed") ' "$T/$lab.grade"
	fi
	for f in text tap junit gradescope; do
		"$VLAB" grade "$lab" --workbook "$wb" --format $f >"$T/$lab.$f" || bad "$lab: $f grading failed"
	done
	s=$(jq .score "$T/$lab.grade")
	[ "$(jq .score "$T/$lab.gradescope")" = "$s" ] && grep -q "^# score $(printf %g "$s")/" "$T/$lab.tap" && xmllint --noout "$T/$lab.junit" \
		&& ok "$lab: every format agrees on $s" || bad "$lab: formats disagree"
done

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
