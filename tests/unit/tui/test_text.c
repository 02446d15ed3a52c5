/* tests/unit/tui/test_text.c: lesson text markup and wrapping, console
 * scrollback bounds and escape stripping, bar chart layout. */
#include "tests/vtest.h"

#include <stdlib.h>

#include "tui/chart.h"
#include "tui/scrollback.h"
#include "tui/text.h"

static const struct tui_glyphs ascii = {
    .utf8 = 0,
    .hline = "-",
    .vline = "|",
    .full = "#",
    .part = {"", "", "", "", "", "", "", ""},
    .whisker = "|",
    .ellipsis = "~",
    .bullet = "*",
};

/* The style of the first byte of needle in line i. */
static int style_at(const struct tui_text *t, size_t i, const char *needle)
{
	const char *p = strstr(t->line[i].text, needle);
	assert_non_null(p);
	return t->line[i].style[p - t->line[i].text];
}

static void test_wrap_width(void **state)
{
	(void)state;
	struct tui_text t = {0};
	const char *src =
	    "The quick brown fox jumps over the lazy dog and keeps on running far away.";
	assert_int_equal(tui_text_render(&t, src, 20), 0);
	assert_true(t.n >= 4);
	for (size_t i = 0; i < t.n; i++) {
		assert_true(t.line[i].width <= 20);
		assert_int_equal(t.line[i].width, tui_text_width(t.line[i].text, t.line[i].len));
		assert_true(t.line[i].text[0] != ' '); /* no leading space on wrapped lines */
	}
	assert_string_equal(t.line[0].text, "The quick brown fox");
	tui_text_free(&t);
}

static void test_markup(void **state)
{
	(void)state;
	struct tui_text t = {0};
	const char *src = "\n"
			  "    # Containers\n"
			  "\n"
			  "    A *container* is a `process`,\n"
			  "    not a machine.\n"
			  "\n"
			  "    - first point that is long enough to wrap around\n"
			  "    * second\n"
			  "    ```\n"
			  "    $ ls   -l\n"
			  "    ```\n"
			  "    2 * 3 = 6 and \\*literal\\*\n";
	assert_int_equal(tui_text_render(&t, src, 30), 0);
	/* Common indentation removed, heading marker gone, heading styled. */
	assert_string_equal(t.line[0].text, "Containers");
	assert_int_equal(t.line[0].style[0], TUI_HEADING);
	assert_int_equal(t.line[1].len, 0);
	/* A paragraph's lines are joined, markup characters removed. */
	assert_string_equal(t.line[2].text, "A container is a process, not");
	assert_int_equal(style_at(&t, 2, "container"), TUI_EMPH);
	assert_int_equal(style_at(&t, 2, "process"), TUI_CODE);
	assert_int_equal(style_at(&t, 2, "is"), TUI_NORMAL);
	assert_string_equal(t.line[3].text, "a machine.");
	/* Bullets with a hanging indent; "*" bullets look like "-" ones. */
	assert_string_equal(t.line[5].text, "- first point that is long");
	assert_true(!strncmp(t.line[6].text, "  enough", 8));
	size_t i = 7;
	while (i < t.n && strncmp(t.line[i].text, "- second", 8))
		i++;
	assert_true(i < t.n);
	/* Code blocks verbatim (spaces kept), code style. */
	assert_string_equal(t.line[i + 1].text, "  $ ls   -l");
	assert_int_equal(t.line[i + 1].style[2], TUI_CODE);
	/* A lone "*" between spaces is not emphasis; escapes are literal. */
	assert_string_equal(t.line[i + 2].text, "2 * 3 = 6 and *literal*");
	assert_int_equal(style_at(&t, i + 2, "literal"), TUI_NORMAL);
	tui_text_free(&t);
}

static void test_long_word_and_utf8(void **state)
{
	(void)state;
	struct tui_text t = {0};
	/* 30 two-byte characters: cut by columns, never inside a character. */
	char word[128] = "";
	for (int i = 0; i < 30; i++)
		strcat(word, "\xc3\xa9");
	assert_int_equal(tui_text_render(&t, word, 10), 0);
	assert_int_equal(t.n, 3);
	for (size_t i = 0; i < t.n; i++) {
		assert_int_equal(t.line[i].width, 10);
		assert_int_equal(t.line[i].len, 20);
	}
	tui_text_free(&t);
	assert_int_equal(tui_text_render(&t, "", 40), 0);
	assert_int_equal(t.n, 0);
	tui_text_free(&t);
}

static void test_scrollback_lines_and_escapes(void **state)
{
	(void)state;
	struct tui_scrollback sb;
	assert_int_equal(tui_sb_init(&sb, 100, 1 << 20), 0);
	const char *in = "\x1b[1;32mgreen\x1b[0m text\r\n"
			 "progress 10%\rprogress 100%\n"
			 "tab\there\n"
			 "\x1b]0;title\x07osc gone\n"
			 "typo\b\b\bes\n"
			 "partial";
	tui_sb_feed(&sb, in, strlen(in));
	assert_int_equal(tui_sb_count(&sb), 6);
	assert_string_equal(tui_sb_line(&sb, 0), "green text");
	assert_string_equal(tui_sb_line(&sb, 1), "progress 100%");
	assert_string_equal(tui_sb_line(&sb, 2), "tab     here");
	assert_string_equal(tui_sb_line(&sb, 3), "osc gone");
	assert_string_equal(tui_sb_line(&sb, 4), "tes");
	assert_string_equal(tui_sb_line(&sb, 5), "partial");
	/* An escape sequence split across two reads is still removed. */
	tui_sb_feed(&sb, " \x1b[3", 4);
	tui_sb_feed(&sb, "1mred\n", 6);
	assert_string_equal(tui_sb_line(&sb, 5), "partial red");
	tui_sb_free(&sb);
}

static void test_scrollback_bounded(void **state)
{
	(void)state;
	struct tui_scrollback sb;
	assert_int_equal(tui_sb_init(&sb, 1000, 64 * 1024), 0);
	char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	for (size_t i = 0; i < sizeof(chunk); i += 100)
		chunk[i] = '\n';
	/* 40 MiB of flood: memory stays within the bounds. */
	for (int i = 0; i < 10240; i++) {
		tui_sb_feed(&sb, chunk, sizeof(chunk));
		assert_true(sb.bytes <= 64 * 1024);
		assert_true(sb.n <= 1000);
	}
	assert_true(sb.dropped > 0);
	/* A line with no newline at all is cut at TUI_SB_LINE_MAX. */
	memset(chunk, 'y', sizeof(chunk));
	tui_sb_feed(&sb, chunk, sizeof(chunk));
	size_t n = tui_sb_count(&sb);
	assert_int_equal(strlen(tui_sb_line(&sb, n - 2)), TUI_SB_LINE_MAX);
	tui_sb_free(&sb);
}

static void test_chart(void **state)
{
	(void)state;
	struct tui_chart c = {
	    .title = "startup", .unit = "ms", .lower_better = 1, .n = 3, .progress = -1};
	c.bar[0] = (struct tui_bar){"host", 1.0, 0.9, 1.2, 5, 1, 0};
	c.bar[1] = (struct tui_bar){"container", 4.0, 3.0, 5.0, 5, 0, 0};
	c.bar[2] = (struct tui_bar){"unikernel", 2.0, 2.0, 2.0, 5, 0, 0};
	struct tui_text t = {0};
	assert_int_equal(tui_chart_render(&c, 60, &ascii, &t), 0);
	assert_int_equal(t.n, 4);
	assert_non_null(strstr(t.line[0].text, "startup (ms)"));
	assert_non_null(strstr(t.line[0].text, "5 runs"));
	assert_non_null(strstr(t.line[0].text, "lower is better"));
	for (size_t i = 0; i < t.n; i++)
		assert_true(t.line[i].width <= 60);
	/* Bars proportional to the median; the range as a whisker; ratios. */
	const char *host = strchr(t.line[1].text, '#');
	const char *ct = strchr(t.line[2].text, '#');
	size_t hn = strspn(host, "#"), cn = strspn(ct, "#");
	assert_true(cn >= 3 * hn && cn <= 5 * hn);
	assert_non_null(strstr(t.line[2].text, "4.00 [3.00-5.00] 4.0x"));
	assert_non_null(strstr(t.line[2].text, "#-"));
	assert_null(strstr(t.line[1].text, "x")); /* no ratio for the baseline itself */
	assert_non_null(strstr(t.line[3].text, "2.0x"));
	tui_text_free(&t);

	/* Narrow: ranges dropped first; still within the width. */
	assert_int_equal(tui_chart_render(&c, 30, &ascii, &t), 0);
	for (size_t i = 0; i < t.n; i++)
		assert_true(t.line[i].width <= 30);
	assert_null(strstr(t.line[2].text, "["));
	tui_text_free(&t);

	/* While measuring: a pending bar and a progress line. */
	c.bar[2].pending = 1;
	c.progress = 2;
	c.progress_of = 5;
	assert_int_equal(tui_chart_render(&c, 60, &ascii, &t), 0);
	assert_int_equal(t.n, 5);
	assert_non_null(strstr(t.line[3].text, "measuring"));
	assert_non_null(strstr(t.line[4].text, "run 2 of 5"));
	tui_text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrap_width),
	    cmocka_unit_test(test_markup),
	    cmocka_unit_test(test_long_word_and_utf8),
	    cmocka_unit_test(test_scrollback_lines_and_escapes),
	    cmocka_unit_test(test_scrollback_bounded),
	    cmocka_unit_test(test_chart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
