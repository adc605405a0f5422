/*
 * Elementwise kernels: ReLU, exact-erf GELU, gelu_new and T5 v1.1's gated
 * gelu_new, forward and backward (the device twins of internal/kernel's
 * ReLU, GELU, GELUNew, GatedGELUNew and their gradients), and Fill. Each
 * loops over the grid's stride. The GELUs compute in float with the
 * formulas of PyTorch's CUDA kernels (erff, expf, tanhf); internal/kernel
 * computes them in double, within the tests' tolerance.
 */
#include "genq.h"

#define GENQ_FOR_EACH(i, n) \
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (i64)(n); i += (i64)gridDim.x * blockDim.x)

// genq_fill: dst[i] = v.
GENQ_KERNEL(genq_fill, (float *dst, int n, float v)) {
	GENQ_FOR_EACH(i, n) dst[i] = v;
}

// genq_relu: dst = max(0, x); NaN stays NaN, −0 becomes +0.
GENQ_KERNEL(genq_relu, (float *dst, const float *x, int n)) {
	GENQ_FOR_EACH(i, n) {
		float v = x[i];
		dst[i] = v != v ? v : (v > 0.0f ? v : 0.0f);
	}
}

// genq_relu_backward: dx = dy where x > 0, else 0.
GENQ_KERNEL(genq_relu_backward, (float *dx, const float *x, const float *dy, int n)) {
	GENQ_FOR_EACH(i, n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

#define GENQ_SQRT1_2 0.70710678118654752440f
#define GENQ_SQRT2_PI 0.79788456080286535588f   /* √(2/π) */
#define GENQ_INV_SQRT_2PI 0.39894228040143267794f /* 1/√(2π) */

// genq_gelu: dst = x·Φ(x) = x/2·(1 + erf(x/√2)).
GENQ_KERNEL(genq_gelu, (float *dst, const float *x, int n)) {
	GENQ_FOR_EACH(i, n) {
		float v = x[i];
		dst[i] = v * 0.5f * (1.0f + erff(v * GENQ_SQRT1_2));
	}
}

// genq_gelu_backward: dx = dy·(Φ(x) + x·φ(x)).
GENQ_KERNEL(genq_gelu_backward, (float *dx, const float *x, const float *dy, int n)) {
	GENQ_FOR_EACH(i, n) {
		float v = x[i];
		float cdf = 0.5f * (1.0f + erff(v * GENQ_SQRT1_2));
		float pdf = expf(-0.5f * v * v) * GENQ_INV_SQRT_2PI;
		dx[i] = dy[i] * (cdf + v * pdf);
	}
}

// genq_gelu_new_of is gelu_new(v) = 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))).
__device__ __forceinline__ float genq_gelu_new_of(float v) {
	return 0.5f * v * (1.0f + tanhf(GENQ_SQRT2_PI * (v + 0.044715f * v * v * v)));
}

// genq_gelu_new_grad is gelu_new'(v).
__device__ __forceinline__ float genq_gelu_new_grad(float v) {
	float t = tanhf(GENQ_SQRT2_PI * (v + 0.044715f * v * v * v));
	return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * GENQ_SQRT2_PI * (1.0f + 3.0f * 0.044715f * v * v);
}

// genq_gelu_new: dst = gelu_new(x).
GENQ_KERNEL(genq_gelu_new, (float *dst, const float *x, int n)) {
	GENQ_FOR_EACH(i, n) dst[i] = genq_gelu_new_of(x[i]);
}

// genq_gelu_new_backward: dx = dy·gelu_new'(x).
GENQ_KERNEL(genq_gelu_new_backward, (float *dx, const float *x, const float *dy, int n)) {
	GENQ_FOR_EACH(i, n) dx[i] = dy[i] * genq_gelu_new_grad(x[i]);
}

// genq_gated_gelu_new: dst = gelu_new(a)·b.
GENQ_KERNEL(genq_gated_gelu_new, (float *dst, const float *a, const float *b, int n)) {
	GENQ_FOR_EACH(i, n) dst[i] = genq_gelu_new_of(a[i]) * b[i];
}

// genq_gated_gelu_new_backward: da = dy·b·gelu_new'(a), db = dy·gelu_new(a)
// (either null to skip it; all reads come before the writes, so da or db may
// be dy).
GENQ_KERNEL(genq_gated_gelu_new_backward,
            (float *da, float *db, const float *a, const float *b, const float *dy, int n)) {
	GENQ_FOR_EACH(i, n) {
		float av = a[i], bv = b[i], g = dy[i];
		if (da) da[i] = g * bv * genq_gelu_new_grad(av);
		if (db) db[i] = g * genq_gelu_new_of(av);
	}
}
