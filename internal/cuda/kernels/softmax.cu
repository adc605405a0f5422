/*
 * Row softmax and log-softmax, forward and backward: the device twins of
 * internal/kernel's Softmax, SoftmaxBackward, LogSoftmax and
 * LogSoftmaxBackward. One block per row; from the row maximum on in double.
 */
#include "genq.h"

// genq_softmax_row sets out (d values) to softmax(in + mask) (mask null for
// none) as kernel.SoftmaxRow does: the maximum of the float sums, e^(v − max)
// in double rounded to float into out, their double sum, then each value
// times the reciprocal of the sum. Called by all threads of a block; out may
// be in. fbuf and dbuf are GENQ_BLOCK floats and doubles of shared memory.
// It returns the reciprocal of the sum and sets *hiOut to the maximum, for
// every thread (attention's backward pass recomputes probabilities from
// them).
__device__ __forceinline__ double genq_softmax_row(float *out, const float *in, const float *mask, int d,
                                                   float *fbuf, double *dbuf, float *hiOut) {
	float hi = -INFINITY;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		float v = mask ? in[j] + mask[j] : in[j];
		if (v > hi || v != v) hi = v;
	}
	hi = genq_block_max(hi, fbuf);
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		float v = mask ? in[j] + mask[j] : in[j];
		double e = exp((double)v - (double)hi);
		out[j] = (float)e;
		s += e;
	}
	double inv = 1.0 / genq_block_sum(s, dbuf);
	for (int j = threadIdx.x; j < d; j += blockDim.x) out[j] = (float)((double)out[j] * inv);
	*hiOut = hi;
	return inv;
}

// genq_softmax: dst = softmax of every row of width d of x (one block per
// row). dst may be x.
GENQ_KERNEL(genq_softmax, (float *dst, const float *x, int d)) {
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	float hi;
	genq_softmax_row(dst + off, x + off, 0, d, fbuf, dbuf, &hi);
}

// genq_softmax_backward: dx = y ⊙ (dy − Σ dy⊙y) per row (one block per row).
// dx may be dy.
GENQ_KERNEL(genq_softmax_backward, (float *dx, const float *y, const float *dy, int d)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)dy[off + j] * (double)y[off + j];
	double dot = genq_block_sum(s, buf);
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		dx[off + j] = (float)((double)y[off + j] * ((double)dy[off + j] - dot));
}

// genq_logsumexp returns log Σ e^row[j] to every thread of the block, from
// the maximum in double (−Inf for an all −Inf row, NaN if any value is NaN),
// as kernel.LogSumExp.
__device__ __forceinline__ double genq_logsumexp(const float *row, int d, float *fbuf, double *dbuf) {
	float hi = -INFINITY;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		if (row[j] > hi || row[j] != row[j]) hi = row[j];
	hi = genq_block_max(hi, fbuf);
	double s = 0;
	bool finite = !(hi != hi || hi == -INFINITY);
	if (finite)
		for (int j = threadIdx.x; j < d; j += blockDim.x) s += exp((double)row[j] - (double)hi);
	s = genq_block_sum(s, dbuf);
	return finite ? (double)hi + log(s) : (double)hi;
}

// genq_log_softmax: dst = x − logΣe^x per row of width d (one block per row).
// dst may be x.
GENQ_KERNEL(genq_log_softmax, (float *dst, const float *x, int d)) {
	__shared__ float fbuf[GENQ_BLOCK];
	__shared__ double dbuf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double lse = genq_logsumexp(x + off, d, fbuf, dbuf);
	for (int j = threadIdx.x; j < d; j += blockDim.x) dst[off + j] = (float)((double)x[off + j] - lse);
}

// genq_log_softmax_backward: dx = dy − e^y·Σdy per row (one block per row).
// dx may be dy.
GENQ_KERNEL(genq_log_softmax_backward, (float *dx, const float *y, const float *dy, int d)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)dy[off + j];
	double sum = genq_block_sum(s, buf);
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		dx[off + j] = (float)((double)dy[off + j] - exp((double)y[off + j]) * sum);
}
