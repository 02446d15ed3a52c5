/* libos: the library OS tests itself from the inside: the allocator, the
 * string functions, the printf family, strtoull, the clock.  Each failed
 * check is printed on the console; the exit status is the number of
 * failures (0: all passed). */
#include "uk.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void fmt_is(const char *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fmt_is(const char *want, const char *fmt, ...)
{
	char got[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	if (strcmp(got, want) || n != (int)strlen(want)) {
		printf("FAIL format \"%s\": got \"%s\" (%d), want \"%s\"\n", fmt, got, n, want);
		failures++;
	}
}

static void test_format(void)
{
	fmt_is("42 -7 +5  3", "%d %i %+d %2u", 42, -7, 5, 3u);
	fmt_is("ff FF 0x1f 017 0", "%x %X %#x %#o %x", 255, 255, 31, 15, 0);
	fmt_is("-9223372036854775808", "%lld", (long long)(-9223372036854775807LL - 1));
	fmt_is("18446744073709551615", "%llu", 18446744073709551615ull);
	fmt_is("|   ab|ab   |00042|  -42|", "|%5s|%-5s|%05d|%5d|", "ab", "ab", 42, -42);
	const char *volatile none = 0; /* hidden from the compiler's format check */
	fmt_is("abc|ab|(null)", "%s|%.2s|%s", "abc", "abcdef", none);
	fmt_is("x%y", "%c%%%c", 'x', 'y');
	fmt_is("  7|7  |", "%*d|%-*d|", 3, 7, 3, 7);
	fmt_is("3.141593 3.14 3 -0.50", "%f %.2f %.0f %.2f", 3.14159265, 3.14159265, 3.14159265,
	       -0.5);
	fmt_is("1.234500e+03 1.2E-05", "%e %.1E", 1234.5, 0.0000123);
	fmt_is("0.0001 1e-05 123456 1.23457e+06 100", "%g %g %g %g %g", 0.0001, 0.00001, 123456.0,
	       1234567.0, 100.0);
	fmt_is("inf -inf nan", "%f %f %f", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0);
	fmt_is("1.00 10.0", "%.2f %.1f", 0.999, 9.99);
	fmt_is("0x1000", "%p", (void *)0x1000);
	fmt_is("5 255 65535", "%zu %hhu %hu", (size_t)5, 255, 65535);
	char small[4];
	CHECK(snprintf(small, sizeof(small), "%s", "truncated") == 9);
	CHECK(!strcmp(small, "tru"));
	CHECK(snprintf(0, 0, "%d", 12345) == 5);
}

static void test_strings(void)
{
	char b[32] = "0123456789";
	memmove(b + 2, b, 8); /* overlapping, forwards */
	CHECK(!memcmp(b, "0101234567", 10));
	memmove(b, b + 2, 8); /* overlapping, backwards */
	CHECK(!memcmp(b, "0123456767", 10));
	memset(b, 'z', 5);
	CHECK(!memcmp(b, "zzzzz5", 6));
	CHECK(strlen("") == 0 && strlen("abc") == 3);
	CHECK(strcmp("a", "b") < 0 && strcmp("b", "a") > 0 && strcmp("ab", "ab") == 0);
	CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("abcx", "abcy", 4) < 0);
	CHECK(strchr("hello", 'l') && *strchr("hello", 'l') == 'l' && !strchr("hello", 'q'));
	CHECK(strchr("hello", '\0') && *strchr("hello", '\0') == '\0');
	CHECK(memcmp("\x01", "\xff", 1) < 0);
	char *end;
	CHECK(strtoull("12345xyz", &end, 10) == 12345 && *end == 'x');
	CHECK(strtoull("0x1F", 0, 0) == 31 && strtoull("017", 0, 0) == 15);
	CHECK(strtoull("99999999999999999999999", 0, 10) == ~0ull);
	CHECK(strtoull("junk", &end, 10) == 0 && !strcmp(end, "junk"));
}

static void test_alloc(void)
{
	size_t before = uk_heap_free();
	void *p[64];
	for (int i = 0; i < 64; i++) {
		p[i] = malloc((size_t)(i * 37 + 1));
		CHECK(p[i] && (uintptr_t)p[i] % 16 == 0);
		memset(p[i], i, (size_t)(i * 37 + 1));
	}
	for (int i = 0; i < 64; i++)
		for (size_t k = 0; k < (size_t)(i * 37 + 1); k++)
			if (((uint8_t *)p[i])[k] != i) {
				printf("FAIL block %d overwritten at %lu\n", i, (unsigned long)k);
				failures++;
				break;
			}
	for (int i = 0; i < 64; i += 2)
		free(p[i]);
	for (int i = 1; i < 64; i += 2)
		free(p[i]);
	CHECK(uk_heap_free() == before); /* everything coalesced back */

	/* calloc and page allocations come back zeroed, even when reused. */
	uint8_t *d = malloc(10000);
	memset(d, 0xab, 10000);
	free(d);
	uint8_t *z = calloc(100, 100);
	CHECK(z);
	for (int i = 0; z && i < 10000; i++)
		if (z[i]) {
			CHECK(z[i] == 0);
			break;
		}
	free(z);
	uint8_t *pg = uk_page_alloc(3 * 4096 + 1);
	CHECK(pg && (uintptr_t)pg % 4096 == 0);
	memset(pg, 0xcd, 4 * 4096);
	uk_page_free(pg, 3 * 4096 + 1);
	pg = uk_page_alloc(4 * 4096);
	for (int i = 0; pg && i < 4 * 4096; i++)
		if (pg[i]) {
			CHECK(pg[i] == 0);
			break;
		}
	uk_page_free(pg, 4 * 4096);

	char *r = malloc(8);
	memcpy(r, "1234567", 8);
	r = realloc(r, 100000);
	CHECK(r && !strcmp(r, "1234567"));
	free(r);
	CHECK(calloc((size_t)1 << 62, 8) == 0); /* overflow */
	CHECK(malloc(uk_heap_size() + 1) == 0);
	CHECK(uk_page_alloc((size_t)-1) == 0);
	CHECK(uk_heap_free() == before);
}

static void test_clock(void)
{
	uint64_t a = uk_now_ns(), b = uk_now_ns();
	CHECK(b >= a);
	CHECK(uk_wall_ns() > 1600000000ull * 1000000000ull);
	/* The TSC clock agrees with the host's: the host's reading falls
	 * between two of ours taken around it (100 us of slack for the
	 * calibration), however long the exit took. */
	struct uk_hc_clock c = {0};
	uint64_t before = uk_now_ns();
	uk_hcall(UK_HC_CLOCK, &c);
	uint64_t after = uk_now_ns();
	CHECK(c.monotonic_ns + 100000 >= before && c.monotonic_ns <= after + 100000);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_format();
	test_strings();
	test_alloc();
	test_clock();
	printf("libos: %d failures\n", failures);
	return failures;
}
