/* tui/term.h: the terminal under the TUI: curses set-up and, above all,
 * its restoration on every way out (normal exit, error, SIGTERM, SIGINT,
 * SIGHUP, a crash), the colour decision (NO_COLOR, terminals without
 * colours) and the line-drawing character set (UTF-8 or ASCII). */
#ifndef VLAB_TUI_TERM_H
#define VLAB_TUI_TERM_H

#include "core/err.h"

/* Styles the panels draw with; each maps to a colour pair or, in
 * monochrome, to plain attributes (bold, reverse, underline, dim). */
enum tui_style {
	TUI_NORMAL,
	TUI_TITLE,    /* top bar */
	TUI_BORDER,   /* panel frames */
	TUI_FOCUS,    /* the frame of the focused panel */
	TUI_HEADING,  /* markup: # heading */
	TUI_EMPH,     /* markup: *emphasis* */
	TUI_CODE,     /* markup: `code` and code blocks */
	TUI_KEY,      /* a key name on the bottom line */
	TUI_DIM,      /* secondary text */
	TUI_GOOD,     /* check passed, running */
	TUI_BAD,      /* check failed, errors */
	TUI_WARN,     /* emulated, starting */
	TUI_BAR,      /* chart bars */
	TUI_BASELINE, /* the host baseline's bar */
	TUI_SELECT,   /* the selected row or choice */
	TUI_STYLE_COUNT
};

/* Line-drawing and chart glyphs, UTF-8 or ASCII. */
struct tui_glyphs {
	int utf8;
	const char *hline, *vline, *tl, *tr, *bl, *br;
	const char *full;    /* a full bar cell */
	const char *part[8]; /* part[k]: k/8 of a cell (part[0] is "") */
	const char *whisker; /* range marker */
	const char *ellipsis;
	const char *bullet;
};

struct tui_term {
	int color;   /* colours in use */
	int started; /* curses is up */
	struct tui_glyphs g;
	int sigfd; /* readable when a terminating signal or a resize arrived */
};

/* Starts curses on the controlling terminal: locale, raw keys, keypad,
 * no echo, hidden cursor, colours unless NO_COLOR is set (non-empty) or the
 * terminal has none, the glyph set (ASCII when the locale is not UTF-8 or
 * VLAB_ASCII is set).  Installs handlers so that SIGTERM/SIGINT/SIGHUP make
 * sigfd readable (the poll loop then leaves cleanly) and a crash restores
 * the terminal before dying.  Fails with ENOTTY when stdin/stdout is not a
 * terminal, ENOTSUP when curses cannot drive it (TERM=dumb). */
int tui_term_start(struct tui_term *t, struct vlab_err *err);

/* Restores the terminal (idempotent; also registered with atexit). */
void tui_term_stop(struct tui_term *t);

/* The signal that asked us to leave (0 when none, or only a resize);
 * drains sigfd. */
int tui_term_pending_signal(struct tui_term *t);

/* curses attributes for a style. */
int tui_attr(enum tui_style s);

/* Whether NO_COLOR asks for monochrome (set and not empty, as no-color.org
 * says). ncurses 6.4 does not check it itself. */
int tui_no_color_env(void);

#endif
