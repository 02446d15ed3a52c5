/* tui/scrollback.h: a console's scrollback: the bytes an instance writes,
 * cut into lines, with terminal escape sequences and control characters
 * removed, kept in a ring bounded both in lines and in bytes, so a guest
 * flooding its console costs fixed memory.  Pure (no curses). */
#ifndef VLAB_TUI_SCROLLBACK_H
#define VLAB_TUI_SCROLLBACK_H

#include <stddef.h>
#include <stdint.h>

#define TUI_SB_LINE_MAX 1024 /* longer lines are continued on the next */

struct tui_scrollback {
	char **ring; /* completed lines, oldest at head */
	size_t cap, head, n;
	size_t bytes, max_bytes;       /* bytes held by completed lines */
	char cur[TUI_SB_LINE_MAX + 1]; /* the line being written */
	size_t cur_len;
	int esc;	  /* escape-sequence parser state */
	int cr;		  /* a '\r' was seen: the next byte decides */
	uint64_t fed;	  /* bytes fed in total */
	uint64_t dropped; /* lines evicted from the ring */
};

/* Empty scrollback keeping at most max_lines lines and max_bytes bytes of
 * text.  Returns -1 when out of memory. */
int tui_sb_init(struct tui_scrollback *sb, size_t max_lines, size_t max_bytes);
void tui_sb_free(struct tui_scrollback *sb);

/* Feeds raw console bytes. */
void tui_sb_feed(struct tui_scrollback *sb, const char *data, size_t len);

/* Lines held, counting a non-empty line in progress. */
size_t tui_sb_count(const struct tui_scrollback *sb);

/* Line i, 0 the oldest held; the line in progress is the last. */
const char *tui_sb_line(const struct tui_scrollback *sb, size_t i);

#endif
