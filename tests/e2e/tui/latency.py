#!/usr/bin/env python3
"""tests/e2e/tui/latency.py SOCKET TARGET KEY MARKER UNDO N: keystroke-to-
redraw latency of the program in a tmux pane, through one tmux control-mode
client (no process spawned per sample).  N times: sends KEY and times until
the program's output that puts MARKER on the screen arrives (the redraw
that KEY causes, told apart from whatever else is updating the screen, such
as a console: after each output the pane is captured in-band and searched),
then sends UNDO (untimed).  Prints "min median p90 max" in milliseconds."""
import os
import select
import subprocess
import sys
import time

sock, target, key, marker, undo, n = sys.argv[1:6] + [int(sys.argv[6])]
marker = marker.encode()
p = subprocess.Popen(["tmux", "-L", sock, "-C", "attach", "-t", target],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
fd = p.stdout.fileno()
buf = b""


def lines(deadline):
    """Yields output lines until deadline (monotonic seconds)."""
    global buf
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line
        left = deadline - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buf += chunk


def settle(quiet):
    """Reads until the pane has been quiet for `quiet` seconds (max 2 s)."""
    end = time.monotonic() + 2
    while time.monotonic() < end:
        got = False
        for line in lines(time.monotonic() + quiet):
            got = got or line.startswith(b"%output")
        if not got:
            return


def capture():
    """The pane's text, asked in-band (a %begin ... %end block)."""
    p.stdin.write(("capture-pane -p -t %s\n" % target).encode())
    out, inside = [], False
    for line in lines(time.monotonic() + 3):
        if line.startswith(b"%begin"):
            inside = True
        elif inside and (line.startswith(b"%end") or line.startswith(b"%error")):
            return b"\n".join(out)
        elif inside:
            out.append(line)
    return b""


samples = []
settle(0.3)
for i in range(n):
    t0 = time.monotonic()
    p.stdin.write(("send-keys -t %s %s\n" % (target, key)).encode())
    took = None
    while took is None and time.monotonic() < t0 + 3:
        for line in lines(t0 + 3):
            if line.startswith(b"%output"):
                t1 = time.monotonic()
                if marker in capture():
                    took = (t1 - t0) * 1000
                break
    samples.append(took if took is not None else 3000.0)
    p.stdin.write(("send-keys -t %s %s\n" % (target, undo)).encode())
    settle(0.1)
p.stdin.close()
p.wait(timeout=5)
samples.sort()
med = samples[(len(samples) - 1) // 2]
p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
print("%.1f %.1f %.1f %.1f" % (samples[0], med, p90, samples[-1]))
