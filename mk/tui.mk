# mk/tui.mk: the TUI's test harness: the real TUI linked with a scripted
# fake lesson session (tests/e2e/tui/fake_session.c), driven in tmux by
# tests/e2e/tui/*.sh.
TUI_FAKE := $(O)/tests/e2e/tui-fake
TEST_DEPS += $(TUI_FAKE)

$(TUI_FAKE): tests/e2e/tui/fake_session.c $(O)/libvlab.a $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(VLAB_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libvlab.a $(VLAB_LDLIBS)
