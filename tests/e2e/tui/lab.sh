#!/usr/bin/env bash
# tests/e2e/tui/lab.sh: the real vlab binary in tmux, through a whole lab
# (tests/e2e/tui/labs/tui-test.lua, host engine) at 80x24 and 200x50: pick
# the lab, read a step, run it, see the instance start and its console
# output, type into it, see a chart, answer a question, quit, restart and
# find the progress resumed, see a Lua error shown in the UI.  Also: a
# resize in the middle of a run, NO_COLOR output without colour codes,
# SIGTERM restoring the terminal and leaving no instance, and the
# keystroke-to-redraw latency while an instance boots (printed).
set -uo pipefail
cd "$(dirname "$0")/../../.."
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
. tests/e2e/tui/lib.bash
VLAB=$PWD/vlab
LABS=$PWD/tests/e2e/tui/labs
envs() {
	echo "VLAB_SELF=$VLAB VLAB_LABS=$LABS XDG_STATE_HOME=$TUI_DIR/state" \
		"XDG_DATA_HOME=$TUI_DIR/data LANG=C.UTF-8 $*"
}

open_lab() { # size label; from the picker to step 1
	expect "$1: the picker lists the lab" "TUI test lab"
	keys Enter
	expect "$1: step 1 shown" "Step 1/6: Start an instance" 15
}

whole_lab() { # cols rows
	local c=$1 r=$2 s="$1x$2"
	rm -rf "$TUI_DIR/state"
	tui_start "$c" "$r" $(envs) -- "$VLAB"
	expect "$s: the picker shows length and progress" "0 of 6 done"
	open_lab "$s"
	expect "$s: markup rendered" "one called box;"
	screen | grep -qF '**box**' && bad "$s: markup markers left on screen"
	keys r
	expect "$s: the instance appears" "Instances (1)" 15
	expect "$s: its console output" "console line 1" 15
	expect "$s: the step's check passes" "check passed" 15
	keys Tab Tab Tab i
	type_text "hello"
	keys Enter
	expect "$s: typing into the console" "you typed: hello"
	keys Escape BTab BTab BTab
	keys n r
	expect "$s: a slow instance boots, its console live" "slow boot 1/40" 15
	latency 20
	echo "latency: keystroke to redraw while an instance boots ($s, load $(cut -d' ' -f1 /proc/loadavg)): min $LAT_MIN_MS ms, median $LAT_MEDIAN_MS ms, p90 $LAT_P90_MS ms, max $LAT_MAX_MS ms (20 keys, tmux control client)"
	awk "BEGIN { exit !($LAT_MEDIAN_MS < 50) }" && ok "$s: median latency under 50 ms while booting" ||
		bad "$s: median latency $LAT_MEDIAN_MS ms while booting"
	expect "$s: the slow instance is ready" "slow running" 20
	keys n r
	expect "$s: the chart appears" "startup (ms" 15
	keys n
	expect "$s: a question" "Question 4/6"
	keys 2 Enter
	expect "$s: the answer is saved" "answer saved: right" 10
	keys q
	expect "$s: quit asks while instances run" "Quit?"
	keys y
	wait_exit 15
	[ "$TUI_RC" = 0 ] && ok "$s: quit, status 0" || bad "$s: quit status $TUI_RC"
	check_restored "$s quit"
	# Restart: the picker shows the progress, the lab resumes.
	tui_start "$c" "$r" $(envs) -- "$VLAB"
	expect "$s: the picker shows the progress" "4 of 6 done" 15
	keys Enter
	expect "$s: progress resumed" "Question 5/6" 15
	keys a
	type_text "42"
	keys Enter
	expect "$s: numeric answer saved" "answer saved: right"
	keys n r
	expect "$s: a Lua error is shown in the UI" "deliberate failure" 40
	kill -0 "$TUI_PID" 2>/dev/null && ok "$s: still running after the lab's error" || bad "$s: vlab died"
	keys q
	if wait_for "Quit?" 3 >/dev/null; then keys y; fi
	wait_exit 15
	check_restored "$s second quit"
}

whole_lab 80 24
whole_lab 200 50

# A resize in the middle of a run: larger, too small, back.
rm -rf "$TUI_DIR/state"
tui_start 80 24 $(envs) -- "$VLAB" run "$LABS/tui-test.lua"
expect "vlab run LAB opens the lab" "Step 1/6" 15
keys n r
expect "resize: a boot is under way" "slow boot" 15
tmx resize-window -t t -x 200 -y 50
i=0
while [ "$(screen | wc -L)" != 200 ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(screen | wc -L)" = 200 ] && screen | tail -1 | grep -q "F1" && ok "resize to 200x50 mid-run lays out again" ||
	bad "resize to 200x50: width $(screen | wc -L)"
tmx resize-window -t t -x 50 -y 14
expect "resize: too small is said plainly" "needs at least 60x16"
tmx resize-window -t t -x 80 -y 24
expect "resize: back at 80x24" "Step 2/6"
expect "resize: the run went on and finished" "slow running" 20
keys q y
wait_exit 15
check_restored "after resizes"

# NO_COLOR: no colour escape codes at all; without it, colours (so that
# the check can fail).
colour_codes() {
	python3 - "$1" <<-'PY'
	import re, sys
	data = open(sys.argv[1], 'rb').read()
	n = 0
	for m in re.finditer(rb'\x1b\[([0-9;:]*)m', data):
	    for p in re.split(rb'[;:]', m.group(1)):
	        if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
	            n += 1
	print(n)
	PY
}
for mode in nocolor color; do
	rm -rf "$TUI_DIR/state" "$TUI_DIR/raw"
	if [ $mode = nocolor ]; then e=$(envs NO_COLOR=1); else e=$(envs); fi
	tui_start 80 24 $e -- "$VLAB"
	tmx pipe-pane -o -t t "cat >> $TUI_DIR/raw"
	open_lab "$mode"
	keys r
	wait_for "check passed" 15 >/dev/null
	keys '?'
	wait_for "Help" >/dev/null
	keys Escape q y
	wait_exit 15
	n=$(colour_codes "$TUI_DIR/raw")
	if [ $mode = nocolor ]; then
		[ "$n" = 0 ] && ok "NO_COLOR: no colour escape codes in $(wc -c <"$TUI_DIR/raw") bytes of output" ||
			bad "NO_COLOR: $n colour escape codes"
	else
		[ "${n:-0}" -gt 0 ] && ok "without NO_COLOR, colours are used ($n colour codes)" ||
			bad "no colour codes without NO_COLOR: the NO_COLOR check proves nothing"
	fi
done

# A guest flooding its console: vlab's memory stays bounded, keys fast.
rm -rf "$TUI_DIR/state"
tui_start 80 24 $(envs) -- "$VLAB" run "$PWD/tests/e2e/tui/flood/flood.lua"
expect "flood: the lab opens" "Step 1/1" 15
keys r
expect "flood: the console shows the flood" "flood flood" 15
sleep 2
rss1=$(awk '/VmRSS/ { print $2 }' /proc/"$TUI_PID"/status)
latency 20
sleep 3
rss2=$(awk '/VmRSS/ { print $2 }' /proc/"$TUI_PID"/status)
echo "latency: keystroke to redraw while an instance floods its console: min $LAT_MIN_MS ms, median $LAT_MEDIAN_MS ms, p90 $LAT_P90_MS ms, max $LAT_MAX_MS ms; vlab RSS $rss1 KiB, then $rss2 KiB"
awk "BEGIN { exit !($LAT_MEDIAN_MS < 50) }" && ok "flood: median latency under 50 ms" || bad "flood: median latency $LAT_MEDIAN_MS ms"
[ "${rss2:-999999}" -lt 65536 ] && [ "$rss2" -lt $((rss1 + 8192)) ] && ok "flood: vlab's memory stays bounded" ||
	bad "flood: vlab RSS grew from $rss1 to $rss2 KiB"
keys q y
wait_exit 15
check_restored "flood"

# SIGTERM with instances running: terminal restored, nothing left running.
rm -rf "$TUI_DIR/state"
tui_start 80 24 $(envs) -- "$VLAB" run tui-test
expect "vlab run ID opens the lab" "Step 1/6" 15
keys r
expect "SIGTERM: the instance runs" "console line 1" 15
kids=$(descendants "$TUI_PID")
[ -n "$kids" ] && ok "SIGTERM: processes under vlab: $(echo $kids)" || bad "SIGTERM: nothing runs under vlab"
kill -TERM "$TUI_PID"
wait_exit 15
[ "$TUI_RC" = 143 ] && ok "SIGTERM: exit status 143" || bad "SIGTERM: exit status $TUI_RC"
check_restored "SIGTERM"
sleep 0.5
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k($(tr '\0' ' ' </proc/$k/cmdline 2>/dev/null | cut -c1-60))"; done
[ -z "$left" ] && ok "SIGTERM: no instance left running" || bad "SIGTERM: still running:$left"
# A real VM: its boot on the console tab, keys fast while it boots, a login
# typed into its serial console.  Only where the VM engine can run.
if "$VLAB" doctor --json 2>/dev/null | jq -e '.engines.vm.available | . == true or . == "yes" or . == "degraded"' >/dev/null &&
	[ -f build/images/vmlinuz ] && [ -f build/images/initramfs.cpio.gz ]; then
	rm -rf "$TUI_DIR/state"
	tui_start 80 24 $(envs) -- "$VLAB" run "$PWD/tests/e2e/tui/vm/vm.lua"
	expect "vm: the lab opens" "Step 1/1" 15
	keys r
	expect "vm: the VM is starting" "vm1 starting" 30
	latency 20
	echo "latency: keystroke to redraw while a VM boots (80x24, load $(cut -d' ' -f1 /proc/loadavg)): min $LAT_MIN_MS ms, median $LAT_MEDIAN_MS ms, p90 $LAT_P90_MS ms, max $LAT_MAX_MS ms"
	awk "BEGIN { exit !($LAT_MEDIAN_MS < 50) }" && ok "vm: median latency under 50 ms while it boots" ||
		bad "vm: median latency $LAT_MEDIAN_MS ms while it boots"
	expect "vm: the login prompt on its console" "login:" 240
	keys Tab Tab Tab i
	type_text "root"
	keys Enter
	sleep 2
	type_text "uname -s; echo typed-\$((6*7))"
	keys Enter
	expect "vm: typing into the serial console" "typed-42" 60
	keys Escape q y
	wait_exit 30
	check_restored "vm"
else
	echo "skip: the VM part: the vm engine or its images are not available here (vlab doctor)"
fi

# Terminals vlab cannot drive: said plainly, with the way out.
out=$("$VLAB" </dev/null 2>&1); rc=$?
[ $rc = 2 ] && grep -q -- "--headless" <<<"$out" && ok "no terminal: status 2, points to --headless" ||
	bad "no terminal: status $rc: $out"
tui_start 80 24 $(envs TERM=dumb) -- "$VLAB"
wait_exit 10
[ "$TUI_RC" = 4 ] && screen | grep -q "cannot move the cursor" && ok "TERM=dumb: status 4, says why" ||
	bad "TERM=dumb: status $TUI_RC"
tui_done
