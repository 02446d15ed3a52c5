-- tests/e2e/tui/labs/tui-test.lua: a small lab for the TUI's end-to-end
-- tests: a host-engine instance with a console that answers typing, one
-- that takes seconds to boot while printing (the UI must stay responsive),
-- a measurement and its chart, two questions, and a step that fails with a
-- Lua error on purpose.
local SHELL = table.concat({
  "echo 'booting box...' >&2",
  "sleep 0.5",
  "echo 'console line 1' >&2",
  "echo READY vlab-agent/1 t=0 platform=linux",
  "while read -r l <&2; do echo \"you typed: $l\" >&2; done",
}, "; ")

local SLOW = table.concat({
  "i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo \"slow boot $i/40\" >&2; sleep 0.1; done",
  "echo READY vlab-agent/1 t=0 platform=linux",
  "exec sleep 600",
}, "; ")

return vlab.lab {
  id = "tui-test",
  title = "TUI test lab",
  intro = "A lab for the **TUI** tests.",
  steps = {
    vlab.step {
      id = "start",
      title = "Start an instance",
      text = [[
        # Start an instance

        An *instance* is a process tree on the host. Press `r` to start
        one called **box**; its console appears below.

        - it prints to its console
        - you can type into it
      ]],
      hints = { "Press r.", "Really: press r." },
      run = function(lab)
        lab.box = assert(vlab.host { name = "box", sh = SHELL })
        assert(lab.box:start())
      end,
      check = function(lab)
        return lab.box ~= nil and lab.box:state() == "running", "box is running"
      end,
    },
    vlab.step {
      id = "boot",
      title = "A slow boot",
      text = "Start an instance that takes four seconds to boot.",
      run = function(lab)
        lab.slow = assert(vlab.host { name = "slow", sh = SLOW })
        assert(lab.slow:start())
      end,
    },
    vlab.step {
      id = "measure",
      title = "Measure startup",
      text = "Measure how long *box* took to start, and chart it.",
      run = function(lab)
        local r = vlab.compare { instances = { lab.box }, metric = "startup", title = "startup" }
        vlab.record("box_startup", r.box.value, "ms")
      end,
    },
    vlab.question {
      id = "kernel",
      prompt = "Which kernel does a container run on?",
      choices = { "its own kernel", "the host's kernel" },
      answer = 2,
    },
    vlab.question {
      id = "answer",
      kind = "numeric",
      prompt = "What is six times seven?",
      answer = 42,
      unit = "",
    },
    vlab.step {
      id = "oops",
      title = "A step that fails",
      text = "This step raises a Lua error on purpose: the UI must show it.",
      run = function() error("deliberate failure for the TUI test") end,
    },
  },
}
