/*
 * Multi-head attention with an additive bias and a dropout keep mask,
 * forward and backward: the device twin of internal/kernel's Attend and
 * AttendBackward, with the same operand layouts (kernel.Layout: element j
 * of row i of head h of sequence b at off + b·batch + h·head + i·row + j).
 *
 *  - genq_attend: one block per tile of up to 8 query rows of a head h of
 *    sequence b: the rows' scores in shared memory, softmax as
 *    kernel.SoftmaxRow's, dropout, then the rows of out = p·v.
 *  - genq_attend_backward_rows: one block per tile of up to 4 query rows:
 *    recomputes the rows of p, dp = g·vᵀ through dropout, D = Σ dp⊙p,
 *    ds = p⊙(dp − D), the bias gradient rows (ds) and dq = scale·ds·k;
 *    keeps (max, 1/sum, D) of each row for the next kernel.
 *  - genq_attend_backward_keys: one block per tile of up to 4 key rows:
 *    recomputes those columns of p and ds from the statistics (the same
 *    float operations in the same order, so the same values), then
 *    dv = Σ_i dropout(p)_ij·g_i and dk = scale·Σ_i ds_ij·q_i, with no
 *    atomic additions.
 *
 * Scores are q·k summed in float in order over the head dimension, then
 * times scale, plus the bias, in every kernel.
 */
#include "genq.h"

struct genq_layout {
	int off, batch, head, row;
};

#define GENQ_LAYOUT_PARAMS(n) int n##o, int n##b, int n##h, int n##r
#define GENQ_LAYOUT(n) \
	genq_layout { n##o, n##b, n##h, n##r }

__device__ __forceinline__ i64 genq_at(genq_layout l, int b, int h, int i) {
	return (i64)l.off + (i64)b * l.batch + (i64)h * l.head + (i64)i * l.row;
}

// genq_keep returns the dropout factor of one probability: keepScale where
// kept, 0 where dropped, 1 without a mask.
__device__ __forceinline__ float genq_keep(const unsigned char *keep, i64 at, float keepScale) {
	return keep ? (keep[at] ? keepScale : 0.0f) : 1.0f;
}

// The forward kernel's tile: up to GENQ_ATTN_TILE query rows a block (their
// scores, at most GENQ_ATTN_SCORES floats, in shared memory), so that each
// key and value row is read once for the whole tile.
#define GENQ_ATTN_TILE 8
#define GENQ_ATTN_SCORES 6144

// genq_tile_dots sets, for the rows r < rows of a tile, a[r] = Σ_d x[d]·
// xs[r·hd + d] and, when y is not null, c[r] = Σ_d y[d]·ys[r·hd + d], in
// float in order over d: the scores q·k and the products dp = g·v of every
// attention kernel, so that the backward kernels recompute exactly the
// values the forward kernel saw. a and c hold GENQ_ATTN_TILE floats.
__device__ __forceinline__ void genq_tile_dots(float *a, float *c, const float *x, const float *xs, const float *y,
                                               const float *ys, int rows, int hd) {
	for (int r = 0; r < GENQ_ATTN_TILE; r++) a[r] = c[r] = 0;
	for (int d = 0; d < hd; d++) {
		float xd = x[d], yd = y ? y[d] : 0.0f;
		for (int r = 0; r < GENQ_ATTN_TILE; r++)
			if (r < rows) {
				a[r] += xd * xs[r * hd + d];
				if (y) c[r] += yd * ys[r * hd + d];
			}
	}
}

// genq_tile_partials computes the first half of w·M for the rows r < rows
// of a tile of weights w (row r at w + r·wstride, count values each) and M,
// the count rows of an operand in layout L for sequence b, head h: the
// threads split the count rows among blockDim/hd groups, and group g's
// partial sum of element (r, d) goes to part[(g·ts + r)·hd + d] (ts ≥ rows,
// part ts·GENQ_BLOCK floats). After a barrier, genq_tile_sum adds them.
__device__ __forceinline__ void genq_tile_partials(float *part, int ts, const float *w, int wstride, const float *m,
                                                   genq_layout L, int b, int h, int count, int rows, int hd) {
	int groups = blockDim.x / hd;
	if ((int)threadIdx.x >= groups * hd) return;
	int g = threadIdx.x / hd, d = threadIdx.x % hd;
	float acc[GENQ_ATTN_TILE];
	for (int r = 0; r < GENQ_ATTN_TILE; r++) acc[r] = 0;
	for (int n = g; n < count; n += groups) {
		float md = m[genq_at(L, b, h, n) + d];
		for (int r = 0; r < GENQ_ATTN_TILE; r++)
			if (r < rows) acc[r] += w[r * wstride + n] * md;
	}
	for (int r = 0; r < rows; r++) part[(g * ts + r) * hd + d] = acc[r];
}

// genq_tile_sum returns element (r, d) of the product genq_tile_partials
// began: the groups' partial sums added in order.
__device__ __forceinline__ float genq_tile_sum(const float *part, int ts, int r, int d, int hd) {
	float s = 0;
	for (int g = 0; g < (int)blockDim.x / hd; g++) s += part[(g * ts + r) * hd + d];
	return s;
}

// genq_attend: one block per tile of `tile` query rows (blockIdx.x), head
// (blockIdx.y) and sequence (blockIdx.z), GENQ_BLOCK threads: the tile's
// scores, a softmax per row, dropout, then out = p·v, the keys split among
// GENQ_BLOCK/hd groups of threads whose partial sums are added in order.
GENQ_KERNEL(genq_attend, (float *out, const float *q, const float *k, const float *v, const float *bias,
                          const unsigned char *keep, int heads, int queries, int keys, int hd, int tile, float scale,
                          float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K), GENQ_LAYOUT_PARAMS(V),
                          GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float qs[GENQ_ATTN_TILE * GENQ_MAX_HEAD_DIM];
	__shared__ float p[GENQ_ATTN_SCORES];
	__shared__ float part[GENQ_ATTN_TILE * GENQ_BLOCK];
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	int i0 = blockIdx.x * tile, h = blockIdx.y, b = blockIdx.z;
	int rows = genq_imin(tile, queries - i0);
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x) qs[t] = q[genq_at(Q, b, h, i0 + t / hd) + t % hd];
	__syncthreads();
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		float acc[GENQ_ATTN_TILE], unused[GENQ_ATTN_TILE];
		genq_tile_dots(acc, unused, k + genq_at(K, b, h, j), qs, 0, 0, rows, hd);
		for (int r = 0; r < rows; r++) {
			float s = acc[r] * scale;
			p[r * keys + j] = bias ? s + bias[genq_at(B, b, h, i0 + r) + j] : s;
		}
	}
	__syncthreads();
	for (int r = 0; r < rows; r++) {
		float hi;
		genq_softmax_row(p + r * keys, p + r * keys, 0, keys, fbuf, dbuf, &hi);
	}
	if (keep) {
		i64 base = (((i64)b * heads + h) * queries + i0) * keys;
		for (int t = threadIdx.x; t < rows * keys; t += blockDim.x) p[t] = p[t] * genq_keep(keep, base + t, keepScale);
	}
	__syncthreads();
	genq_tile_partials(part, GENQ_ATTN_TILE, p, keys, v, V, b, h, keys, rows, hd);
	__syncthreads();
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x)
		out[genq_at(O, b, h, i0 + t / hd) + t % hd] = genq_tile_sum(part, GENQ_ATTN_TILE, t / hd, t % hd, hd);
}

// The backward kernels' tiles: up to GENQ_ATTN_BTILE query rows (key rows)
// a block, their GENQ_ATTN_BSCORES (GENQ_ATTN_KSCORES) values of p and ds
// in shared memory.
#define GENQ_ATTN_BTILE 4
#define GENQ_ATTN_BSCORES 4096
#define GENQ_ATTN_KSCORES 3584

// genq_attend_backward_rows: one block per tile of `tile` query rows, head
// and sequence, GENQ_BLOCK threads: each row's p (softmax of the scores) and
// dp = dropout(g·vᵀ), D = Σ dp⊙p, ds = p⊙(dp − D) into dbias, stats (max,
// 1/sum, D) of each row for genq_attend_backward_keys, and dq = scale·ds·k.
GENQ_KERNEL(genq_attend_backward_rows,
            (float *dq, float *dbias, double *stats, const float *q, const float *k, const float *v,
             const float *bias, const unsigned char *keep, const float *dout, int heads, int queries, int keys,
             int hd, int tile, float scale, float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K),
             GENQ_LAYOUT_PARAMS(V), GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float qs[GENQ_ATTN_BTILE * GENQ_MAX_HEAD_DIM];
	__shared__ float gs[GENQ_ATTN_BTILE * GENQ_MAX_HEAD_DIM];
	__shared__ float p[GENQ_ATTN_BSCORES];
	__shared__ float ds[GENQ_ATTN_BSCORES];
	__shared__ float part[GENQ_ATTN_BTILE * GENQ_BLOCK];
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	int i0 = blockIdx.x * tile, h = blockIdx.y, b = blockIdx.z;
	int rows = genq_imin(tile, queries - i0);
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	i64 row0 = ((i64)b * heads + h) * queries + i0;  // the tile's first row of the [B, H, S, T] tensors
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x) {
		qs[t] = q[genq_at(Q, b, h, i0 + t / hd) + t % hd];
		gs[t] = dout[genq_at(O, b, h, i0 + t / hd) + t % hd];
	}
	__syncthreads();
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		float as[GENQ_ATTN_TILE], ag[GENQ_ATTN_TILE];
		genq_tile_dots(as, ag, k + genq_at(K, b, h, j), qs, v + genq_at(V, b, h, j), gs, rows, hd);
		for (int r = 0; r < rows; r++) {
			float sc = as[r] * scale;
			p[r * keys + j] = bias ? sc + bias[genq_at(B, b, h, i0 + r) + j] : sc;
			ds[r * keys + j] = ag[r] * genq_keep(keep, (row0 + r) * keys + j, keepScale);
		}
	}
	__syncthreads();
	for (int r = 0; r < rows; r++) {
		float *pr = p + r * keys, *dr = ds + r * keys;
		float hi;
		double inv = genq_softmax_row(pr, pr, 0, keys, fbuf, dbuf, &hi);
		double dot = 0;
		for (int j = threadIdx.x; j < keys; j += blockDim.x) dot += (double)dr[j] * (double)pr[j];
		dot = genq_block_sum(dot, dbuf);
		if (threadIdx.x == 0) {
			stats[3 * (row0 + r)] = hi;
			stats[3 * (row0 + r) + 1] = inv;
			stats[3 * (row0 + r) + 2] = dot;
		}
		for (int j = threadIdx.x; j < keys; j += blockDim.x) {
			dr[j] = (float)((double)pr[j] * ((double)dr[j] - dot));
			if (dbias) dbias[(row0 + r) * keys + j] = dr[j];
		}
	}
	__syncthreads();
	if (!dq) return;
	genq_tile_partials(part, GENQ_ATTN_BTILE, ds, keys, k, K, b, h, keys, rows, hd);
	__syncthreads();
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x)
		dq[genq_at(Q, b, h, i0 + t / hd) + t % hd] = scale * genq_tile_sum(part, GENQ_ATTN_BTILE, t / hd, t % hd, hd);
}

// genq_attend_backward_keys: one block per tile of `tile` key rows, head and
// sequence, GENQ_BLOCK threads: recomputes the tile's columns of p and ds
// from the rows' stats (exactly as genq_attend_backward_rows computed them),
// then dv = Σ_i dropout(p)_ij·g_i and dk = scale·Σ_i ds_ij·q_i.
GENQ_KERNEL(genq_attend_backward_keys,
            (float *dk, float *dv, const double *stats, const float *q, const float *k, const float *v,
             const float *bias, const unsigned char *keep, const float *dout, int heads, int queries, int keys,
             int hd, int tile, float scale, float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K),
             GENQ_LAYOUT_PARAMS(V), GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float ks[GENQ_ATTN_BTILE * GENQ_MAX_HEAD_DIM];
	__shared__ float vs[GENQ_ATTN_BTILE * GENQ_MAX_HEAD_DIM];
	__shared__ float pd[GENQ_ATTN_KSCORES];  // dropout(p), [key of the tile][query]
	__shared__ float ds[GENQ_ATTN_KSCORES];  // ds, [key of the tile][query]
	__shared__ float partv[GENQ_ATTN_BTILE * GENQ_BLOCK];
	__shared__ float partk[GENQ_ATTN_BTILE * GENQ_BLOCK];
	int j0 = blockIdx.x * tile, h = blockIdx.y, b = blockIdx.z;
	int rows = genq_imin(tile, keys - j0);
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x) {
		ks[t] = k[genq_at(K, b, h, j0 + t / hd) + t % hd];
		vs[t] = v[genq_at(V, b, h, j0 + t / hd) + t % hd];
	}
	__syncthreads();
	for (int i = threadIdx.x; i < queries; i += blockDim.x) {
		i64 row = ((i64)b * heads + h) * queries + i;
		float as[GENQ_ATTN_TILE], ag[GENQ_ATTN_TILE];
		genq_tile_dots(as, ag, q + genq_at(Q, b, h, i), ks, dout + genq_at(O, b, h, i), vs, rows, hd);
		for (int r = 0; r < rows; r++) {
			int j = j0 + r;
			float sc = as[r] * scale;
			if (bias) sc = sc + bias[genq_at(B, b, h, i) + j];
			float e = (float)exp((double)sc - stats[3 * row]);
			float pij = (float)((double)e * stats[3 * row + 1]);
			float f = genq_keep(keep, row * keys + j, keepScale);
			pd[r * queries + i] = pij * f;
			ds[r * queries + i] = (float)((double)pij * ((double)(ag[r] * f) - stats[3 * row + 2]));
		}
	}
	__syncthreads();
	if (dv) genq_tile_partials(partv, GENQ_ATTN_BTILE, pd, queries, dout, O, b, h, queries, rows, hd);
	if (dk) genq_tile_partials(partk, GENQ_ATTN_BTILE, ds, queries, q, Q, b, h, queries, rows, hd);
	__syncthreads();
	for (int t = threadIdx.x; t < rows * hd; t += blockDim.x) {
		int r = t / hd, d = t % hd;
		if (dv) dv[genq_at(V, b, h, j0 + r) + d] = genq_tile_sum(partv, GENQ_ATTN_BTILE, r, d, hd);
		if (dk) dk[genq_at(K, b, h, j0 + r) + d] = scale * genq_tile_sum(partk, GENQ_ATTN_BTILE, r, d, hd);
	}
}
