/* engines/unikernel/guest/fmt.c: vsnprintf and friends for the library OS:
 * the C99 conversions a program prints with (no wide characters, no %n). */
#include "uk.h"

struct out {
	char *buf;
	size_t len, pos; /* pos counts every byte, written or not */
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	int left, plus, space, zero, alt;
	int width, prec; /* prec < 0: not given */
};

/* Emits prefix + digits with width, precision and flags applied. */
static void emit(struct out *o, const struct spec *s, const char *prefix, const char *digits,
		 int ndigits)
{
	int plen = (int)strlen(prefix);
	int zeros = s->prec > ndigits ? s->prec - ndigits : 0;
	int total = plen + zeros + ndigits;
	int fill = s->width > total ? s->width - total : 0;
	if (!s->left && !(s->zero && s->prec < 0))
		pad(o, ' ', fill);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	if (!s->left && s->zero && s->prec < 0)
		pad(o, '0', fill);
	pad(o, '0', zeros);
	for (int i = 0; i < ndigits; i++)
		put(o, digits[i]);
	if (s->left)
		pad(o, ' ', fill);
}

static void fmt_int(struct out *o, struct spec *s, unsigned long long v, int neg, int base,
		    int upper)
{
	char d[24];
	int n = 0;
	const char *xd = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	while (v) {
		d[n++] = xd[v % (unsigned)base];
		v /= (unsigned)base;
	}
	if (n == 0 && s->prec != 0)
		d[n++] = '0';
	char r[24];
	for (int i = 0; i < n; i++)
		r[i] = d[n - 1 - i];
	const char *prefix = neg ? "-" : s->plus ? "+" : s->space ? " " : "";
	if (s->alt && base == 16 && n && !(n == 1 && r[0] == '0'))
		prefix = upper ? "0X" : "0x";
	else if (s->alt && base == 8 && r[0] != '0')
		prefix = "0";
	emit(o, s, prefix, r, n);
}

/* Digits of a non-negative finite double in fixed notation with prec
 * decimals, into d (no sign).  Returns the length, 0 if too large. */
static int fixed(double v, int prec, char *d, int cap)
{
	static const double p10[] = {1,	  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,
				     1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
	if (prec > 17)
		prec = 17;
	v += 0.5 / p10[prec];
	if (v >= 1.8e19)
		return 0;
	unsigned long long ip = (unsigned long long)v;
	double frac = v - (double)ip;
	char t[24];
	int n = 0, k = 0;
	do
		t[n++] = (char)('0' + ip % 10);
	while (ip /= 10);
	while (n && k < cap)
		d[k++] = t[--n];
	if (prec > 0 && k < cap)
		d[k++] = '.';
	for (int i = 0; i < prec && k < cap; i++) {
		frac *= 10;
		int dig = (int)frac;
		if (dig > 9)
			dig = 9;
		d[k++] = (char)('0' + dig);
		frac -= dig;
	}
	return k;
}

/* v in [1, 10) * 10^exp. */
static double normalize(double v, int *exp)
{
	int e = 0;
	if (v == 0) {
		*exp = 0;
		return 0;
	}
	while (v >= 1e16)
		v /= 1e16, e += 16;
	while (v >= 10)
		v /= 10, e++;
	while (v < 1e-16)
		v *= 1e16, e -= 16;
	while (v < 1)
		v *= 10, e--;
	*exp = e;
	return v;
}

static int expo(double v, int prec, char *d, int cap, int upper)
{
	int e;
	double m = normalize(v, &e);
	int k = fixed(m, prec, d, cap - 6);
	if (k > 0 && d[0] == '1' && d[1] == '0' && (k == 2 || d[2] == '.')) {
		/* rounding carried 9.99 into 10.0 */
		m /= 10, e++;
		k = fixed(m, prec, d, cap - 6);
	}
	d[k++] = upper ? 'E' : 'e';
	d[k++] = e < 0 ? '-' : '+';
	if (e < 0)
		e = -e;
	if (e >= 100)
		d[k++] = (char)('0' + e / 100);
	d[k++] = (char)('0' + e / 10 % 10);
	d[k++] = (char)('0' + e % 10);
	return k;
}

static int strip_zeros(char *d, int k)
{
	int dot = -1, e = k;
	for (int i = 0; i < k; i++) {
		if (d[i] == '.')
			dot = i;
		if (d[i] == 'e' || d[i] == 'E')
			e = i;
	}
	if (dot < 0)
		return k;
	int z = e;
	while (z > dot + 1 && d[z - 1] == '0')
		z--;
	if (z == dot + 1)
		z = dot;
	memmove(d + z, d + e, (size_t)(k - e));
	return z + (k - e);
}

static void fmt_double(struct out *o, struct spec *s, double v, char conv)
{
	char d[64];
	int k, upper = conv == 'E' || conv == 'G' || conv == 'F';
	int neg = v < 0 || (v == 0 && 1 / v < 0);
	if (neg)
		v = -v;
	const char *prefix = neg ? "-" : s->plus ? "+" : s->space ? " " : "";
	struct spec t = *s;
	t.prec = -1;
	if (v != v || v > 1.7976931348623157e308) {
		t.zero = 0;
		emit(o, &t, prefix, v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"), 3);
		return;
	}
	int prec = s->prec < 0 ? 6 : s->prec;
	if (conv == 'f' || conv == 'F') {
		k = fixed(v, prec, d, sizeof(d));
		if (k == 0)
			k = expo(v, prec, d, sizeof(d), upper);
	} else if (conv == 'e' || conv == 'E') {
		k = expo(v, prec, d, sizeof(d), upper);
	} else { /* g */
		int p = prec == 0 ? 1 : prec, e;
		normalize(v, &e);
		/* Rounding may bump the exponent: check with the rounded value. */
		char tmp[64];
		int tk = expo(v, p - 1, tmp, sizeof(tmp), 0), ex = 0, sign = 1;
		for (int i = 0; i < tk; i++)
			if (tmp[i] == 'e') {
				sign = tmp[i + 1] == '-' ? -1 : 1;
				for (int j = i + 2; j < tk; j++)
					ex = ex * 10 + tmp[j] - '0';
			}
		e = sign * ex;
		if (e < p && e >= -4)
			k = fixed(v, p - 1 - e, d, sizeof(d));
		else
			k = expo(v, p - 1, d, sizeof(d), upper);
		if (!s->alt)
			k = strip_zeros(d, k);
	}
	emit(o, &t, prefix, d, k);
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = {buf, len, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		struct spec s = {.prec = -1};
		for (;; p++) {
			char c = p[1];
			if (c == '-')
				s.left = 1;
			else if (c == '+')
				s.plus = 1;
			else if (c == ' ')
				s.space = 1;
			else if (c == '0')
				s.zero = 1;
			else if (c == '#')
				s.alt = 1;
			else
				break;
		}
		p++;
		if (*p == '*') {
			s.width = va_arg(ap, int);
			if (s.width < 0)
				s.left = 1, s.width = -s.width;
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				s.width = s.width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			s.prec = 0;
			if (*p == '*') {
				s.prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					s.prec = s.prec * 10 + (*p++ - '0');
			}
		}
		int size = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t/intmax/ptrdiff */
		for (;; p++) {
			if (*p == 'h')
				size--;
			else if (*p == 'l')
				size++;
			else if (*p == 'z' || *p == 'j' || *p == 't')
				size = 3;
			else
				break;
		}
		char conv = *p;
		if (!conv)
			break;
		unsigned long long u;
		long long sv;
		switch (conv) {
		case 'd':
		case 'i':
			sv = size >= 1 ? (size == 1 ? va_arg(ap, long) : va_arg(ap, long long))
				       : va_arg(ap, int);
			if (size == -1)
				sv = (short)sv;
			else if (size == -2)
				sv = (signed char)sv;
			fmt_int(&o, &s,
				sv < 0 ? 0ull - (unsigned long long)sv : (unsigned long long)sv,
				sv < 0, 10, 0);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			u = size >= 1 ? (size == 1 ? va_arg(ap, unsigned long)
						   : va_arg(ap, unsigned long long))
				      : va_arg(ap, unsigned);
			if (size == -1)
				u = (unsigned short)u;
			else if (size == -2)
				u = (unsigned char)u;
			fmt_int(&o, &s, u, 0, conv == 'u' ? 10 : conv == 'o' ? 8 : 16, conv == 'X');
			break;
		case 'p':
			s.alt = 1;
			fmt_int(&o, &s, (uintptr_t)va_arg(ap, void *), 0, 16, 0);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			s.prec = -1;
			s.zero = 0;
			emit(&o, &s, "", &c, 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int n = 0;
			while (str[n] && (s.prec < 0 || n < s.prec))
				n++;
			s.prec = -1;
			s.zero = 0;
			emit(&o, &s, "", str, n);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
			fmt_double(&o, &s, va_arg(ap, double), conv);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown: print it as written */
			put(&o, '%');
			put(&o, conv);
			break;
		}
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return (int)o.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char small[512];
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		uk_console_write(small, (size_t)n);
	} else if (n > 0) {
		char *big = malloc((size_t)n + 1);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, ap2);
			uk_console_write(big, (size_t)n);
			free(big);
		} else {
			uk_console_write(small, sizeof(small) - 1);
		}
	}
	va_end(ap2);
	return n;
}
