/* tui/scrollback.c: console lines in a bounded ring. */
#include "tui/scrollback.h"

#include <stdlib.h>
#include <string.h>

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_OSC, ESC_OSC_END, ESC_UTF8 };

int tui_sb_init(struct tui_scrollback *sb, size_t max_lines, size_t max_bytes)
{
	memset(sb, 0, sizeof(*sb));
	if (max_lines < 1)
		max_lines = 1;
	sb->ring = calloc(max_lines, sizeof(char *));
	if (!sb->ring)
		return -1;
	sb->cap = max_lines;
	sb->max_bytes = max_bytes;
	return 0;
}

void tui_sb_free(struct tui_scrollback *sb)
{
	for (size_t i = 0; i < sb->n; i++)
		free(sb->ring[(sb->head + i) % sb->cap]);
	free(sb->ring);
	memset(sb, 0, sizeof(*sb));
}

static void evict(struct tui_scrollback *sb)
{
	char *old = sb->ring[sb->head];
	sb->bytes -= strlen(old) + 1;
	free(old);
	sb->ring[sb->head] = NULL;
	sb->head = (sb->head + 1) % sb->cap;
	sb->n--;
	sb->dropped++;
}

static void end_line(struct tui_scrollback *sb)
{
	sb->cur[sb->cur_len] = '\0';
	char *l = strdup(sb->cur);
	sb->cur_len = 0;
	if (!l)
		return; /* out of memory: the line is lost, the ring stays sound */
	size_t sz = strlen(l) + 1;
	while (sb->n > 0 && (sb->n == sb->cap || sb->bytes + sz > sb->max_bytes))
		evict(sb);
	sb->ring[(sb->head + sb->n) % sb->cap] = l;
	sb->n++;
	sb->bytes += sz;
}

static void put(struct tui_scrollback *sb, char c)
{
	if (sb->cur_len == TUI_SB_LINE_MAX) {
		/* Do not split a UTF-8 sequence across the two lines. */
		size_t keep = sb->cur_len;
		while (keep > 0 && ((unsigned char)sb->cur[keep - 1] & 0xc0) == 0x80)
			keep--;
		if (keep > 0 && (unsigned char)sb->cur[keep - 1] >= 0xc0)
			keep--;
		else
			keep = sb->cur_len;
		char tail[8];
		size_t tl = sb->cur_len - keep;
		memcpy(tail, sb->cur + keep, tl);
		sb->cur_len = keep;
		end_line(sb);
		memcpy(sb->cur, tail, tl);
		sb->cur_len = tl;
	}
	sb->cur[sb->cur_len++] = c;
}

void tui_sb_feed(struct tui_scrollback *sb, const char *data, size_t len)
{
	sb->fed += len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		switch (sb->esc) {
		case ESC_START:
			sb->esc = c == '[' ? ESC_CSI : c == ']' ? ESC_OSC : ESC_NONE;
			continue;
		case ESC_CSI:
			if (c >= 0x40 && c <= 0x7e)
				sb->esc = ESC_NONE;
			continue;
		case ESC_OSC:
			if (c == 0x07)
				sb->esc = ESC_NONE;
			else if (c == 0x1b)
				sb->esc = ESC_OSC_END;
			continue;
		case ESC_OSC_END:
			sb->esc = c == '\\' ? ESC_NONE : ESC_OSC;
			continue;
		default:
			break;
		}
		if (sb->cr) {
			sb->cr = 0;
			if (c != '\n')
				sb->cur_len = 0; /* a lone CR rewrites the line */
		}
		switch (c) {
		case 0x1b:
			sb->esc = ESC_START;
			break;
		case '\n':
			end_line(sb);
			break;
		case '\r':
			sb->cr = 1;
			break;
		case '\b':
			while (sb->cur_len > 0 &&
			       ((unsigned char)sb->cur[sb->cur_len - 1] & 0xc0) == 0x80)
				sb->cur_len--;
			if (sb->cur_len > 0)
				sb->cur_len--;
			break;
		case '\t':
			do
				put(sb, ' ');
			while (sb->cur_len % 8);
			break;
		default:
			if (c >= 0x20 && c != 0x7f)
				put(sb, (char)c);
			break;
		}
	}
	sb->cur[sb->cur_len] = '\0';
}

size_t tui_sb_count(const struct tui_scrollback *sb)
{
	return sb->n + (sb->cur_len > 0 ? 1 : 0);
}

const char *tui_sb_line(const struct tui_scrollback *sb, size_t i)
{
	if (i < sb->n)
		return sb->ring[(sb->head + i) % sb->cap];
	if (i == sb->n && sb->cur_len > 0)
		return sb->cur; /* kept NUL-terminated by tui_sb_feed() */
	return "";
}
