/* workloads/cpu.c: the cpu workload: a fixed integer kernel (a sieve of
 * Eratosthenes over a bit array) and a floating-point kernel (a dense
 * n x n matrix multiply in double precision), each timed on its own.
 *
 * Both are deterministic for a given size, so every guest does the same
 * work and the results can be checked (primes below 10^6: 78498). */
#include "workloads/workloads.h"

uint32_t wl_cpu_default_matrix(uint64_t sieve_n)
{
	/* About as much time as the sieve on typical hardware: the cube root
	 * of 4n, kept to [8, 1024]. */
	uint64_t target = sieve_n * 4, m = 8;
	while (m < 1024 && (m + 1) * (m + 1) * (m + 1) <= target)
		m++;
	return (uint32_t)m;
}

/* Counts primes in 2..n; *ops gets the marks plus the candidates tested. */
static uint64_t sieve(uint8_t *composite, uint64_t n, uint64_t *ops)
{
	uint64_t marks = 0, count = 0;
	for (uint64_t i = 2; i * i <= n; i++) {
		if (composite[i >> 3] & (1u << (i & 7)))
			continue;
		for (uint64_t j = i * i; j <= n; j += i) {
			composite[j >> 3] |= (uint8_t)(1u << (j & 7));
			marks++;
		}
	}
	for (uint64_t i = 2; i <= n; i++)
		count += !(composite[i >> 3] & (1u << (i & 7)));
	*ops = marks + (n - 1);
	return count;
}

/* C = A * B, i-k-j order (streams rows of B and C).  Returns sum(C). */
static double matmul(double *a, double *b, double *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			a[(size_t)i * n + j] = (double)((i * 3 + j * 7) % 11) / 10.0;
			b[(size_t)i * n + j] = (double)((i * 5 + j * 2) % 13) / 10.0;
			c[(size_t)i * n + j] = 0.0;
		}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < n; k++) {
			double aik = a[(size_t)i * n + k];
			const double *brow = &b[(size_t)k * n];
			double *crow = &c[(size_t)i * n];
			for (uint32_t j = 0; j < n; j++)
				crow[j] += aik * brow[j];
		}
	double sum = 0;
	for (size_t i = 0; i < (size_t)n * n; i++)
		sum += c[i];
	return sum;
}

int wl_cpu_run(uint64_t sieve_n, uint32_t matrix_n, struct wl_cpu_result *res)
{
	memset(res, 0, sizeof(*res));
	res->sieve_n = sieve_n;
	res->matrix_n = matrix_n;

	size_t bits = (size_t)(sieve_n / 8 + 1);
	uint8_t *composite = plat_alloc(bits);
	if (!composite)
		return -PLAT_ENOMEM;
	uint64_t t0 = plat_now_ns();
	res->primes = sieve(composite, sieve_n, &res->int_ops);
	res->int_ns = plat_now_ns() - t0;
	plat_free(composite, bits);

	size_t mbytes = (size_t)matrix_n * matrix_n * sizeof(double);
	double *a = plat_alloc(mbytes), *b = plat_alloc(mbytes), *c = plat_alloc(mbytes);
	if (!a || !b || !c) {
		if (a)
			plat_free(a, mbytes);
		if (b)
			plat_free(b, mbytes);
		if (c)
			plat_free(c, mbytes);
		return -PLAT_ENOMEM;
	}
	t0 = plat_now_ns();
	res->checksum = matmul(a, b, c, matrix_n);
	res->fp_ns = plat_now_ns() - t0;
	res->fp_ops = 2ull * matrix_n * matrix_n * matrix_n;
	plat_free(a, mbytes);
	plat_free(b, mbytes);
	plat_free(c, mbytes);
	return 0;
}

int wl_verb_cpu(struct wl_req *r)
{
	uint64_t n, m;
	if (wl_arg_size(r, "size", 2000000, 100, 1000000000000ull, &n) < 0)
		return -1;
	if (wl_arg_u64(r, "matrix", wl_cpu_default_matrix(n), 1, 4096, &m) < 0)
		return -1;
	struct wl_cpu_result res;
	int rc = wl_cpu_run(n, (uint32_t)m, &res);
	if (rc < 0)
		return wl_fail_plat(r, rc, "cpu: memory for the sieve or the matrices");
	struct vlab_proto_out *o = r->out;
	vlab_proto_put_str(o, "int_kernel", "sieve");
	vlab_proto_put_u64(o, "int_n_count", res.sieve_n);
	vlab_proto_put_u64(o, "int_primes_count", res.primes);
	vlab_proto_put_u64(o, "int_ops", res.int_ops);
	vlab_proto_put_u64(o, "int_ns", res.int_ns);
	vlab_proto_put_f64(o, "int_ops_per_s", wl_per_s((double)res.int_ops, res.int_ns), 0);
	vlab_proto_put_str(o, "fp_kernel", "matmul");
	vlab_proto_put_u64(o, "fp_n_count", res.matrix_n);
	vlab_proto_put_u64(o, "fp_ops", res.fp_ops);
	vlab_proto_put_u64(o, "fp_ns", res.fp_ns);
	vlab_proto_put_f64(o, "fp_ops_per_s", wl_per_s((double)res.fp_ops, res.fp_ns), 0);
	vlab_proto_put_f64(o, "fp_checksum", res.checksum, 3);
	vlab_proto_put_u64(o, "time_ns", res.int_ns + res.fp_ns);
	return 0;
}
