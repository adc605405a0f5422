/*
 * Multi-head attention with an additive bias and a dropout keep mask,
 * forward and backward: the device twin of internal/kernel's Attend and
 * AttendBackward, with the same operand layouts (kernel.Layout: element j
 * of row i of head h of sequence b at off + b·batch + h·head + i·row + j).
 *
 *  - genq_attend: one block per (query row i, head h, sequence b) = (blockIdx.x,
 *    .y, .z): the row's scores in shared memory, softmax as
 *    kernel.SoftmaxRow's, dropout, then the row of out = p·v.
 *  - genq_attend_backward_rows: one block per query row: recomputes the row
 *    of p, dp = g·vᵀ through dropout, D = Σ dp⊙p, ds = p⊙(dp − D), the
 *    bias gradient row (ds) and dq = scale·ds·k; keeps (max, 1/sum, D) of
 *    the row for the next kernel.
 *  - genq_attend_backward_keys: one block per key row j: recomputes column j
 *    of p and ds from those statistics, then dv = Σ_i dropout(p)_ij·g_i and
 *    dk = scale·Σ_i ds_ij·q_i, with no atomic additions.
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

// genq_score is scale·(q·k) + bias (bias null for none), the dot product in
// float in order over the head dimension: every kernel computes a score the
// same way, so the backward kernels recompute the forward's probabilities
// exactly.
__device__ __forceinline__ float genq_score(const float *q, const float *k, int hd, float scale, const float *bias) {
	float s = 0;
	for (int d = 0; d < hd; d++) s += q[d] * k[d];
	s *= scale;
	return bias ? s + *bias : s;
}

// genq_keep returns the dropout factor of one probability: keepScale where
// kept, 0 where dropped, 1 without a mask.
__device__ __forceinline__ float genq_keep(const unsigned char *keep, i64 at, float keepScale) {
	return keep ? (keep[at] ? keepScale : 0.0f) : 1.0f;
}

GENQ_KERNEL(genq_attend, (float *out, const float *q, const float *k, const float *v, const float *bias,
                          const unsigned char *keep, int heads, int queries, int keys, int hd, float scale,
                          float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K), GENQ_LAYOUT_PARAMS(V),
                          GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float qs[GENQ_MAX_HEAD_DIM];
	__shared__ float p[GENQ_MAX_KEYS];
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	const float *qrow = q + genq_at(Q, b, h, i);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = qrow[d];
	__syncthreads();
	const float *brow = bias ? bias + genq_at(B, b, h, i) : 0;
	for (int j = threadIdx.x; j < keys; j += blockDim.x)
		p[j] = genq_score(qs, k + genq_at(K, b, h, j), hd, scale, brow ? brow + j : 0);
	__syncthreads();
	genq_softmax_row(p, p, 0, keys, fbuf, dbuf);
	if (keep) {
		i64 base = (((i64)b * heads + h) * queries + i) * keys;
		for (int j = threadIdx.x; j < keys; j += blockDim.x) p[j] = p[j] * genq_keep(keep, base + j, keepScale);
	}
	__syncthreads();
	float *orow = out + genq_at(O, b, h, i);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		float acc = 0;
		for (int j = 0; j < keys; j++) acc += p[j] * v[genq_at(V, b, h, j) + d];
		orow[d] = acc;
	}
}

GENQ_KERNEL(genq_attend_backward_rows,
            (float *dq, float *dbias, double *stats, const float *q, const float *k, const float *v,
             const float *bias, const unsigned char *keep, const float *dout, int heads, int queries, int keys,
             int hd, float scale, float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K),
             GENQ_LAYOUT_PARAMS(V), GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float qs[GENQ_MAX_HEAD_DIM];
	__shared__ float gs[GENQ_MAX_HEAD_DIM];
	__shared__ float p[GENQ_MAX_KEYS];
	__shared__ float ds[GENQ_MAX_KEYS];
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	i64 row = ((i64)b * heads + h) * queries + i;  // the (b, h, i) row of the [B, H, S, T] tensors
	const float *qrow = q + genq_at(Q, b, h, i), *grow = dout + genq_at(O, b, h, i);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		qs[d] = qrow[d];
		gs[d] = grow[d];
	}
	__syncthreads();
	const float *brow = bias ? bias + genq_at(B, b, h, i) : 0;
	float hi = -INFINITY;
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		float s = genq_score(qs, k + genq_at(K, b, h, j), hd, scale, brow ? brow + j : 0);
		p[j] = s;
		if (s > hi || s != s) hi = s;
	}
	hi = genq_block_max(hi, fbuf);
	double sum = 0;
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		double e = exp((double)p[j] - (double)hi);
		p[j] = (float)e;
		sum += e;
	}
	double inv = 1.0 / genq_block_sum(sum, dbuf);
	double dot = 0;
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		p[j] = (float)((double)p[j] * inv);
		const float *vrow = v + genq_at(V, b, h, j);
		float dp = 0;
		for (int d = 0; d < hd; d++) dp += gs[d] * vrow[d];
		dp *= genq_keep(keep, row * keys + j, keepScale);
		ds[j] = dp;
		dot += (double)dp * (double)p[j];
	}
	dot = genq_block_sum(dot, dbuf);
	if (threadIdx.x == 0) {
		stats[3 * row] = hi;
		stats[3 * row + 1] = inv;
		stats[3 * row + 2] = dot;
	}
	for (int j = threadIdx.x; j < keys; j += blockDim.x) {
		ds[j] = (float)((double)p[j] * ((double)ds[j] - dot));
		if (dbias) dbias[row * keys + j] = ds[j];
	}
	__syncthreads();
	if (!dq) return;
	float *dqrow = dq + genq_at(Q, b, h, i);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		float acc = 0;
		for (int j = 0; j < keys; j++) acc += ds[j] * k[genq_at(K, b, h, j) + d];
		dqrow[d] = scale * acc;
	}
}

GENQ_KERNEL(genq_attend_backward_keys,
            (float *dk, float *dv, const double *stats, const float *q, const float *k, const float *v,
             const float *bias, const unsigned char *keep, const float *dout, int heads, int queries, int keys,
             int hd, float scale, float keepScale, GENQ_LAYOUT_PARAMS(Q), GENQ_LAYOUT_PARAMS(K),
             GENQ_LAYOUT_PARAMS(V), GENQ_LAYOUT_PARAMS(O), GENQ_LAYOUT_PARAMS(B))) {
	__shared__ float ks[GENQ_MAX_HEAD_DIM];
	__shared__ float vs[GENQ_MAX_HEAD_DIM];
	__shared__ float pd[GENQ_MAX_KEYS];  // dropout(p) of column j, by query
	__shared__ float ds[GENQ_MAX_KEYS];  // ds of column j, by query
	int j = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
	genq_layout Q = GENQ_LAYOUT(Q), K = GENQ_LAYOUT(K), V = GENQ_LAYOUT(V), O = GENQ_LAYOUT(O), B = GENQ_LAYOUT(B);
	const float *krow = k + genq_at(K, b, h, j), *vrow = v + genq_at(V, b, h, j);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		ks[d] = krow[d];
		vs[d] = vrow[d];
	}
	__syncthreads();
	for (int i = threadIdx.x; i < queries; i += blockDim.x) {
		i64 row = ((i64)b * heads + h) * queries + i;
		const float *qrow = q + genq_at(Q, b, h, i), *grow = dout + genq_at(O, b, h, i);
		float s = genq_score(qrow, ks, hd, scale, bias ? bias + genq_at(B, b, h, i) + j : 0);
		float e = (float)exp((double)s - stats[3 * row]);
		float pij = (float)((double)e * stats[3 * row + 1]);
		float f = genq_keep(keep, row * keys + j, keepScale);
		float dp = 0;
		for (int d = 0; d < hd; d++) dp += grow[d] * vs[d];
		pd[i] = pij * f;
		ds[i] = (float)((double)pij * ((double)(dp * f) - stats[3 * row + 2]));
	}
	__syncthreads();
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		float accv = 0, acck = 0;
		for (int i = 0; i < queries; i++) {
			accv += pd[i] * dout[genq_at(O, b, h, i) + d];
			acck += ds[i] * q[genq_at(Q, b, h, i) + d];
		}
		if (dv) dv[genq_at(V, b, h, j) + d] = accv;
		if (dk) dk[genq_at(K, b, h, j) + d] = scale * acck;
	}
}
