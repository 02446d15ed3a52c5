/* tui/term.c: curses set-up and restoration, colours, glyphs, signals.
 *
 * The terminal must come back whatever happens: tui_term_stop() runs on the
 * normal path and from atexit(); SIGTERM/SIGINT/SIGHUP only write to a
 * self-pipe so the poll loop can stop the instances and leave in order; a
 * crash signal restores the saved termios and the terminfo reset strings
 * (async-signal-safe calls only) and then dies of the same signal. */
#include "tui/term.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

static struct tui_term *active;
static SCREEN *screen;
static struct termios saved_tio;
static int have_tio;
static int sigpipe_fd[2] = {-1, -1};
static char reset_seq[256]; /* rmcup, cnorm, sgr0: written on a crash */
static size_t reset_len;
static int attrs[TUI_STYLE_COUNT]; /* curses attributes, as int for wattr_on */

static const struct tui_glyphs utf8_glyphs = {
    .utf8 = 1,
    .hline = "\xe2\x94\x80",
    .vline = "\xe2\x94\x82",
    .tl = "\xe2\x94\x8c",
    .tr = "\xe2\x94\x90",
    .bl = "\xe2\x94\x94",
    .br = "\xe2\x94\x98",
    .full = "\xe2\x96\x88",
    .part = {"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c", "\xe2\x96\x8b",
	     "\xe2\x96\x8a", "\xe2\x96\x89"},
    .whisker = "\xe2\x94\x9c",
    .ellipsis = "\xe2\x80\xa6",
    .bullet = "\xe2\x80\xa2",
};

static const struct tui_glyphs ascii_glyphs = {
    .utf8 = 0,
    .hline = "-",
    .vline = "|",
    .tl = "+",
    .tr = "+",
    .bl = "+",
    .br = "+",
    .full = "#",
    .part = {"", "", "", "", "", "", "", ""},
    .whisker = "|",
    .ellipsis = "~",
    .bullet = "*",
};

int tui_no_color_env(void)
{
	const char *v = getenv("NO_COLOR");
	return v && *v;
}

int tui_attr(enum tui_style s)
{
	return (unsigned)s < TUI_STYLE_COUNT ? attrs[s] : (int)A_NORMAL;
}

static void on_term_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (sigpipe_fd[1] >= 0 && write(sigpipe_fd[1], &b, 1) < 0) {
		/* full pipe: a signal is already pending, nothing lost */
	}
	errno = saved;
}

/* SIGWINCH: ncurses' own handler notes the new size (getch then returns
 * KEY_RESIZE); ours also wakes the poll loop, which may be asleep. */
static struct sigaction ncurses_winch;

static void on_winch(int sig)
{
	int saved = errno;
	if (ncurses_winch.sa_handler != SIG_DFL && ncurses_winch.sa_handler != SIG_IGN &&
	    !(ncurses_winch.sa_flags & SA_SIGINFO))
		ncurses_winch.sa_handler(sig);
	unsigned char b = 0; /* 0: not a reason to leave */
	if (sigpipe_fd[1] >= 0 && write(sigpipe_fd[1], &b, 1) < 0) {
		/* full pipe: the loop wakes anyway */
	}
	errno = saved;
}

static void on_crash(int sig)
{
	if (reset_len && write(STDOUT_FILENO, reset_seq, reset_len) < 0) {
		/* nothing more can be done while dying */
	}
	if (have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void add_reset(const char *cap)
{
	char *s = tigetstr((char *)cap);
	if (!s || s == (char *)-1)
		return;
	size_t l = strlen(s);
	if (reset_len + l < sizeof(reset_seq)) {
		memcpy(reset_seq + reset_len, s, l);
		reset_len += l;
	}
}

static void at_exit_restore(void)
{
	if (active)
		tui_term_stop(active);
}

static void set_styles(int color)
{
	/* Monochrome first: readable on any terminal. */
	attrs[TUI_NORMAL] = A_NORMAL;
	attrs[TUI_TITLE] = A_REVERSE | A_BOLD;
	attrs[TUI_BORDER] = A_NORMAL;
	attrs[TUI_FOCUS] = A_BOLD;
	attrs[TUI_HEADING] = A_BOLD | A_UNDERLINE;
	attrs[TUI_EMPH] = A_BOLD;
	attrs[TUI_CODE] = A_UNDERLINE;
	attrs[TUI_KEY] = A_REVERSE;
	attrs[TUI_DIM] = A_DIM;
	attrs[TUI_GOOD] = A_BOLD;
	attrs[TUI_BAD] = A_BOLD | A_UNDERLINE;
	attrs[TUI_WARN] = A_BOLD;
	attrs[TUI_BAR] = A_NORMAL;
	attrs[TUI_BASELINE] = A_DIM;
	attrs[TUI_SELECT] = A_REVERSE;
	if (!color)
		return;
	static const struct {
		enum tui_style s;
		short fg, bg;
		int extra;
	} map[] = {
	    {TUI_TITLE, COLOR_WHITE, COLOR_BLUE, A_BOLD},
	    {TUI_BORDER, COLOR_BLUE, -1, 0},
	    {TUI_FOCUS, COLOR_CYAN, -1, A_BOLD},
	    {TUI_HEADING, COLOR_CYAN, -1, A_BOLD},
	    {TUI_EMPH, COLOR_YELLOW, -1, A_BOLD},
	    {TUI_CODE, COLOR_GREEN, -1, 0},
	    {TUI_KEY, COLOR_BLACK, COLOR_CYAN, 0},
	    {TUI_GOOD, COLOR_GREEN, -1, A_BOLD},
	    {TUI_BAD, COLOR_RED, -1, A_BOLD},
	    {TUI_WARN, COLOR_YELLOW, -1, 0},
	    {TUI_BAR, COLOR_CYAN, -1, 0},
	    {TUI_BASELINE, COLOR_MAGENTA, -1, 0},
	    {TUI_SELECT, COLOR_BLACK, COLOR_YELLOW, 0},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		short pair = (short)(i + 1);
		if (init_pair(pair, map[i].fg, map[i].bg) == ERR)
			continue;
		attrs[map[i].s] = COLOR_PAIR(pair) | map[i].extra;
	}
}

int tui_term_start(struct tui_term *t, struct vlab_err *err)
{
	memset(t, 0, sizeof(*t));
	t->sigfd = -1;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return vlab_err_set(err, ENOTTY,
				    "the lab UI needs a terminal (use `vlab run LAB --headless` "
				    "in scripts)");
	setlocale(LC_ALL, "");
	const char *cs = nl_langinfo(CODESET);
	const char *ascii = getenv("VLAB_ASCII");
	t->g = (cs && !strcmp(cs, "UTF-8") && !(ascii && *ascii)) ? utf8_glyphs : ascii_glyphs;

	if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return vlab_err_set(err, errno, "signal pipe");
	t->sigfd = sigpipe_fd[0];
	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
		have_tio = 1;

	/* ESC alone must not wait a second for a following key. */
	set_escdelay(25);
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		tui_term_stop(t);
		vlab_err_set(err, 0, "cannot start curses on this terminal (TERM=%s)",
			     getenv("TERM") ? getenv("TERM") : "");
		err->code = ENOTSUP;
		return -1;
	}
	t->started = 1;
	active = t;
	/* A screen UI needs cursor addressing (TERM=dumb has none). */
	char *cup = tigetstr((char *)"cup");
	if (!cup || cup == (char *)-1) {
		const char *term = getenv("TERM");
		tui_term_stop(t);
		vlab_err_set(err, 0,
			     "this terminal (TERM=%s) cannot move the cursor; use a terminal "
			     "such as xterm, or `vlab run LAB --headless`",
			     term ? term : "");
		err->code = ENOTSUP; /* a terminal vlab cannot drive */
		return -1;
	}
	reset_len = 0;
	add_reset("rmcup");
	add_reset("cnorm");
	add_reset("sgr0");
	static int registered;
	if (!registered) {
		atexit(at_exit_restore);
		registered = 1;
	}
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	t->color = !tui_no_color_env() && has_colors();
	if (t->color && start_color() == OK) {
		use_default_colors();
	} else {
		t->color = 0;
	}
	set_styles(t->color);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, &ncurses_winch);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void tui_term_stop(struct tui_term *t)
{
	if (t->started) {
		curs_set(1);
		endwin();
		delscreen(screen);
		screen = NULL;
		t->started = 0;
	}
	if (have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	for (int i = 0; i < 2; i++)
		if (sigpipe_fd[i] >= 0) {
			close(sigpipe_fd[i]);
			sigpipe_fd[i] = -1;
		}
	t->sigfd = -1;
	if (active == t)
		active = NULL;
}

int tui_term_pending_signal(struct tui_term *t)
{
	unsigned char b;
	int sig = 0;
	while (t->sigfd >= 0 && read(t->sigfd, &b, 1) == 1)
		if (b)
			sig = b;
	return sig;
}
