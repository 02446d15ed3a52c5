/* workloads/mem.c: the mem workload: John McCalpin's STREAM kernels
 * (copy c=a, scale b=s*c, add c=a+b, triad a=b+s*c) over three arrays of
 * doubles, best of reps repetitions, as STREAM reports them.  Bytes
 * counted per kernel are STREAM's: 2 arrays moved for copy and scale, 3
 * for add and triad.  The final arrays are checked against the values the
 * same arithmetic gives on scalars, so an optimiser cannot skip work. */
#include "workloads/workloads.h"

const char *const wl_stream_names[WL_STREAM_KERNELS] = {"copy", "scale", "add", "triad"};

static const unsigned stream_arrays[WL_STREAM_KERNELS] = {2, 2, 3, 3};

static double absd(double x)
{
	return x < 0 ? -x : x;
}

/* Whether every element of x is within a relative 1e-13 of want. */
static int all_near(const double *x, size_t n, double want)
{
	for (size_t i = 0; i < n; i++)
		if (absd(x[i] - want) > 1e-13 * absd(want))
			return 0;
	return 1;
}

int wl_mem_run(uint64_t array_bytes, uint32_t reps, struct wl_mem_result *res)
{
	memset(res, 0, sizeof(*res));
	size_t n = (size_t)(array_bytes / sizeof(double));
	size_t bytes = n * sizeof(double);
	res->array_bytes = bytes;
	res->reps = reps;
	double *a = plat_alloc(bytes), *b = plat_alloc(bytes), *c = plat_alloc(bytes);
	if (!a || !b || !c) {
		if (a)
			plat_free(a, bytes);
		if (b)
			plat_free(b, bytes);
		if (c)
			plat_free(c, bytes);
		return -PLAT_ENOMEM;
	}
	const double s = 3.0;
	for (size_t i = 0; i < n; i++) {
		a[i] = 1.0;
		b[i] = 2.0;
		c[i] = 0.0;
	}
	for (int k = 0; k < WL_STREAM_KERNELS; k++)
		res->best_ns[k] = UINT64_MAX;
	double ea = 1.0, eb = 2.0, ec = 0.0;
	for (uint32_t rep = 0; rep < reps; rep++) {
		uint64_t t[WL_STREAM_KERNELS + 1];
		t[0] = plat_now_ns();
		for (size_t i = 0; i < n; i++)
			c[i] = a[i];
		t[1] = plat_now_ns();
		for (size_t i = 0; i < n; i++)
			b[i] = s * c[i];
		t[2] = plat_now_ns();
		for (size_t i = 0; i < n; i++)
			c[i] = a[i] + b[i];
		t[3] = plat_now_ns();
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] + s * c[i];
		t[4] = plat_now_ns();
		for (int k = 0; k < WL_STREAM_KERNELS; k++) {
			uint64_t d = t[k + 1] - t[k];
			if (d < res->best_ns[k])
				res->best_ns[k] = d ? d : 1;
		}
		ec = ea;
		eb = s * ec;
		ec = ea + eb;
		ea = eb + s * ec;
	}
	res->checked = all_near(a, n, ea) && all_near(b, n, eb) && all_near(c, n, ec);
	for (int k = 0; k < WL_STREAM_KERNELS; k++)
		res->mbps[k] =
		    wl_per_s((double)stream_arrays[k] * (double)bytes, res->best_ns[k]) / 1e6;
	plat_free(a, bytes);
	plat_free(b, bytes);
	plat_free(c, bytes);
	return 0;
}

int wl_verb_mem(struct wl_req *r)
{
	uint64_t size, reps;
	if (wl_arg_size(r, "size", 16u << 20, 4096, 1ull << 40, &size) < 0)
		return -1;
	if (wl_arg_u64(r, "reps", 5, 1, 1000, &reps) < 0)
		return -1;
	struct wl_mem_result res;
	int rc = wl_mem_run(size, (uint32_t)reps, &res);
	if (rc < 0)
		return wl_fail_plat(r, rc, "mem: memory for three arrays of size bytes");
	if (!res.checked)
		return wl_fail(r, WL_IO, "mem: the arrays do not hold the values STREAM expects");
	struct vlab_proto_out *o = r->out;
	char key[32];
	vlab_proto_put_u64(o, "array_bytes", res.array_bytes);
	vlab_proto_put_u64(o, "reps_count", res.reps);
	for (int k = 0; k < WL_STREAM_KERNELS; k++) {
		size_t l = strlen(wl_stream_names[k]);
		memcpy(key, wl_stream_names[k], l);
		memcpy(key + l, "_mbps", 6);
		vlab_proto_put_f64(o, key, res.mbps[k], 1);
		memcpy(key + l, "_ns", 4);
		vlab_proto_put_u64(o, key, res.best_ns[k]);
	}
	return 0;
}
