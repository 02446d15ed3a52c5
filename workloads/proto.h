/* workloads/proto.h: the agent line protocol's codec (docs/agent-protocol.md).
 *
 * One implementation for both ends: compiled into the probe agent (also
 * freestanding, for the unikernel) and into libvlab, where front ends,
 * metrics and lessons parse the agent's answers with it.  It needs nothing
 * but <stddef.h>, <stdint.h> and memcpy/memset/strlen; it never allocates.
 *
 * Parsing works in place: vlab_proto_parse() splits a mutable line into
 * words and unescapes the values where they lie; the message points into
 * that line, which must outlive it.  Building a line goes through a
 * bounded writer (struct vlab_proto_out) that escapes values and reports
 * overflow instead of truncating silently. */
#ifndef VLAB_WORKLOADS_PROTO_H
#define VLAB_WORKLOADS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define VLAB_PROTO_NAME "vlab-agent"
#define VLAB_PROTO_MAJOR 1
#define VLAB_PROTO_VERSION "vlab-agent/1"
/* Longest line either side may send, without its newline. */
#define VLAB_PROTO_LINE_MAX 65536
/* Most key=value pairs in one message. */
#define VLAB_PROTO_MAX_KV 64

enum vlab_msg_kind {
	VLAB_MSG_REQUEST, /* <id> <verb> k=v ...      (front end -> agent) */
	VLAB_MSG_OK,	  /* [<id>] ok k=v ...         (agent -> front end) */
	VLAB_MSG_ERR,	  /* [<id>] err <code> <text>  (agent -> front end) */
	VLAB_MSG_READY,	  /* READY vlab-agent/1 k=v ... (agent, once) */
};

struct vlab_proto_kv {
	const char *key;
	const char *value; /* unescaped, NUL-terminated */
	size_t value_len;  /* bytes in value (a value may hold %00) */
};

struct vlab_proto_msg {
	enum vlab_msg_kind kind;
	uint64_t id;	     /* 0 when the line carried none */
	const char *verb;    /* REQUEST */
	const char *version; /* READY: "vlab-agent/1" */
	const char *code;    /* ERR: "badreq", "io", ... */
	const char *text;    /* ERR: the message (rest of the line, as sent) */
	size_t n;
	struct vlab_proto_kv kv[VLAB_PROTO_MAX_KV];
	char why[128]; /* after a failed parse: what is wrong, and where */
};

/* Parses one line (no newline) in place into *m.  Accepts requests,
 * responses with or without their id (vlab_instance_request() strips it)
 * and the READY line.  Returns 0, or -1 with m->why set and m->id holding
 * the id when one could be read (so the agent can answer it). */
int vlab_proto_parse(char *line, struct vlab_proto_msg *m);

/* Whether version ("vlab-agent/1", "vlab-agent/1.2") is one this code
 * speaks: same name and major number. */
int vlab_proto_version_ok(const char *version);

/* ---- typed getters ---- */

/* Results of the getters below. */
#define VLAB_PROTO_FOUND 0
#define VLAB_PROTO_ABSENT (-1) /* no such key; *out untouched */
#define VLAB_PROTO_BAD (-2)    /* present but not of that type */

/* The pair named key, or NULL. */
const struct vlab_proto_kv *vlab_proto_find(const struct vlab_proto_msg *m, const char *key);
/* The value of key, or def when absent. */
const char *vlab_proto_str(const struct vlab_proto_msg *m, const char *key, const char *def);
/* Unsigned decimal ("4096"). */
int vlab_proto_u64(const struct vlab_proto_msg *m, const char *key, uint64_t *out);
/* Signed decimal ("-1"). */
int vlab_proto_i64(const struct vlab_proto_msg *m, const char *key, int64_t *out);
/* A size: decimal with an optional binary suffix K, M, G, T ("64M"). */
int vlab_proto_size(const struct vlab_proto_msg *m, const char *key, uint64_t *out);
/* A fixed-point decimal ("1234.56", "-0.5"); no exponent. */
int vlab_proto_f64(const struct vlab_proto_msg *m, const char *key, double *out);
/* yes/no, on/off, true/false, 1/0. */
int vlab_proto_bool(const struct vlab_proto_msg *m, const char *key, int *out);

/* The same conversions on a bare string: 0, or VLAB_PROTO_BAD. */
int vlab_proto_parse_u64(const char *s, uint64_t *out);
int vlab_proto_parse_i64(const char *s, int64_t *out);
int vlab_proto_parse_size(const char *s, uint64_t *out);
int vlab_proto_parse_f64(const char *s, double *out);
int vlab_proto_parse_bool(const char *s, int *out);

/* ---- escaping ---- */

/* Escapes len bytes of src into dst (NUL-terminated when cap > 0).
 * Returns the length the escaped text needs, like snprintf. */
size_t vlab_proto_escape(char *dst, size_t cap, const void *src, size_t len);
/* Unescapes len bytes of src into dst (which may be src itself).  Returns
 * the byte count written (dst NUL-terminated), or -1 on a malformed escape
 * or when cap is too small. */
long vlab_proto_unescape(char *dst, size_t cap, const char *src, size_t len);

/* ---- building a line ---- */

struct vlab_proto_out {
	char *buf;
	size_t cap, len; /* buf always NUL-terminated */
	int overflow;	 /* something did not fit; the line must not be sent */
};

void vlab_proto_out_init(struct vlab_proto_out *o, char *buf, size_t cap);
/* A bare word (id, verb, "ok", an error code), separated by a space. */
void vlab_proto_put_word(struct vlab_proto_out *o, const char *word);
/* Free text for an error message: spaces kept, control bytes become '?'. */
void vlab_proto_put_text(struct vlab_proto_out *o, const char *text);
/* key=value pairs; values are escaped. */
void vlab_proto_put_str(struct vlab_proto_out *o, const char *key, const char *value);
void vlab_proto_put_mem(struct vlab_proto_out *o, const char *key, const void *value, size_t len);
void vlab_proto_put_u64(struct vlab_proto_out *o, const char *key, uint64_t value);
void vlab_proto_put_i64(struct vlab_proto_out *o, const char *key, int64_t value);
void vlab_proto_put_bool(struct vlab_proto_out *o, const char *key, int value); /* yes/no */
/* Fixed point with decimals (0..9) digits after the point. */
void vlab_proto_put_f64(struct vlab_proto_out *o, const char *key, double value, int decimals);

/* Decimal text of v into buf (at least 21 bytes); returns its length. */
size_t vlab_proto_fmt_u64(char *buf, uint64_t v);

#endif
