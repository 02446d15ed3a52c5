-- tests/e2e/lesson/grading.lua: a small lab on the host engine alone, with
-- a fake agent (no images needed), to test grading end to end.
local AGENT = "echo READY vlab-agent/1 t=1; while read id verb rest; do "
  .. "case $verb in exec) echo \"$id ok exit_code=0 stdout=hi%0A\";; "
  .. "*) echo \"$id err unknown no\";; esac; done"

return vlab.lab {
  id = "e2e-grading", title = "Grading <test> & \"friends\"", version = "3",
  steps = {
    vlab.step { id = "start", title = "Start # one", points = 2,
      run = function(lab)
        lab.h = assert(vlab.host { sh = AGENT, name = "h" })
        assert(lab.h:start())
        vlab.record("answer.value", 42, "ms")
      end,
      check = function(lab) return lab.h:exec("x").stdout == "hi\n", "said hi" end },
    vlab.step { id = "again", title = "Check again", points = 1,
      check = function(lab) return lab.h ~= nil and lab.h:state() == "running" end },
    vlab.question { id = "q-choice", prompt = "Pick the second", choices = { "a", "b", "c" },
      answer = 2, points = 1 },
    vlab.question { id = "q-num", prompt = "What did you measure?", unit = "ms",
      expected = function(m) return m["answer.value"] end, tolerance = "5%", points = 2 },
    vlab.question { id = "q-text", prompt = "Say host", accept = { "host" }, points = 1 },
  },
}
