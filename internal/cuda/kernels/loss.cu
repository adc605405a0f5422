/*
 * Cross-entropy (mean over the rows whose label is not -100) and L2
 * normalization, forward and backward: the device twins of
 * internal/kernel's CrossEntropy, CrossEntropyBackward, L2Normalize and
 * L2NormalizeBackward. Labels are int64 (Go int).
 */
#include "genq.h"

#define GENQ_IGNORE_INDEX -100
#define GENQ_NORM_EPS 1e-12

// genq_xent_rows: rowloss[r] = logΣe^row − row[label] in double for row r
// of logits (one block per row), 0 for an ignored row, NaN for a label
// outside [0, v).
GENQ_KERNEL(genq_xent_rows, (double *rowloss, const float *logits, const i64 *labels, int v)) {
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	i64 r = blockIdx.x, l = labels[r];
	if (l == GENQ_IGNORE_INDEX) {  // the whole block returns together
		if (threadIdx.x == 0) rowloss[r] = 0;
		return;
	}
	const float *row = logits + r * v;
	double lse = genq_logsumexp(row, v, fbuf, dbuf);
	if (threadIdx.x == 0) rowloss[r] = l >= 0 && l < v ? lse - (double)row[l] : NAN;
}

// genq_xent_count: *count = the number of labels that are not -100, as a
// double (one block).
GENQ_KERNEL(genq_xent_count, (double *count, const i64 *labels, int rows)) {
	__shared__ double buf[GENQ_BLOCK];
	double n = 0;
	for (int r = threadIdx.x; r < rows; r += blockDim.x) n += labels[r] != GENQ_IGNORE_INDEX;
	n = genq_block_sum(n, buf);
	if (threadIdx.x == 0) *count = n;
}

// genq_xent_mean: *loss = Σ rowloss / *count, rounded to float (NaN for a
// count of 0), in one block.
GENQ_KERNEL(genq_xent_mean, (float *loss, const double *rowloss, const double *count, int rows)) {
	__shared__ double buf[GENQ_BLOCK];
	double s = 0;
	for (int r = threadIdx.x; r < rows; r += blockDim.x) s += rowloss[r];
	s = genq_block_sum(s, buf);
	if (threadIdx.x == 0) *loss = *count == 0 ? NAN : (float)(s / *count);
}

// genq_xent_backward: row r of dlogits (one block per row) =
// dloss·(softmax(row) − onehot(label))/count, 0 for an ignored row.
GENQ_KERNEL(genq_xent_backward,
            (float *dlogits, const float *logits, const i64 *labels, const double *count, const float *dloss, int v)) {
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	i64 r = blockIdx.x, l = labels[r];
	float *out = dlogits + r * v;
	if (l == GENQ_IGNORE_INDEX) {
		for (int j = threadIdx.x; j < v; j += blockDim.x) out[j] = 0;
		return;
	}
	float hi;
	genq_softmax_row(out, logits + r * v, 0, v, fbuf, dbuf, &hi);
	double scale = (double)*dloss / *count;
	for (int j = threadIdx.x; j < v; j += blockDim.x) {  // the threads that wrote out[j]
		float p = out[j];
		if (j == l) p -= 1.0f;
		out[j] = (float)((double)p * scale);
	}
}

// genq_l2_normalize: every row of dst = row of x / max(‖row‖, 1e-12), the
// norm in double rounded to float, the division in float (one block per
// row). dst may be x.
GENQ_KERNEL(genq_l2_normalize, (float *dst, const float *x, int d)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)x[off + j] * (double)x[off + j];
	double nd = sqrt(genq_block_sum(s, buf));
	float n = (float)(nd > GENQ_NORM_EPS ? nd : GENQ_NORM_EPS);
	for (int j = threadIdx.x; j < d; j += blockDim.x) dst[off + j] = x[off + j] / n;
}

// genq_l2_normalize_backward: dx = (dy − y·⟨y, dy⟩)/‖x‖ with y = x/‖x‖, or
// dy/1e-12 where ‖x‖ < 1e-12, in double (one block per row). dx may be dy.
GENQ_KERNEL(genq_l2_normalize_backward, (float *dx, const float *x, const float *dy, int d)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double s = 0, g = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		s += (double)x[off + j] * (double)x[off + j];
		g += (double)x[off + j] * (double)dy[off + j];
	}
	double n = sqrt(genq_block_sum(s, buf));
	double yg = genq_block_sum(g, buf) / n;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double gj = dy[off + j];
		dx[off + j] = (float)(n < GENQ_NORM_EPS ? gj / GENQ_NORM_EPS : (gj - (double)x[off + j] / n * yg) / n);
	}
}
