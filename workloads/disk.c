/* workloads/disk.c: the disk workload: write total bytes sequentially in
 * blocks, make them durable (fsync or a flush), drop cached copies, read
 * them back and compare every byte with what was written.
 *
 * The data is a pattern of 64-bit words derived from the byte offset and
 * a per-run nonce, so stale data from an earlier run never verifies.  Only
 * the write, sync and read calls are timed, not making or checking the
 * pattern. */
#include "workloads/workloads.h"

static uint64_t word_at(uint64_t off, uint64_t nonce)
{
	uint64_t x = off ^ nonce;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void fill(uint64_t *buf, size_t len, uint64_t off, uint64_t nonce)
{
	for (size_t i = 0; i < len / 8; i++)
		buf[i] = word_at(off + i * 8, nonce);
}

/* Offset within the block of the first differing byte, or len. */
static size_t check(const uint64_t *buf, size_t len, uint64_t off, uint64_t nonce)
{
	for (size_t i = 0; i < len / 8; i++) {
		uint64_t want = word_at(off + i * 8, nonce);
		if (buf[i] != want) {
			const uint8_t *g = (const uint8_t *)&buf[i], *w = (const uint8_t *)&want;
			size_t b = 0;
			while (g[b] == w[b])
				b++;
			return i * 8 + b;
		}
	}
	return len;
}

int wl_disk_run(uint64_t total_bytes, uint64_t block_bytes, struct wl_disk_result *res)
{
	memset(res, 0, sizeof(*res));
	total_bytes -= total_bytes % block_bytes;
	res->total_bytes = total_bytes;
	res->block_bytes = block_bytes;
	uint64_t *buf = plat_alloc((size_t)block_bytes);
	if (!buf)
		return -PLAT_ENOMEM;
	struct plat_disk *d = 0;
	int rc = plat_disk_open(total_bytes, &d);
	if (rc < 0) {
		plat_free(buf, (size_t)block_bytes);
		return rc;
	}
	const char *name = plat_disk_name(d);
	size_t nl = strlen(name);
	if (nl >= sizeof(res->target))
		nl = sizeof(res->target) - 1;
	memcpy(res->target, name, nl);
	res->target[nl] = '\0';

	uint64_t nonce = plat_now_ns() * 0x9e3779b97f4a7c15ull;
	for (uint64_t off = 0; off < total_bytes && rc == 0; off += block_bytes) {
		fill(buf, (size_t)block_bytes, off, nonce);
		uint64_t t0 = plat_now_ns();
		rc = plat_disk_write(d, off, buf, (size_t)block_bytes);
		res->write_ns += plat_now_ns() - t0;
	}
	if (rc == 0) {
		uint64_t t0 = plat_now_ns();
		rc = plat_disk_sync(d);
		res->sync_ns = plat_now_ns() - t0;
	}
	if (rc == 0) {
		int dc = plat_disk_drop_cache(d);
		res->cache_dropped = dc == 0;
		if (dc < 0 && dc != -PLAT_ENOTSUP)
			rc = dc;
	}
	res->verified = rc == 0;
	for (uint64_t off = 0; off < total_bytes && rc == 0; off += block_bytes) {
		memset(buf, 0, (size_t)block_bytes);
		uint64_t t0 = plat_now_ns();
		rc = plat_disk_read(d, off, buf, (size_t)block_bytes);
		res->read_ns += plat_now_ns() - t0;
		if (rc == 0 && res->verified) {
			size_t bad = check(buf, (size_t)block_bytes, off, nonce);
			if (bad < block_bytes) {
				res->verified = 0;
				res->bad_offset = off + bad;
			}
		}
	}
	plat_disk_close(d);
	plat_free(buf, (size_t)block_bytes);
	return rc;
}

int wl_verb_disk(struct wl_req *r)
{
	uint64_t size, bs;
	if (wl_arg_size(r, "bs", 1u << 20, 512, 64u << 20, &bs) < 0)
		return -1;
	if (bs % 512)
		return wl_fail(r, WL_BADREQ, "bs must be a multiple of 512");
	if (wl_arg_size(r, "size", 32u << 20, bs, 1ull << 40, &size) < 0)
		return -1;
	struct wl_disk_result res;
	int rc = wl_disk_run(size, bs, &res);
	if (rc < 0)
		return wl_fail_plat(r, rc, "disk");
	if (!res.verified)
		return wl_fail_num(r, WL_IO,
				   "disk: read back differs from what was written at byte",
				   res.bad_offset, "");
	struct vlab_proto_out *o = r->out;
	uint64_t wns = res.write_ns + res.sync_ns;
	vlab_proto_put_str(o, "target", res.target);
	vlab_proto_put_u64(o, "total_bytes", res.total_bytes);
	vlab_proto_put_u64(o, "block_bytes", res.block_bytes);
	vlab_proto_put_u64(o, "write_ns", res.write_ns);
	vlab_proto_put_u64(o, "sync_ns", res.sync_ns);
	vlab_proto_put_f64(o, "write_mbps", wl_per_s((double)res.total_bytes, wns) / 1e6, 1);
	vlab_proto_put_u64(o, "read_ns", res.read_ns);
	vlab_proto_put_f64(o, "read_mbps", wl_per_s((double)res.total_bytes, res.read_ns) / 1e6, 1);
	vlab_proto_put_bool(o, "cache_dropped", res.cache_dropped);
	vlab_proto_put_bool(o, "verified", 1);
	return 0;
}
