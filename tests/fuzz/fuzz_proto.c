/* tests/fuzz/fuzz_proto.c: the agent protocol codec (workloads/proto.c),
 * which parses every line a guest sends to the front end.
 *
 * Input: one line (bytes up to the first NUL; no newline needed).
 * Properties: a refusal says why; an accepted line's pointers lie inside
 * the line; every typed getter agrees with the bare conversion; writing
 * the parsed message back with the bounded writer and parsing that gives
 * the same message (kind, id, verb, version, code, text, pairs with their
 * bytes); escaping any bytes and unescaping gives them back. */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "workloads/proto.h"

static char line[VLAB_PROTO_LINE_MAX + 2];
static char copy[VLAB_PROTO_LINE_MAX + 2];
static char out[4 * VLAB_PROTO_LINE_MAX];

static int inside(const char *p, const char *base, size_t len)
{
	return !p || (p >= base && p <= base + len);
}

static void check_getters(const struct vlab_proto_msg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct vlab_proto_kv *kv = &m->kv[i];
		FUZZ_CHECK(vlab_proto_find(m, kv->key) == kv, "key %s found elsewhere", kv->key);
		FUZZ_CHECK(strlen(kv->value) <= kv->value_len, "value longer than value_len");
		int whole = strlen(kv->value) == kv->value_len;
		uint64_t u, u2;
		int64_t s;
		double d;
		int b;
		int r = vlab_proto_u64(m, kv->key, &u);
		FUZZ_CHECK(r == (whole ? vlab_proto_parse_u64(kv->value, &u2) : VLAB_PROTO_BAD),
			   "u64 getter and parser disagree on '%s'", kv->value);
		if (r == 0) {
			/* decimal text of the number parses back to it */
			char txt[24];
			vlab_proto_fmt_u64(txt, u);
			FUZZ_CHECK(vlab_proto_parse_u64(txt, &u2) == 0 && u2 == u, "u64 %s", txt);
		}
		vlab_proto_i64(m, kv->key, &s);
		vlab_proto_size(m, kv->key, &u);
		vlab_proto_f64(m, kv->key, &d);
		vlab_proto_bool(m, kv->key, &b);
	}
	FUZZ_CHECK(vlab_proto_str(m, "no-such-key-in-any-line!", "def")[0] == 'd', "str default");
}

/* Writes m back as a line; 0 when it fits. */
static int write_back(const struct vlab_proto_msg *m, struct vlab_proto_out *o)
{
	char id[24];
	vlab_proto_out_init(o, out, sizeof(out));
	vlab_proto_fmt_u64(id, m->id);
	switch (m->kind) {
	case VLAB_MSG_READY:
		vlab_proto_put_word(o, "READY");
		vlab_proto_put_word(o, m->version);
		break;
	case VLAB_MSG_REQUEST:
		vlab_proto_put_word(o, id);
		vlab_proto_put_word(o, m->verb);
		break;
	case VLAB_MSG_OK:
	case VLAB_MSG_ERR:
		if (m->id)
			vlab_proto_put_word(o, id);
		vlab_proto_put_word(o, m->kind == VLAB_MSG_OK ? "ok" : "err");
		if (m->kind == VLAB_MSG_ERR) {
			vlab_proto_put_word(o, m->code);
			vlab_proto_put_text(o, m->text);
		}
		break;
	}
	for (size_t i = 0; i < m->n; i++)
		vlab_proto_put_mem(o, m->kv[i].key, m->kv[i].value, m->kv[i].value_len);
	return o->overflow ? -1 : 0;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void round_trip(const struct vlab_proto_msg *m)
{
	static struct vlab_proto_msg again;
	struct vlab_proto_out o;
	if (write_back(m, &o) < 0)
		return; /* escaping made it longer than the buffer: nothing to compare */
	if (o.len > VLAB_PROTO_LINE_MAX)
		return; /* a line the writer made, too long to send: not parsed */
	FUZZ_CHECK(vlab_proto_parse(out, &again) == 0, "written line refused: %s", again.why);
	FUZZ_CHECK(again.kind == m->kind && again.id == m->id, "kind/id changed");
	FUZZ_CHECK(same_str(again.verb, m->verb) && same_str(again.version, m->version) &&
		       same_str(again.code, m->code) && same_str(again.text, m->text),
		   "verb/version/code/text changed");
	FUZZ_CHECK(again.n == m->n, "%zu pairs became %zu", m->n, again.n);
	for (size_t i = 0; i < m->n; i++) {
		FUZZ_CHECK(!strcmp(again.kv[i].key, m->kv[i].key), "key changed");
		FUZZ_CHECK(again.kv[i].value_len == m->kv[i].value_len &&
			       !memcmp(again.kv[i].value, m->kv[i].value, m->kv[i].value_len),
			   "value of %s changed", m->kv[i].key);
	}
}

static void escape_round_trip(const uint8_t *data, size_t size)
{
	static char esc[3 * 4096 + 1], back[4096 + 1];
	if (size > 4096)
		size = 4096;
	size_t need = vlab_proto_escape(esc, sizeof(esc), data, size);
	FUZZ_CHECK(need == strlen(esc), "escape length %zu vs %zu", need, strlen(esc));
	for (size_t i = 0; i < need; i++)
		FUZZ_CHECK(esc[i] > 0x20 && esc[i] < 0x7f && esc[i] != '=', "escaped byte %#x",
			   (unsigned)(unsigned char)esc[i]);
	long n = vlab_proto_unescape(back, sizeof(back), esc, need);
	FUZZ_CHECK(n == (long)size && !memcmp(back, data, size), "unescape(escape(x)) != x");
	/* a short destination is refused or truncated, never overrun */
	char small[8];
	vlab_proto_escape(small, sizeof(small), data, size);
	FUZZ_CHECK(strlen(small) < sizeof(small), "escape overran");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	memcpy(line, data, len);
	line[len] = '\0';
	len = strlen(line);
	memcpy(copy, line, len + 1);

	static struct vlab_proto_msg m;
	int r = vlab_proto_parse(line, &m);
	if (r < 0) {
		FUZZ_CHECK(m.why[0], "refused without a reason");
		FUZZ_CHECK(strlen(m.why) < sizeof(m.why), "reason not terminated");
	} else {
		FUZZ_CHECK(r == 0, "parse returned %d", r);
		FUZZ_CHECK(m.n <= VLAB_PROTO_MAX_KV, "%zu pairs", m.n);
		FUZZ_CHECK(inside(m.verb, line, len) && inside(m.version, line, len) &&
			       inside(m.code, line, len) && inside(m.text, line, len),
			   "a field points outside the line");
		if (m.kind == VLAB_MSG_READY)
			vlab_proto_version_ok(m.version);
		check_getters(&m);
		round_trip(&m);
	}
	/* the bare conversions on the raw text */
	uint64_t u;
	int64_t s;
	double d;
	int b;
	vlab_proto_parse_u64(copy, &u);
	vlab_proto_parse_i64(copy, &s);
	vlab_proto_parse_size(copy, &u);
	vlab_proto_parse_f64(copy, &d);
	vlab_proto_parse_bool(copy, &b);
	vlab_proto_version_ok(copy);
	escape_round_trip(data, size);
	return 0;
}
