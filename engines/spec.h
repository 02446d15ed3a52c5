/* engines/spec.h: what to run, as key/value options.
 *
 * A spec is an engine name, an instance name and a list of key=value
 * strings ("memory=64M", "pids=32").  Front ends (the CLI, the Lua binding)
 * pass options through without knowing them; each engine declares the
 * options it accepts in a vlab_opt_desc table, and vlab_spec_check()
 * rejects unknown keys and malformed values with a message naming both. */
#ifndef VLAB_ENGINES_SPEC_H
#define VLAB_ENGINES_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum vlab_opt_type {
	VLAB_OPT_STRING,
	VLAB_OPT_SIZE,     /* bytes: "64M" */
	VLAB_OPT_UINT,     /* within [min, max] */
	VLAB_OPT_BOOL,     /* on/off */
	VLAB_OPT_DURATION, /* "500ms" */
	VLAB_OPT_ENUM,     /* one of choices: "kvm|tcg|auto" */
};

struct vlab_opt_desc {
	const char *name;
	enum vlab_opt_type type;
	const char *def;     /* default value as text; NULL: unset */
	const char *help;    /* one line, shown by `vlab doctor --verbose` and docs */
	const char *choices; /* VLAB_OPT_ENUM: '|'-separated */
	uint64_t min, max;   /* VLAB_OPT_UINT / SIZE bounds (max 0: unbounded) */
};

#define VLAB_SPEC_MAX_KV 48
#define VLAB_NAME_MAX 32

struct vlab_spec {
	char engine[32];
	char name[VLAB_NAME_MAX + 1];
	size_t n;
	struct {
		char *key, *value;
	} kv[VLAB_SPEC_MAX_KV];
};

/* Empty spec for engine; name must be 1-32 of [a-z0-9-], starting with a
 * letter or digit. */
int vlab_spec_init(struct vlab_spec *spec, const char *engine, const char *name,
		   struct vlab_err *err);

/* Sets (or replaces) key.  Keys are [a-z0-9_.-]; values have no newline or
 * NUL.  Copies both. */
int vlab_spec_set(struct vlab_spec *spec, const char *key, const char *value,
		  struct vlab_err *err);

/* Parses "key=value" and sets it. */
int vlab_spec_set_kv(struct vlab_spec *spec, const char *kv, struct vlab_err *err);

/* The value set for key, NULL when unset. */
const char *vlab_spec_get(const struct vlab_spec *spec, const char *key);

/* Deep copy into dst (which must not hold a spec). */
int vlab_spec_copy(struct vlab_spec *dst, const struct vlab_spec *src, struct vlab_err *err);

/* Frees the copied strings; the spec is empty afterwards. */
void vlab_spec_free(struct vlab_spec *spec);

/* Every key is in opts and every value parses as its type. */
int vlab_spec_check(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		    struct vlab_err *err);

/* Typed getters: the value set, else the option's default.  They fail when
 * key is not in opts, or when neither value nor default exists. */
int vlab_spec_str(const struct vlab_spec *spec, const struct vlab_opt_desc *opts, const char *key,
		  const char **out, struct vlab_err *err);
int vlab_spec_size(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, uint64_t *out, struct vlab_err *err);
int vlab_spec_uint(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, uint64_t *out, struct vlab_err *err);
int vlab_spec_bool(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, int *out, struct vlab_err *err);
int vlab_spec_duration(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		       const char *key, uint64_t *out_ns, struct vlab_err *err);

#endif
