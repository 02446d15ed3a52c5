# tests/e2e/tui/lib.bash: driving a TUI in tmux: start it in a private tmux
# server at a given size, send keys, wait for text on the screen, measure
# keystroke-to-redraw latency, check the terminal comes back as it was.
# Sourced by tests/e2e/tui/*.sh.

TUI_SOCK="vlab-tui-test-$$-0"
TUI_N=0
TUI_DIR=$(mktemp -d "/tmp/vlab-tui-test.$$.XXXXXX")
TUI_FAILS=0
tmx() { tmux -L "$TUI_SOCK" "$@"; }

tui_cleanup() {
	tmx kill-server 2>/dev/null
	rm -rf "$TUI_DIR"
}
trap tui_cleanup EXIT

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; TUI_FAILS=$((TUI_FAILS + 1)); }

# tui_start COLS ROWS ENV... -- CMD...: runs CMD in a fresh session "t"
# inside a wrapper that records the terminal settings before and after, and
# the exit status; the pane stays open afterwards.
tui_start() {
	local cols=$1 rows=$2; shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	rm -f "$TUI_DIR/rc" "$TUI_DIR/stty.before" "$TUI_DIR/stty.after" "$TUI_DIR/pid"
	cat >"$TUI_DIR/wrap.sh" <<-WRAP
	stty -g >"$TUI_DIR/stty.before"
	bash -c 'echo \$\$ >"$TUI_DIR/pid"; exec env ${envs[*]} $*'
	echo \$? >"$TUI_DIR/rc.tmp"
	stty -g >"$TUI_DIR/stty.after"
	mv "$TUI_DIR/rc.tmp" "$TUI_DIR/rc"
	exec sleep 600
	WRAP
	# A fresh server each time: a dying one must not race the new one.
	tmx kill-server 2>/dev/null
	TUI_N=$((TUI_N + 1))
	TUI_SOCK="vlab-tui-test-$$-$TUI_N"
	tmx -f /dev/null new-session -d -s t -x "$cols" -y "$rows" "bash $TUI_DIR/wrap.sh"
	tmx set-option -t t -g default-terminal tmux-256color >/dev/null 2>&1
	local i=0
	while [ ! -s "$TUI_DIR/pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	TUI_PID=$(cat "$TUI_DIR/pid" 2>/dev/null)
}

screen() { tmx capture-pane -p -t t; }
keys() { tmx send-keys -t t "$@"; }
type_text() { tmx send-keys -t t -l "$1"; }

# wait_for TEXT [SECONDS]: until TEXT is on the screen.
wait_for() {
	local text=$1 secs=${2:-10} i=0
	while [ $i -lt $((secs * 20)) ]; do
		if screen | grep -qF -- "$text"; then return 0; fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "--- screen while waiting for '$text':"
	screen
	return 1
}

expect() { # description, text[, seconds]
	if wait_for "$2" "${3:-10}"; then ok "$1"; else bad "$1: '$2' never appeared"; fi
}

# wait_exit [SECONDS]: until the program ended; its status in TUI_RC.
wait_exit() {
	local secs=${1:-10} i=0
	while [ ! -s "$TUI_DIR/rc" ] && [ $i -lt $((secs * 20)) ]; do sleep 0.05; i=$((i + 1)); done
	TUI_RC=$(cat "$TUI_DIR/rc" 2>/dev/null || echo none)
}

# The terminal after the program: same stty settings, normal screen, cursor
# visible.
check_restored() { # description
	if [ -s "$TUI_DIR/stty.after" ] && cmp -s "$TUI_DIR/stty.before" "$TUI_DIR/stty.after"; then
		ok "$1: terminal settings restored"
	else
		bad "$1: terminal settings differ (before $(cat "$TUI_DIR/stty.before" 2>/dev/null), after $(cat "$TUI_DIR/stty.after" 2>/dev/null))"
	fi
	local alt cur
	alt=$(tmx display-message -p -t t '#{alternate_on}')
	cur=$(tmx display-message -p -t t '#{cursor_flag}')
	if [ "$alt" = 0 ] && [ "$cur" = 1 ]; then
		ok "$1: normal screen, cursor visible"
	else
		bad "$1: alternate screen $alt, cursor flag $cur"
	fi
}

# Descendants of a pid (the instance processes of a TUI).
descendants() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$p"
		descendants "$p"
	done
}

# latency N: opens the help (F1) N times, timing each from the keystroke
# to the help's text in the program's output, closing it in between
# (tests/e2e/tui/latency.py, one tmux control client).  Sets LAT_MIN_MS
# LAT_MEDIAN_MS LAT_P90_MS LAT_MAX_MS.
latency() {
	local r
	r=$(python3 "$(dirname "${BASH_SOURCE[0]}")/latency.py" "$TUI_SOCK" t F1 "Moving around" Escape "$1")
	read -r LAT_MIN_MS LAT_MEDIAN_MS LAT_P90_MS LAT_MAX_MS <<<"$r"
}

tui_done() {
	if [ "$TUI_FAILS" -ne 0 ]; then
		echo "$TUI_FAILS check(s) failed"
		exit 1
	fi
	exit 0
}
