-- tests/e2e/tui/flood/flood.lua: an instance that floods its console as
-- fast as it can (tests/e2e/tui/lab.sh checks that vlab's memory stays
-- bounded and keys stay fast).
return vlab.lab {
  id = "tui-flood",
  title = "A flooding console",
  steps = {
    vlab.step {
      id = "flood",
      title = "Flood",
      text = "Start an instance that writes to its console without pause.",
      run = function(lab)
        lab.f = assert(vlab.host {
          name = "flood",
          sh = "echo READY vlab-agent/1 t=0 platform=linux; "
            .. "while :; do echo 'flood flood flood flood flood flood flood flood' >&2; done",
        })
        assert(lab.f:start())
      end,
    },
  },
}
