#!/usr/bin/env bash
# tests/e2e/labs/01-first-look-tui.sh: a student walks lab 01 through the
# real TUI in tmux (100x30), as in class: `vlab run 01-first-look`, the
# prediction, every step run with r (the host, a container, a unikernel, a
# VM: emulated here, and the screen says so), the charts side by side,
# every question answered (numeric ones with the figures of this very run,
# read from the workbook the TUI wrote), quit; then the workbook grades to
# full marks and the terminal is as it was.
set -uo pipefail
cd "$(dirname "$0")/../../.."
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
[ -x vlab ] || { echo "SKIP: vlab is not built"; exit 77; }
. tests/e2e/tui/lib.bash
VLAB=$PWD/vlab
STATE=$TUI_DIR/state
WB=$STATE/vlab/01-first-look.json
envs="VLAB_SELF=$VLAB XDG_STATE_HOME=$STATE XDG_DATA_HOME=$TUI_DIR/data LANG=C.UTF-8"

# run_step N TITLE SECONDS: move to item N, see its title, run it, see its check pass.
run_step() {
	keys n
	expect "step $1: $2" "Step $1/11" 10
	keys r
	expect "step $1: the check passes" "check passed" "$3"
}

# answer N KEYS...: move to question N and answer it with keys.
answer() {
	local n=$1; shift
	keys n
	expect "question $n shown" "Question $n/11" 10
	"$@"
	expect "question $n: the answer is right" "answer saved: right" 20
}
choose() { keys "$1" Enter; }
type_answer() { keys a; type_text "$1"; keys Enter; }
measured() { jq -r "(.measurements | map_values(.value)) | $1" "$WB"; }

tui_start 100 30 $envs -- "$VLAB" run 01-first-look
expect "the lab opens on its prediction" "Question 1/11" 15
expect "the intro is shown" "A first look at the three engines"
choose 2
expect "the prediction is saved" "answer saved" 10
expect "the lab's log says so" "question 1 (Before you start anything" 10

run_step 2 "the host baseline" 30
run_step 3 "a container" 30
expect "the container's kernel is the host's" "the container reports the host's kernel" 5
run_step 4 "a unikernel" 30
run_step 5 "a virtual machine" 300
if jq -e '.measurements["startup.vm"]' "$WB" >/dev/null 2>&1 && "$VLAB" doctor --json | jq -e '.findings[] | select(.id == "kvm.speed" and .status == "warn")' >/dev/null; then
	expect "the VM is marked emulated on screen" "emulated" 5
fi
keys n
expect "step 6: side by side" "Step 6/11" 10
keys r
expect "step 6: done" "done" 120
expect "the charts side by side, the last one on top" "Integer work (sieve)" 10
expect "the VM's bar says emulated" "vm (emulated)" 5
keys Tab Tab Tab 0
expect "the prediction compared, in the lab's log" "You predicted: the unikernel" 5
keys BTab BTab BTab

answer 7 choose 2
answer 8 type_answer "$(measured '.["startup.container"]')"
answer 9 choose 3
answer 10 type_answer "$(measured '.["image.vm"] / .["image.unikernel"]')"
answer 11 type_answer "Linux"

keys q
expect "quitting asks while instances run" "Quit?" 10
keys y
wait_exit 30
[ "$TUI_RC" = 0 ] && ok "quit, status 0" || bad "quit status $TUI_RC"
check_restored "after the lab"
descendants "$TUI_PID" | grep -q . && bad "instances left running" || ok "no instance left running"

"$VLAB" grade 01-first-look --workbook "$WB" --format json >"$TUI_DIR/grade.json" || bad "grading the TUI's workbook"
if jq -e '.score == .max_score and .max_score > 0 and .counts.not_done == 0' "$TUI_DIR/grade.json" >/dev/null; then
	ok "the workbook the TUI wrote grades to $(jq .score "$TUI_DIR/grade.json")/$(jq .max_score "$TUI_DIR/grade.json")"
else
	bad "grade of the TUI's workbook: $(jq -c '{score, max_score, counts}' "$TUI_DIR/grade.json")"
	jq -c '.items[] | select(.score != .max_score) | {id, status, message, answer}' "$TUI_DIR/grade.json"
fi
tui_done
