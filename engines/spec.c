/* engines/spec.c: key/value instance specs, checked against an engine's
 * option table. */
#include "engines/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VLAB_NAME_MAX || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return 0;
	return 1;
}

int vlab_spec_init(struct vlab_spec *spec, const char *engine, const char *name,
		   struct vlab_err *err)
{
	memset(spec, 0, sizeof(*spec));
	if (!engine || !*engine || strlen(engine) >= sizeof(spec->engine))
		return vlab_err_set(err, EINVAL, "engine name '%s' is not valid", engine ? engine : "");
	if (!name || !valid_name(name))
		return vlab_err_set(err, EINVAL,
				    "instance name '%s' is not valid (1-%d of a-z, 0-9, '-')",
				    name ? name : "", VLAB_NAME_MAX);
	strcpy(spec->engine, engine);
	strcpy(spec->name, name);
	return 0;
}

static int valid_key(const char *k)
{
	if (!*k || strlen(k) > 64)
		return 0;
	for (; *k; k++)
		if (!(islower((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '_' ||
		      *k == '-' || *k == '.'))
			return 0;
	return 1;
}

int vlab_spec_set(struct vlab_spec *spec, const char *key, const char *value,
		  struct vlab_err *err)
{
	if (!key || !valid_key(key))
		return vlab_err_set(err, EINVAL, "option name '%s' is not valid", key ? key : "");
	if (!value)
		return vlab_err_set(err, EINVAL, "option %s: no value", key);
	if (strchr(value, '\n') || strlen(value) > 4096)
		return vlab_err_set(err, EINVAL, "option %s: value has a newline or is too long",
				    key);
	char *v = strdup(value);
	if (!v)
		return vlab_err_set(err, ENOMEM, "option %s", key);
	for (size_t i = 0; i < spec->n; i++)
		if (!strcmp(spec->kv[i].key, key)) {
			free(spec->kv[i].value);
			spec->kv[i].value = v;
			return 0;
		}
	if (spec->n == VLAB_SPEC_MAX_KV) {
		free(v);
		return vlab_err_set(err, E2BIG, "more than %d options", VLAB_SPEC_MAX_KV);
	}
	char *k = strdup(key);
	if (!k) {
		free(v);
		return vlab_err_set(err, ENOMEM, "option %s", key);
	}
	spec->kv[spec->n].key = k;
	spec->kv[spec->n].value = v;
	spec->n++;
	return 0;
}

int vlab_spec_set_kv(struct vlab_spec *spec, const char *kv, struct vlab_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return vlab_err_set(err, EINVAL, "option '%s' is not key=value", kv);
	char key[72];
	size_t kl = (size_t)(eq - kv);
	if (kl >= sizeof(key))
		return vlab_err_set(err, EINVAL, "option name in '%.20s...' is too long", kv);
	memcpy(key, kv, kl);
	key[kl] = '\0';
	return vlab_spec_set(spec, key, eq + 1, err);
}

const char *vlab_spec_get(const struct vlab_spec *spec, const char *key)
{
	for (size_t i = 0; i < spec->n; i++)
		if (!strcmp(spec->kv[i].key, key))
			return spec->kv[i].value;
	return NULL;
}

int vlab_spec_copy(struct vlab_spec *dst, const struct vlab_spec *src, struct vlab_err *err)
{
	memset(dst, 0, sizeof(*dst));
	memcpy(dst->engine, src->engine, sizeof(dst->engine));
	memcpy(dst->name, src->name, sizeof(dst->name));
	for (size_t i = 0; i < src->n; i++)
		if (vlab_spec_set(dst, src->kv[i].key, src->kv[i].value, err) < 0) {
			vlab_spec_free(dst);
			return -1;
		}
	return 0;
}

void vlab_spec_free(struct vlab_spec *spec)
{
	for (size_t i = 0; i < spec->n; i++) {
		free(spec->kv[i].key);
		free(spec->kv[i].value);
	}
	spec->n = 0;
}

static const struct vlab_opt_desc *find_opt(const struct vlab_opt_desc *opts, const char *key)
{
	for (; opts && opts->name; opts++)
		if (!strcmp(opts->name, key))
			return opts;
	return NULL;
}

static int enum_has(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == vl && !strncmp(p, v, l))
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* Parses v as d's type; out receives numbers (bool as 0/1). */
static int parse_value(const struct vlab_opt_desc *d, const char *v, uint64_t *out,
		       struct vlab_err *err)
{
	uint64_t x = 0;
	int b;
	switch (d->type) {
	case VLAB_OPT_STRING:
		break;
	case VLAB_OPT_SIZE:
		if (vlab_parse_size(v, &x, d->name, err) < 0)
			return -1;
		if (x < d->min || (d->max && x > d->max))
			return vlab_err_set(err, ERANGE,
					    "%s: %s is out of range [%llu, %llu] bytes", d->name, v,
					    (unsigned long long)d->min, (unsigned long long)d->max);
		break;
	case VLAB_OPT_UINT:
		if (vlab_parse_uint(v, d->min, d->max ? d->max : UINT64_MAX, &x, d->name, err) < 0)
			return -1;
		break;
	case VLAB_OPT_BOOL:
		if (vlab_parse_bool(v, &b, d->name, err) < 0)
			return -1;
		x = (uint64_t)b;
		break;
	case VLAB_OPT_DURATION:
		if (vlab_parse_duration_ns(v, &x, d->name, err) < 0)
			return -1;
		break;
	case VLAB_OPT_ENUM:
		if (!enum_has(d->choices, v))
			return vlab_err_set(err, EINVAL, "%s: '%s' is not one of %s", d->name, v,
					    d->choices);
		break;
	}
	if (out)
		*out = x;
	return 0;
}

int vlab_spec_check(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		    struct vlab_err *err)
{
	for (size_t i = 0; i < spec->n; i++) {
		const struct vlab_opt_desc *d = find_opt(opts, spec->kv[i].key);
		if (!d) {
			char known[512] = "";
			size_t used = 0;
			for (const struct vlab_opt_desc *o = opts; o && o->name; o++) {
				int w = snprintf(known + used, sizeof(known) - used, "%s%s",
						 used ? ", " : "", o->name);
				if (w < 0 || (size_t)w >= sizeof(known) - used)
					break;
				used += (size_t)w;
			}
			return vlab_err_set(err, EINVAL, "%s engine has no option '%s' (known: %s)",
					    spec->engine, spec->kv[i].key, used ? known : "none");
		}
		if (parse_value(d, spec->kv[i].value, NULL, err) < 0)
			return vlab_err_prefix(err, "%s engine", spec->engine);
	}
	return 0;
}

/* The option and its effective value text. */
static int lookup(const struct vlab_spec *spec, const struct vlab_opt_desc *opts, const char *key,
		  const struct vlab_opt_desc **d, const char **v, struct vlab_err *err)
{
	*d = find_opt(opts, key);
	if (!*d)
		return vlab_err_set(err, EINVAL, "%s engine: no option '%s'", spec->engine, key);
	*v = vlab_spec_get(spec, key);
	if (!*v)
		*v = (*d)->def;
	if (!*v)
		return vlab_err_set(err, ENOENT, "%s engine: option '%s' is required", spec->engine,
				    key);
	return 0;
}

int vlab_spec_str(const struct vlab_spec *spec, const struct vlab_opt_desc *opts, const char *key,
		  const char **out, struct vlab_err *err)
{
	const struct vlab_opt_desc *d;
	return lookup(spec, opts, key, &d, out, err);
}

static int get_num(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, enum vlab_opt_type want, uint64_t *out, struct vlab_err *err)
{
	const struct vlab_opt_desc *d;
	const char *v;
	if (lookup(spec, opts, key, &d, &v, err) < 0)
		return -1;
	if (d->type != want)
		return vlab_err_set(err, EINVAL, "option '%s' has another type", key);
	return parse_value(d, v, out, err);
}

int vlab_spec_size(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, uint64_t *out, struct vlab_err *err)
{
	return get_num(spec, opts, key, VLAB_OPT_SIZE, out, err);
}

int vlab_spec_uint(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, uint64_t *out, struct vlab_err *err)
{
	return get_num(spec, opts, key, VLAB_OPT_UINT, out, err);
}

int vlab_spec_bool(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		   const char *key, int *out, struct vlab_err *err)
{
	uint64_t x;
	if (get_num(spec, opts, key, VLAB_OPT_BOOL, &x, err) < 0)
		return -1;
	*out = (int)x;
	return 0;
}

int vlab_spec_duration(const struct vlab_spec *spec, const struct vlab_opt_desc *opts,
		       const char *key, uint64_t *out_ns, struct vlab_err *err)
{
	return get_num(spec, opts, key, VLAB_OPT_DURATION, out_ns, err);
}
