/*
 * AdamW and gradient clipping: the device twins of encoder/optim's AdamW
 * step and ClipGradNorm (torch.optim.AdamW, torch.nn.utils.clip_grad_norm_).
 * The float32 operations are written as __f*_rn intrinsics so that nvcc
 * does not fuse a multiply and an add where torch rounds twice.
 */
#include "genq.h"

// genq_adamw: one AdamW step over n parameters, the float32 operations of
// optim's adamwJob.apply in its order.
GENQ_KERNEL(genq_adamw, (float *param, const float *grad, float *expAvg, float *expAvgSq, int n, float decay,
                         float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                         float biasCorrection2Sqrt, float negStepSize, float eps)) {
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
		float g = grad[i];
		float p = __fmul_rn(param[i], decay);
		float m = __fmaf_rn(g, oneMinusBeta1, __fmul_rn(expAvg[i], beta1));
		float v = __fadd_rn(__fmul_rn(expAvgSq[i], beta2), __fmul_rn(__fmul_rn(oneMinusBeta2, g), g));
		float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(v), biasCorrection2Sqrt), eps);
		param[i] = __fadd_rn(p, __fdiv_rn(__fmul_rn(negStepSize, m), denom));
		expAvg[i] = m;
		expAvgSq[i] = v;
	}
}

// genq_sumsq: partial[blockIdx.x] = the sum of the squares of the block's
// share of x (grid stride), in double.
GENQ_KERNEL(genq_sumsq, (double *partial, const float *x, int n)) {
	__shared__ double buf[GENQ_BLOCK];
	double s = 0;
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
		s += (double)x[i] * (double)x[i];
	s = genq_block_sum(s, buf);
	if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// genq_clip_coef (one block): from the chunks partial sums of squares of
// each of count gradients, each gradient's norm rounded to float, the total
// norm of those (rounded to float) into *total (unless null) and
// coef[0] = maxNorm/(total + 1e-6) computed in float as torch does.
GENQ_KERNEL(genq_clip_coef, (float *coef, float *total, const double *partials, int count, int chunks, float maxNorm)) {
	__shared__ double buf[GENQ_BLOCK];
	double s = 0;
	for (int i = threadIdx.x; i < count; i += blockDim.x) {
		double g = 0;
		for (int c = 0; c < chunks; c++) g += partials[(i64)i * chunks + c];
		float norm = (float)sqrt(g);
		s += (double)norm * (double)norm;
	}
	s = genq_block_sum(s, buf);
	if (threadIdx.x == 0) {
		float t = (float)sqrt(s);
		if (total) *total = t;
		coef[0] = __fmul_rn(__fdiv_rn(1.0f, __fadd_rn(t, 1e-6f)), maxNorm);
	}
}

// genq_clip_scale: x *= coef[0] where coef[0] < 1.
GENQ_KERNEL(genq_clip_scale, (float *x, int n, const float *coef)) {
	float c = coef[0];
	if (!(c < 1.0f)) return;
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
		x[i] = __fmul_rn(x[i], c);
}
