/*
 * RMS norm (T5LayerNorm), layer norm and column sums: the device twins of
 * internal/kernel's RMSNorm, RMSNormBackward, LayerNorm, LayerNormBackward
 * and SumRows. One block per row; reductions in double, as the Go kernels
 * accumulate in float64.
 */
#include "genq.h"

// genq_rmsnorm: dst = w ⊙ x / sqrt(mean(x²) + eps) per row of width d
// (grid: one block per row). dst may be x.
GENQ_KERNEL(genq_rmsnorm, (float *dst, const float *x, const float *w, int d, float eps)) {
	__shared__ double buf[GENQ_BLOCK];
	const float *row = x + (i64)blockIdx.x * d;
	float *out = dst + (i64)blockIdx.x * d;
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)row[j] * (double)row[j];
	s = genq_block_sum(s, buf);
	double ri = 1.0 / sqrt(s / d + (double)eps);
	for (int j = threadIdx.x; j < d; j += blockDim.x) out[j] = (float)((double)w[j] * ((double)row[j] * ri));
}

// genq_rmsnorm_backward_rows: per row r (one block each), with
// ri = 1/sqrt(mean(x²)+eps) and g = dy ⊙ w, dx = ri·(g − x·ri²·mean(g ⊙ x))
// when dx is not null, and stats[r] = ri when stats is not null.
GENQ_KERNEL(genq_rmsnorm_backward_rows,
            (float *dx, double *stats, const float *x, const float *w, const float *dy, int d, float eps)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double s = 0, gx = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double v = x[off + j];
		s += v * v;
		gx += (double)dy[off + j] * (double)w[j] * v;
	}
	s = genq_block_sum(s, buf);
	gx = genq_block_sum(gx, buf);
	double ri = 1.0 / sqrt(s / d + (double)eps);
	if (stats != 0 && threadIdx.x == 0) stats[blockIdx.x] = ri;
	if (dx == 0) return;
	double c = ri * ri * gx / d;
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		dx[off + j] = (float)(ri * ((double)dy[off + j] * (double)w[j] - (double)x[off + j] * c));
}

// genq_z is element k of z = x + res (x alone for res null), the sum
// rounded to float as the Go kernel rounds it.
__device__ __forceinline__ float genq_z(const float *x, const float *res, i64 k) { return res ? x[k] + res[k] : x[k]; }

// genq_moments sets mean and rstd = 1/sqrt(var + eps) of the row of z at
// off (biased variance, two passes in double), for every thread of the
// block.
__device__ __forceinline__ void genq_moments(const float *x, const float *res, i64 off, int d, float eps, double *buf,
                                             double *mean, double *rstd) {
	double s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)genq_z(x, res, off + j);
	double m = genq_block_sum(s, buf) / d;
	s = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double c = (double)genq_z(x, res, off + j) - m;
		s += c * c;
	}
	*mean = m;
	*rstd = 1.0 / sqrt(genq_block_sum(s, buf) / d + (double)eps);
}

// genq_layernorm: dst = (z − mean)/sqrt(var + eps)·w + b per row of width d of
// z = x + res (x alone for res null), in double (one block per row). dst may
// be x.
GENQ_KERNEL(genq_layernorm,
            (float *dst, const float *x, const float *res, const float *w, const float *b, int d, float eps)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double mean, rstd;
	genq_moments(x, res, off, d, eps, buf, &mean, &rstd);
	for (int j = threadIdx.x; j < d; j += blockDim.x)
		dst[off + j] = (float)(((double)genq_z(x, res, off + j) - mean) * rstd * (double)w[j] + (double)b[j]);
}

// genq_layernorm_backward_rows: per row r of z = x + res (one block each),
// with x̂ the normalized z and ĝ = dy ⊙ w,
// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) when dx is not null, and
// stats[2r], stats[2r+1] = mean, rstd when stats is not null.
GENQ_KERNEL(genq_layernorm_backward_rows, (float *dx, double *stats, const float *x, const float *res,
                                           const float *w, const float *dy, int d, float eps)) {
	__shared__ double buf[GENQ_BLOCK];
	i64 off = (i64)blockIdx.x * d;
	double mean, rstd;
	genq_moments(x, res, off, d, eps, buf, &mean, &rstd);
	if (stats != 0 && threadIdx.x == 0) {
		stats[2 * (i64)blockIdx.x] = mean;
		stats[2 * (i64)blockIdx.x + 1] = rstd;
	}
	if (dx == 0) return;
	double sg = 0, sgx = 0;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double gh = (double)dy[off + j] * (double)w[j];
		sg += gh;
		sgx += gh * ((double)genq_z(x, res, off + j) - mean) * rstd;
	}
	double mg = genq_block_sum(sg, buf) / d, mgx = genq_block_sum(sgx, buf) / d;
	for (int j = threadIdx.x; j < d; j += blockDim.x) {
		double xh = ((double)genq_z(x, res, off + j) - mean) * rstd;
		double gh = (double)dy[off + j] * (double)w[j];
		dx[off + j] = (float)(rstd * (gh - mg - xh * mgx));
	}
}

// Modes of genq_colsum.
#define GENQ_COLSUM_PLAIN 0 /* dst[j] = Σ_r a[r,j]                               */
#define GENQ_COLSUM_RMS 1   /* dst[j] = Σ_r a[r,j]·b[r,j]·stats[r]               */
#define GENQ_COLSUM_LN 2    /* dst[j] = Σ_r a[r,j]·(z[r,j] − stats[2r])·stats[2r+1],
                               z = b + c (b alone for c null)                    */

// genq_colsum sets dst[j] (j < d) to a sum over the rows r < rows, by mode,
// summing each column in row order within 8 lanes then the lanes in order
// (deterministic). Block (32, 8), grid ceil(d/32) blocks.
GENQ_KERNEL(genq_colsum, (float *dst, const float *a, const float *b, const float *c, const double *stats,
                          int rows, int d, int mode)) {
	__shared__ double buf[8][33];
	int j = blockIdx.x * 32 + threadIdx.x;
	double acc = 0;
	if (j < d) {
		for (int r = threadIdx.y; r < rows; r += 8) {
			i64 k = (i64)r * d + j;
			double v = a[k];
			if (mode == GENQ_COLSUM_RMS) v *= (double)b[k] * stats[r];
			if (mode == GENQ_COLSUM_LN) v *= ((double)genq_z(b, c, k) - stats[2 * (i64)r]) * stats[2 * (i64)r + 1];
			acc += v;
		}
	}
	buf[threadIdx.y][threadIdx.x] = acc;
	__syncthreads();
	if (threadIdx.y == 0 && j < d) {
		double s = 0;
		for (int l = 0; l < 8; l++) s += buf[l][threadIdx.x];
		dst[j] = (float)s;
	}
}
