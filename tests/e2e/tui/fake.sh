#!/usr/bin/env bash
# tests/e2e/tui/fake.sh: the TUI itself, driven in tmux against a scripted
# lesson session (build/tests/e2e/tui-fake) with a real host-engine
# instance: a whole lab at 80x24 and 200x50 (pick, read, run, instance and
# console, typing, chart, questions, quit, resume), resize mid-run, NO_COLOR,
# SIGTERM, a flooding console, and keystroke-to-redraw latency.
set -uo pipefail
cd "$(dirname "$0")/../../.."
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
. tests/e2e/tui/lib.bash
FAKE=$PWD/build/tests/e2e/tui-fake
[ -x "$FAKE" ] || { echo "FAIL: $FAKE is not built (make tests)"; exit 1; }
envs() { echo "VLAB_SELF=$PWD/vlab XDG_STATE_HOME=$TUI_DIR/state LANG=C.UTF-8 $*"; }

whole_lab() { # cols rows
	local c=$1 r=$2
	rm -rf "$TUI_DIR/state"
	tui_start "$c" "$r" $(envs) -- "$FAKE"
	expect "$c x $r: picker lists the lab" "A fake lab for the TUI tests"
	expect "$c x $r: picker shows a broken lab's error" "unexpected symbol"
	keys Enter
	expect "$c x $r: step 1 shown" "Step 1/4: Start an instance"
	expect "$c x $r: markup rendered" "one called box."
	if screen | grep -qF '**box**'; then bad "markup markers left on screen"; fi
	keys r
	expect "$c x $r: the instance appears" "Instances (1)"
	expect "$c x $r: its console output" "console line 1"
	expect "$c x $r: the step passes" "check passed"
	keys Tab Tab Tab i
	type_text "hello"
	keys Enter
	expect "$c x $r: typing into the console" "you typed: hello"
	keys Escape BTab BTab BTab
	keys n r
	expect "$c x $r: progress while measuring" "recorded, last"
	expect "$c x $r: the chart appears" "startup (ms"
	expect "$c x $r: ratio to the host baseline" "3.4x"
	keys n
	expect "$c x $r: question shown" "Question 3/4"
	keys 2 Enter
	expect "$c x $r: answer saved" "answer saved: right"
	keys q
	expect "$c x $r: quit asks while an instance runs" "Quit?"
	keys y
	wait_exit 10
	[ "$TUI_RC" = 0 ] && ok "$c x $r: quit with status 0" || bad "$c x $r: quit status $TUI_RC"
	check_restored "$c x $r quit"
	# Restart: progress resumed where the student left off.
	tui_start "$c" "$r" $(envs) -- "$FAKE"
	expect "$c x $r: restarted" "A fake lab for the TUI tests"
	keys Enter
	expect "$c x $r: progress resumed" "Question 4/4"
	expect "$c x $r: welcome back" "welcome back"
	keys q
	wait_exit 10
}

whole_lab 80 24
whole_lab 200 50

# Resize in the middle of a run, down to too small and back.
rm -rf "$TUI_DIR/state"
tui_start 80 24 $(envs) -- "$FAKE"
wait_for "A fake lab" >/dev/null
keys Enter
wait_for "Step 1/4" >/dev/null
keys n r
wait_for "working on step 2" 5 >/dev/null
tmx resize-window -t t -x 200 -y 50
sleep 0.3
# Laid out again: the frames reach column 200 and the key line is at the bottom.
width() { screen | wc -L; }
i=0
while [ "$(width)" != 200 ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
if [ "$(width)" = 200 ] && screen | tail -1 | grep -q "F1 help" && screen | grep -q "Step 2/4"; then
	ok "resize to 200x50 mid-run lays the screen out again"
else
	bad "resize to 200x50: width $(width)"; screen | tail -3
fi
tmx resize-window -t t -x 50 -y 14
expect "too small is said plainly" "needs at least 60x16"
tmx resize-window -t t -x 80 -y 24
expect "back at 80x24" "Step 2/4"
expect "the run finished across the resizes" "startup (ms"
keys q y
wait_exit 10
check_restored "after resizes"

# NO_COLOR: no colour escape codes at all; and without it, colours (so the
# check itself can fail).
colour_codes() { # file: counts SGR sequences that set a colour
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
	tui_start 80 24 $e -- "$FAKE"
	tmx pipe-pane -o -t t "cat >> $TUI_DIR/raw"
	wait_for "A fake lab" >/dev/null
	keys Enter
	wait_for "Step 1/4" >/dev/null
	keys r
	wait_for "check passed" >/dev/null
	keys '?'
	wait_for "Help" >/dev/null
	keys Escape q y
	wait_exit 10
	n=$(colour_codes "$TUI_DIR/raw")
	if [ $mode = nocolor ]; then
		[ "$n" = 0 ] && ok "NO_COLOR: no colour escape codes ($(wc -c <"$TUI_DIR/raw") bytes checked)" || bad "NO_COLOR: $n colour escape codes"
	else
		[ "$n" -gt 0 ] && ok "colours are used without NO_COLOR ($n colour codes)" || bad "no colour codes without NO_COLOR: the check proves nothing"
	fi
done

# SIGTERM with an instance running: terminal restored, no instance left.
rm -rf "$TUI_DIR/state"
tui_start 80 24 $(envs) -- "$FAKE"
wait_for "A fake lab" >/dev/null
keys Enter r
wait_for "console line 1" >/dev/null
kids=$(descendants "$TUI_PID")
[ -n "$kids" ] && ok "an instance process runs under the TUI ($(echo $kids))" || bad "no instance process under the TUI"
kill -TERM "$TUI_PID"
wait_exit 10
[ "$TUI_RC" = 143 ] && ok "SIGTERM: exit status 143" || bad "SIGTERM: exit status $TUI_RC"
check_restored "SIGTERM"
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
[ -z "$left" ] && ok "SIGTERM: no instance left running" || bad "SIGTERM: still running:$left"

# Latency while an instance boots and measures, and under a console flood.
for flood in "" 1; do
	rm -rf "$TUI_DIR/state"
	tui_start 80 24 $(envs FAKE_FLOOD=$flood) -- "$FAKE"
	wait_for "A fake lab" >/dev/null
	keys Enter
	wait_for "Step 1/4" >/dev/null
	keys r
	latency 20
	what="while an instance boots"
	[ -n "$flood" ] && what="while an instance floods its console"
	echo "latency: keystroke to redraw $what: min $LAT_MIN_MS ms, median $LAT_MEDIAN_MS ms, p90 $LAT_P90_MS ms, max $LAT_MAX_MS ms (20 keys, tmux control client, 80x24, load $(cut -d' ' -f1 /proc/loadavg))"
	if awk "BEGIN { exit !($LAT_MEDIAN_MS < 50) }"; then ok "median latency under 50 ms $what"; else bad "median latency $LAT_MEDIAN_MS ms $what"; fi
	if [ -n "$flood" ]; then
		sleep 2
		rss=$(awk '/VmRSS/ { print $2 }' /proc/"$TUI_PID"/status)
		[ "${rss:-999999}" -lt 65536 ] && ok "flood: the TUI's memory stays bounded (RSS ${rss} KiB)" || bad "flood: RSS ${rss} KiB"
		keys Tab Tab Tab
		expect "flood: the console shows the flood" "flood flood"
	fi
	keys q y
	wait_exit 10
	check_restored "latency run $flood"
done
tui_done
