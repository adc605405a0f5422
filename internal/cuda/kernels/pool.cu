/*
 * sentence-transformers' pooling of token embeddings and dropout by a keep
 * mask drawn on the host, forward and backward: the device twins of
 * internal/nn's Pool and Dropout ops (whose CPU kernels live in
 * internal/nn). One thread per (sequence, column), summing over the tokens
 * in token order in double, as the Go kernels do, so that results match
 * them bit for bit.
 */
#include "genq.h"

// Pooling modes (internal/nn's PoolMode).
#define GENQ_POOL_MEAN 0
#define GENQ_POOL_CLS 1
#define GENQ_POOL_MAX 2
#define GENQ_POOL_MEAN_SQRT_LEN 3

// GENQ_POOL_MASKED is the value padded tokens take before max pooling.
#define GENQ_POOL_MASKED -1e9

// genq_pool_divisor is what the masked sum of sequence mask m (t values) is
// divided by: max(Σm, 1e-9), or its square root.
__device__ __forceinline__ double genq_pool_divisor(const float *m, int t, int mode) {
	double c = 0;
	for (int i = 0; i < t; i++) c += (double)m[i];
	if (c < 1e-9) c = 1e-9;
	return mode == GENQ_POOL_MEAN_SQRT_LEN ? sqrt(c) : c;
}

// genq_pool_argmax returns the token max pooling picks in column j of the
// sequence at x (t rows of width d) with mask m: the first maximum, padded
// tokens counting as GENQ_POOL_MASKED.
__device__ __forceinline__ int genq_pool_argmax(const float *x, const float *m, int t, int d, int j) {
	double best = -INFINITY;
	int idx = 0;
	for (int i = 0; i < t; i++) {
		double f = m[i] == 0 ? GENQ_POOL_MASKED : (double)x[(i64)i * d + j];
		if (f > best) {
			best = f;
			idx = i;
		}
	}
	return idx;
}

// genq_pool: dst [B, d] = the pooling of x [B·t, d] under mask [B, t]
// (grid: B × ⌈d/block⌉ blocks, one thread per column).
GENQ_KERNEL(genq_pool, (float *dst, const float *x, const float *mask, int t, int d, int mode)) {
	int s = blockIdx.x, j = blockIdx.y * blockDim.x + threadIdx.x;
	if (j >= d) return;
	const float *xs = x + (i64)s * t * d, *m = mask + (i64)s * t;
	float *out = dst + (i64)s * d + j;
	switch (mode) {
	case GENQ_POOL_CLS:
		*out = xs[j];
		break;
	case GENQ_POOL_MAX: {
		int i = genq_pool_argmax(xs, m, t, d, j);
		*out = m[i] == 0 ? (float)GENQ_POOL_MASKED : xs[(i64)i * d + j];
		break;
	}
	default: {
		double acc = 0;
		for (int i = 0; i < t; i++) acc += (double)xs[(i64)i * d + j] * (double)m[i];
		*out = (float)(acc / genq_pool_divisor(m, t, mode));
	}
	}
}

// genq_pool_backward: dx [B·t, d] = the gradient of genq_pool from dy [B, d]
// (grid as genq_pool's; every element of dx is written).
GENQ_KERNEL(genq_pool_backward,
            (float *dx, const float *x, const float *mask, const float *dy, int t, int d, int mode)) {
	int s = blockIdx.x, j = blockIdx.y * blockDim.x + threadIdx.x;
	if (j >= d) return;
	const float *xs = x + (i64)s * t * d, *m = mask + (i64)s * t;
	float *g = dx + (i64)s * t * d + j;
	double v = dy[(i64)s * d + j];
	switch (mode) {
	case GENQ_POOL_CLS:
		for (int i = 0; i < t; i++) g[(i64)i * d] = i == 0 ? (float)v : 0;
		break;
	case GENQ_POOL_MAX: {
		int k = genq_pool_argmax(xs, m, t, d, j);
		for (int i = 0; i < t; i++) g[(i64)i * d] = i == k && m[k] != 0 ? (float)v : 0;
		break;
	}
	default: {
		double c = genq_pool_divisor(m, t, mode);
		for (int i = 0; i < t; i++) g[(i64)i * d] = (float)(v * ((double)m[i] / c));
	}
	}
}

// genq_dropout: dst[i] = keep[i] ? x[i]·scale : 0 for i < n, the product in
// double rounded to float, as internal/nn's dropout kernel; the double scale
// comes as three floats whose sum hi + (mid + lo) is exactly it. keep holds
// n bytes (Go bools). Elementwise over the grid's stride. dst may be x.
GENQ_KERNEL(genq_dropout,
            (float *dst, const float *x, const unsigned char *keep, int n, float hi, float mid, float lo)) {
	double scale = (double)hi + ((double)mid + (double)lo);
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
		dst[i] = keep[i] ? (float)((double)x[i] * scale) : 0.0f;
}
