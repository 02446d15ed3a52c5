/* tui/text.c: markup parsing and word wrapping for the lesson pane. */
#include "tui/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* A styled byte buffer: a paragraph before it is wrapped. */
struct sbuf {
	char *t;
	unsigned char *st;
	size_t len, cap;
	int oom;
};

static void sb_put(struct sbuf *b, char c, unsigned char style)
{
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 128;
		char *t = realloc(b->t, cap);
		if (t)
			b->t = t;
		unsigned char *st = realloc(b->st, cap);
		if (st)
			b->st = st;
		if (!t || !st) {
			b->oom = 1;
			return;
		}
		b->cap = cap;
	}
	b->t[b->len] = c;
	b->st[b->len++] = style;
}

static void sb_free(struct sbuf *b)
{
	free(b->t);
	free(b->st);
	memset(b, 0, sizeof(*b));
}

/* Length in bytes of the UTF-8 sequence starting with c (1 for junk). */
static size_t u8len(unsigned char c)
{
	if (c < 0xc0)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

static int cell_width(const char *s, size_t n)
{
	if (n == 1)
		return (unsigned char)s[0] < 0x20 ? 0 : 1;
	wchar_t wc = 0;
	unsigned char c = (unsigned char)s[0];
	wc = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
	for (size_t i = 1; i < n; i++)
		wc = (wc << 6) | ((unsigned char)s[i] & 0x3f);
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

int tui_text_width(const char *s, size_t len)
{
	int w = 0;
	for (size_t i = 0; i < len;) {
		size_t n = u8len((unsigned char)s[i]);
		if (i + n > len)
			n = len - i;
		w += cell_width(s + i, n);
		i += n;
	}
	return w;
}

size_t tui_text_fit(const char *s, size_t len, int cols)
{
	int w = 0;
	size_t i = 0;
	while (i < len) {
		size_t n = u8len((unsigned char)s[i]);
		if (i + n > len)
			n = len - i;
		int cw = cell_width(s + i, n);
		if (w + cw > cols)
			break;
		w += cw;
		i += n;
	}
	return i;
}

static struct tui_line *new_line(struct tui_text *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct tui_line *l = realloc(t->line, cap * sizeof(*l));
		if (!l)
			return NULL;
		t->line = l;
		t->cap = cap;
	}
	struct tui_line *l = &t->line[t->n++];
	memset(l, 0, sizeof(*l));
	return l;
}

/* Appends bytes with their styles to line l. */
static int line_put(struct tui_line *l, const char *s, const unsigned char *st, unsigned char one,
		    size_t n)
{
	char *t = realloc(l->text, l->len + n + 1);
	if (!t)
		return -1;
	l->text = t;
	unsigned char *ss = realloc(l->style, l->len + n + 1);
	if (!ss)
		return -1;
	l->style = ss;
	memcpy(l->text + l->len, s, n);
	for (size_t i = 0; i < n; i++)
		l->style[l->len + i] = st ? st[i] : one;
	l->len += n;
	l->text[l->len] = '\0';
	l->width += tui_text_width(s, n);
	return 0;
}

static int pad(struct tui_line *l, int cols)
{
	for (int i = 0; i < cols; i++)
		if (line_put(l, " ", NULL, TUI_NORMAL, 1) < 0)
			return -1;
	return 0;
}

int tui_text_add(struct tui_text *t, const char *s, enum tui_style style, int width)
{
	struct tui_line *l = new_line(t);
	if (!l)
		return -1;
	size_t n = strlen(s);
	if (width > 0)
		n = tui_text_fit(s, n, width);
	return line_put(l, s, NULL, (unsigned char)style, n);
}

/* Wraps paragraph b: the first line starts with prefix (styled pst), the
 * following ones with indent spaces. */
static int wrap(struct tui_text *t, const struct sbuf *b, const char *prefix, unsigned char pst,
		int indent, int width)
{
	struct tui_line *l = new_line(t);
	if (!l || line_put(l, prefix, NULL, pst, strlen(prefix)) < 0)
		return -1;
	int line_has_word = 0;
	size_t i = 0;
	while (i < b->len) {
		size_t sp = i;
		while (i < b->len && b->t[i] == ' ')
			i++;
		if (i == b->len)
			break;
		size_t w0 = i;
		while (i < b->len && b->t[i] != ' ')
			i++;
		size_t wlen = i - w0;
		int ww = tui_text_width(b->t + w0, wlen);
		int need = ww + (line_has_word ? 1 : 0);
		if (line_has_word && l->width + need > width) {
			if (!(l = new_line(t)) || pad(l, indent) < 0)
				return -1;
			line_has_word = 0;
		}
		if (line_has_word && line_put(l, " ", b->st + (w0 > sp ? w0 - 1 : w0), 0, 1) < 0)
			return -1;
		/* A word wider than the line is cut into line-sized pieces. */
		size_t off = w0;
		while (off < i) {
			int room = width - l->width;
			size_t take = tui_text_fit(b->t + off, i - off, room > 0 ? room : 0);
			if (take == 0 && l->width > indent) {
				if (!(l = new_line(t)) || pad(l, indent) < 0)
					return -1;
				continue;
			}
			if (take == 0)
				take = u8len((unsigned char)b->t[off]);
			if (line_put(l, b->t + off, b->st + off, 0, take) < 0)
				return -1;
			off += take;
		}
		line_has_word = 1;
	}
	return 0;
}

/* Parses inline markup of one source line into b. */
static void inline_markup(struct sbuf *b, const char *s, size_t n, unsigned char base, int *emph,
			  int *code)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n && strchr("*`_\\#", s[i + 1])) {
			sb_put(b, s[++i], *code ? TUI_CODE : *emph ? TUI_EMPH : base);
			continue;
		}
		if (c == '`') {
			*code = !*code;
			continue;
		}
		if (!*code && c == '*') {
			size_t run = (i + 1 < n && s[i + 1] == '*') ? 2 : 1;
			int opens = !*emph && i + run < n && s[i + run] != ' ';
			int closes = *emph && i > 0 && s[i - 1] != ' ';
			if (opens || closes) {
				*emph = !*emph;
				i += run - 1;
				continue;
			}
		}
		if (c == '\t')
			c = ' ';
		if ((unsigned char)c < 0x20)
			continue;
		sb_put(b, c, *code ? TUI_CODE : *emph ? TUI_EMPH : base);
	}
}

struct para {
	struct sbuf b;
	int open;
	char prefix[32];
	int indent;
	int emph, code;
	unsigned char base;
};

static int flush(struct tui_text *t, struct para *p, int width)
{
	int r = 0;
	if (p->open)
		r = p->b.oom ? -1 : wrap(t, &p->b, p->prefix, TUI_NORMAL, p->indent, width);
	sb_free(&p->b);
	p->open = 0;
	p->emph = p->code = 0;
	p->base = TUI_NORMAL;
	return r;
}

static size_t lead(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* "- ", "* ", "12. " at the start: the marker's length, else 0. */
static size_t bullet(const char *s, size_t n)
{
	if (n >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ')
		return 2;
	size_t i = 0;
	while (i < n && i < 3 && isdigit((unsigned char)s[i]))
		i++;
	if (i > 0 && i + 1 < n && s[i] == '.' && s[i + 1] == ' ')
		return i + 2;
	return 0;
}

int tui_text_render(struct tui_text *t, const char *src, int width)
{
	if (width < 8)
		width = 8;
	if (!src)
		src = "";
	/* Common indentation of the non-blank lines. */
	size_t common = (size_t)-1;
	for (const char *s = src; *s;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		size_t l = lead(s, n);
		if (l < n && l < common)
			common = l;
		s += n + (e ? 1 : 0);
	}
	if (common == (size_t)-1)
		common = 0;

	struct para p;
	memset(&p, 0, sizeof(p));
	int fence = 0, last_blank = 1, r = 0;
	for (const char *s = src; *s && r == 0;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		const char *line = s;
		s += n + (e ? 1 : 0);
		size_t l = lead(line, n);
		size_t cut = l < common ? l : common;
		line += cut;
		n -= cut;
		l -= cut;
		const char *body = line + l;
		size_t bn = n - l;
		if (bn >= 3 && !strncmp(body, "```", 3)) {
			r = flush(t, &p, width);
			fence = !fence;
			continue;
		}
		if (fence) {
			struct tui_line *ln = new_line(t);
			if (!ln || pad(ln, 2) < 0) {
				r = -1;
				break;
			}
			size_t fit = tui_text_fit(line, n, width - 2);
			for (size_t i = 0; i < fit; i++)
				if (line_put(ln, line[i] == '\t' ? " " : line + i, NULL, TUI_CODE,
					     1) < 0)
					r = -1;
			last_blank = 0;
			continue;
		}
		if (bn == 0) {
			r = flush(t, &p, width);
			if (!last_blank && r == 0 && !new_line(t))
				r = -1;
			last_blank = 1;
			continue;
		}
		last_blank = 0;
		size_t bl;
		if (body[0] == '#') {
			r = flush(t, &p, width);
			size_t h = 0;
			while (h < bn && body[h] == '#')
				h++;
			while (h < bn && body[h] == ' ')
				h++;
			p.open = 1;
			p.prefix[0] = '\0';
			p.indent = 0;
			p.base = TUI_HEADING;
			inline_markup(&p.b, body + h, bn - h, p.base, &p.emph, &p.code);
			r = r ? r : flush(t, &p, width);
		} else if ((bl = bullet(body, bn)) > 0) {
			r = flush(t, &p, width);
			p.open = 1;
			int ind = (int)(l < 16 ? l : 16);
			/* "* item" is shown as "- item": one bullet look. */
			snprintf(p.prefix, sizeof(p.prefix), "%*s%s%.*s", ind, "",
				 bl == 2 ? "-" : "", (int)(bl == 2 ? 1 : bl), bl == 2 ? " " : body);
			p.indent = ind + (int)bl;
			inline_markup(&p.b, body + bl, bn - bl, p.base, &p.emph, &p.code);
		} else {
			if (!p.open) {
				p.open = 1;
				int ind = (int)(l < 16 ? l : 16);
				snprintf(p.prefix, sizeof(p.prefix), "%*s", ind, "");
				p.indent = ind;
			} else {
				sb_put(&p.b, ' ', p.code ? TUI_CODE : p.base);
			}
			inline_markup(&p.b, body, bn, p.base, &p.emph, &p.code);
		}
	}
	if (r == 0)
		r = flush(t, &p, width);
	else
		sb_free(&p.b);
	/* No trailing blank lines. */
	while (t->n > 0 && t->line[t->n - 1].len == 0) {
		free(t->line[t->n - 1].text);
		free(t->line[t->n - 1].style);
		t->n--;
	}
	return r;
}

struct tui_line *tui_text_newline(struct tui_text *t)
{
	return new_line(t);
}

int tui_line_add(struct tui_line *l, const char *s, size_t n, enum tui_style style)
{
	return line_put(l, s, NULL, (unsigned char)style, n);
}

void tui_text_free(struct tui_text *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->line[i].text);
		free(t->line[i].style);
	}
	free(t->line);
	memset(t, 0, sizeof(*t));
}
