/* workloads/proto.c: parsing, escaping and building protocol lines.
 * Freestanding: no libc beyond memcpy/memset/strlen (see platform.h). */
#include "workloads/proto.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Keys and verbs: a lowercase letter, then [a-z0-9_.-] (verbs: [a-z0-9-]). */
static int valid_name(const char *s, int is_key)
{
	if (!is_lower(*s))
		return 0;
	for (s++; *s; s++)
		if (!is_lower(*s) && !is_digit(*s) && *s != '-' &&
		    !(is_key && (*s == '_' || *s == '.')))
			return 0;
	return 1;
}

/* ---- the bounded writer ---- */

static void append(struct vlab_proto_out *o, const char *s, size_t n)
{
	if (o->overflow)
		return;
	if (o->len + n + 1 > o->cap) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void separate(struct vlab_proto_out *o)
{
	if (o->len > 0)
		append(o, " ", 1);
}

void vlab_proto_out_init(struct vlab_proto_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

void vlab_proto_put_word(struct vlab_proto_out *o, const char *word)
{
	separate(o);
	append(o, word, strlen(word));
}

void vlab_proto_put_text(struct vlab_proto_out *o, const char *text)
{
	separate(o);
	for (; *text; text++) {
		char c = (unsigned char)*text < 0x20 || *text == 0x7f ? '?' : *text;
		append(o, &c, 1);
	}
}

static const char hex[] = "0123456789ABCDEF";

static int needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '=';
}

size_t vlab_proto_escape(char *dst, size_t cap, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t need = 0;
	for (size_t i = 0; i < len; i++) {
		char e[3] = {'%', hex[s[i] >> 4], hex[s[i] & 15]};
		size_t k = needs_escape(s[i]) ? 3 : 1;
		const char *p = k == 3 ? e : (const char *)&s[i];
		for (size_t j = 0; j < k; j++, need++)
			if (need + 1 < cap)
				dst[need] = p[j];
	}
	if (cap)
		dst[need < cap ? need : cap - 1] = '\0';
	return need;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long vlab_proto_unescape(char *dst, size_t cap, const char *src, size_t len)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hexval(src[i + 1]);
			int lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (out + 1 >= cap)
			return -1;
		dst[out++] = c;
	}
	if (cap == 0)
		return -1;
	dst[out] = '\0';
	return (long)out;
}

void vlab_proto_put_mem(struct vlab_proto_out *o, const char *key, const void *value, size_t len)
{
	separate(o);
	append(o, key, strlen(key));
	append(o, "=", 1);
	if (o->overflow)
		return;
	size_t need = vlab_proto_escape(o->buf + o->len, o->cap - o->len, value, len);
	if (o->len + need + 1 > o->cap) {
		o->overflow = 1;
		o->buf[o->len] = '\0';
		return;
	}
	o->len += need;
}

void vlab_proto_put_str(struct vlab_proto_out *o, const char *key, const char *value)
{
	vlab_proto_put_mem(o, key, value, strlen(value));
}

size_t vlab_proto_fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

static void put_number(struct vlab_proto_out *o, const char *key, const char *text)
{
	separate(o);
	append(o, key, strlen(key));
	append(o, "=", 1);
	append(o, text, strlen(text));
}

void vlab_proto_put_u64(struct vlab_proto_out *o, const char *key, uint64_t value)
{
	char b[24];
	vlab_proto_fmt_u64(b, value);
	put_number(o, key, b);
}

void vlab_proto_put_i64(struct vlab_proto_out *o, const char *key, int64_t value)
{
	char b[24];
	uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	b[0] = '-';
	vlab_proto_fmt_u64(b + (value < 0), mag);
	put_number(o, key, b);
}

void vlab_proto_put_bool(struct vlab_proto_out *o, const char *key, int value)
{
	put_number(o, key, value ? "yes" : "no");
}

void vlab_proto_put_f64(struct vlab_proto_out *o, const char *key, double value, int decimals)
{
	char b[48];
	size_t n = 0;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (value != value) {
		put_number(o, key, "nan");
		return;
	}
	if (value < 0) {
		b[n++] = '-';
		value = -value;
	}
	uint64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	double x = value * (double)scale + 0.5;
	uint64_t v = x >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)x;
	n += vlab_proto_fmt_u64(b + n, v / scale);
	if (decimals) {
		uint64_t frac = v % scale;
		b[n++] = '.';
		for (uint64_t d = scale / 10; d; d /= 10)
			b[n++] = (char)('0' + frac / d % 10);
	}
	b[n] = '\0';
	put_number(o, key, b);
}

/* ---- bare conversions ---- */

int vlab_proto_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!is_digit(*s))
		return VLAB_PROTO_BAD;
	for (; *s; s++) {
		if (!is_digit(*s))
			return VLAB_PROTO_BAD;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return VLAB_PROTO_BAD;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int vlab_proto_parse_i64(const char *s, int64_t *out)
{
	int neg = *s == '-';
	uint64_t mag;
	if (vlab_proto_parse_u64(s + neg, &mag) < 0)
		return VLAB_PROTO_BAD;
	if (mag > (uint64_t)INT64_MAX + (uint64_t)neg)
		return VLAB_PROTO_BAD;
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

int vlab_proto_parse_size(const char *s, uint64_t *out)
{
	char digits[24];
	size_t n = 0;
	while (is_digit(s[n]) && n < sizeof(digits) - 1) {
		digits[n] = s[n];
		n++;
	}
	digits[n] = '\0';
	uint64_t v;
	if (n == 0 || vlab_proto_parse_u64(digits, &v) < 0)
		return VLAB_PROTO_BAD;
	const char *u = s + n;
	unsigned shift = 0;
	switch (*u) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return VLAB_PROTO_BAD;
	}
	if (*u) {
		u++;
		if (streq(u, "iB") || streq(u, "B"))
			u += strlen(u);
		if (*u)
			return VLAB_PROTO_BAD;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return VLAB_PROTO_BAD;
	*out = v << shift;
	return 0;
}

int vlab_proto_parse_f64(const char *s, double *out)
{
	int neg = *s == '-', digits = 0;
	double v = 0, scale = 1;
	s += neg;
	for (; is_digit(*s); s++, digits++)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; is_digit(*s); s++, digits++) {
			scale /= 10;
			v += (*s - '0') * scale;
		}
	if (!digits || *s)
		return VLAB_PROTO_BAD;
	*out = neg ? -v : v;
	return 0;
}

int vlab_proto_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (streq(s, yes[i]))
			return *out = 1, 0;
		if (streq(s, no[i]))
			return *out = 0, 0;
	}
	return VLAB_PROTO_BAD;
}

/* ---- getters ---- */

const struct vlab_proto_kv *vlab_proto_find(const struct vlab_proto_msg *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (streq(m->kv[i].key, key))
			return &m->kv[i];
	return 0;
}

const char *vlab_proto_str(const struct vlab_proto_msg *m, const char *key, const char *def)
{
	const struct vlab_proto_kv *kv = vlab_proto_find(m, key);
	return kv ? kv->value : def;
}

#define GETTER(name, type, conv)                                                                   \
	int name(const struct vlab_proto_msg *m, const char *key, type *out)                       \
	{                                                                                          \
		const struct vlab_proto_kv *kv = vlab_proto_find(m, key);                          \
		if (!kv)                                                                           \
			return VLAB_PROTO_ABSENT;                                                  \
		if (kv->value_len != strlen(kv->value))                                            \
			return VLAB_PROTO_BAD;                                                     \
		return conv(kv->value, out);                                                       \
	}

GETTER(vlab_proto_u64, uint64_t, vlab_proto_parse_u64)
GETTER(vlab_proto_i64, int64_t, vlab_proto_parse_i64)
GETTER(vlab_proto_size, uint64_t, vlab_proto_parse_size)
GETTER(vlab_proto_f64, double, vlab_proto_parse_f64)
GETTER(vlab_proto_bool, int, vlab_proto_parse_bool)

int vlab_proto_version_ok(const char *version)
{
	const char *name = VLAB_PROTO_NAME "/";
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (version[i] != name[i])
			return 0;
	uint64_t major;
	char buf[24];
	size_t k = 0;
	const char *p = version + n;
	while (is_digit(p[k]) && k < sizeof(buf) - 1) {
		buf[k] = p[k];
		k++;
	}
	buf[k] = '\0';
	if (!k || (p[k] && p[k] != '.') || vlab_proto_parse_u64(buf, &major) < 0)
		return 0;
	return major == VLAB_PROTO_MAJOR;
}

/* ---- parsing ---- */

/* Sets m->why from up to three pieces; a word is quoted and cut short. */
static int bad(struct vlab_proto_msg *m, const char *a, const char *word, const char *b)
{
	struct vlab_proto_out o;
	vlab_proto_out_init(&o, m->why, sizeof(m->why));
	append(&o, a, strlen(a));
	if (word) {
		size_t n = strlen(word);
		append(&o, " '", 2);
		append(&o, word, n > 32 ? 32 : n);
		if (n > 32)
			append(&o, "...", 3);
		append(&o, "'", 1);
	}
	if (b)
		append(&o, b, strlen(b));
	return -1;
}

/* The next space-separated word of *p, NUL-terminated in place; NULL at the end. */
static char *next_word(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s) {
		*p = s;
		return 0;
	}
	char *w = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

static int parse_pairs(char *rest, struct vlab_proto_msg *m)
{
	for (char *w; (w = next_word(&rest));) {
		char *eq = w;
		while (*eq && *eq != '=')
			eq++;
		if (!*eq)
			return bad(m, "argument", w, " is not key=value");
		*eq = '\0';
		if (!valid_name(w, 1))
			return bad(m, "key", w, " is not a name ([a-z][a-z0-9_.-]*)");
		if (vlab_proto_find(m, w))
			return bad(m, "key", w, " appears twice");
		if (m->n == VLAB_PROTO_MAX_KV)
			return bad(m, "more than 64 key=value pairs", 0, 0);
		char *v = eq + 1;
		long len = vlab_proto_unescape(v, strlen(v) + 1, v, strlen(v));
		if (len < 0)
			return bad(m, "value of", w, " has a malformed %-escape");
		m->kv[m->n].key = w;
		m->kv[m->n].value = v;
		m->kv[m->n].value_len = (size_t)len;
		m->n++;
	}
	return 0;
}

int vlab_proto_parse(char *line, struct vlab_proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	size_t len = strlen(line);
	if (len > VLAB_PROTO_LINE_MAX)
		return bad(m, "line longer than 65536 bytes", 0, 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f) {
			char col[24];
			vlab_proto_fmt_u64(col, i + 1);
			return bad(m, "control byte in the line at column", col, 0);
		}
	}
	char *rest = line;
	char *w = next_word(&rest);
	if (!w)
		return bad(m, "empty line", 0, 0);
	if (streq(w, "READY")) {
		m->kind = VLAB_MSG_READY;
		m->version = next_word(&rest);
		if (!m->version)
			return bad(m, "READY without a protocol version", 0, 0);
		return parse_pairs(rest, m);
	}
	if (is_digit(*w)) {
		/* 0 is an answer to a line whose id could not be read. */
		if (vlab_proto_parse_u64(w, &m->id) < 0 || m->id > (uint64_t)INT64_MAX) {
			m->id = 0;
			return bad(m, "id", w, " is not a number in 1..2^63-1");
		}
		w = next_word(&rest);
		if (!w)
			return bad(m, "nothing after the id", 0, 0);
	} else if (!streq(w, "ok") && !streq(w, "err")) {
		return bad(m, "a line starts with its id, READY, ok or err; not", w, 0);
	}
	if (streq(w, "ok")) {
		m->kind = VLAB_MSG_OK;
		return parse_pairs(rest, m);
	}
	if (streq(w, "err")) {
		m->kind = VLAB_MSG_ERR;
		m->code = next_word(&rest);
		if (!m->code)
			return bad(m, "err without a code", 0, 0);
		while (*rest == ' ')
			rest++;
		m->text = rest;
		return 0;
	}
	m->kind = VLAB_MSG_REQUEST;
	if (!m->id)
		return bad(m, "a request's id is a number in 1..2^63-1, not 0", 0, 0);
	if (!valid_name(w, 0))
		return bad(m, "verb", w, " is not a name ([a-z][a-z0-9-]*)");
	m->verb = w;
	return parse_pairs(rest, m);
}
