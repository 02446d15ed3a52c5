/* tui/text.h: a lab's prose, wrapped to a width with its simple markup
 * rendered into styled lines.  Pure (no curses): unit-tested.
 *
 * The markup (documented for lab authors in docs/tui.md):
 *   # Heading, ## Sub-heading        a heading line
 *   blank line                       ends a paragraph; other lines join
 *   - item  or  * item               a bullet, wrapped with a hanging indent
 *   1. item                          a numbered item, same
 *   ``` ... ```                      a code block, shown verbatim
 *   *emphasis*  **strong**           emphasis
 *   `code`                           inline code
 *   \*                               a literal markup character
 * Common leading indentation (a Lua [[long string]] inside an indented
 * table) is removed first. */
#ifndef VLAB_TUI_TEXT_H
#define VLAB_TUI_TEXT_H

#include <stddef.h>

#include "tui/term.h"

/* One display line: bytes (UTF-8) with a style per byte. */
struct tui_line {
	char *text;
	unsigned char *style; /* enum tui_style per byte */
	size_t len;
	int width; /* display columns */
};

struct tui_text {
	struct tui_line *line;
	size_t n, cap;
};

/* Renders src wrapped to width columns (width >= 8) into out, which must
 * be zeroed or previously freed.  Returns 0, -1 on memory exhaustion (out
 * then holds what fit). */
int tui_text_render(struct tui_text *out, const char *src, int width);

/* Appends one line of plain text in one style, cut to width columns
 * (for headers the panels add themselves). */
int tui_text_add(struct tui_text *t, const char *s, enum tui_style style, int width);

/* A new empty line at the end of t (NULL when out of memory), and bytes
 * appended to a line in one style: for panels that build lines piecewise. */
struct tui_line *tui_text_newline(struct tui_text *t);
int tui_line_add(struct tui_line *l, const char *s, size_t n, enum tui_style style);

void tui_text_free(struct tui_text *t);

/* Display columns of the UTF-8 string s[0..len). */
int tui_text_width(const char *s, size_t len);

/* Bytes of s that fit in cols display columns (never splits a character). */
size_t tui_text_fit(const char *s, size_t len, int cols);

#endif
