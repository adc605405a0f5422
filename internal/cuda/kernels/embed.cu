/*
 * Embedding gather and scatter-add, and T5's relative position bias forward
 * and backward: the device twins of internal/kernel's Gather, ScatterAdd,
 * PositionBias and PositionBiasBackward. Ids and buckets are int64 (Go int).
 */
#include "genq.h"

#define GENQ_MAX_BUCKETS 256

// genq_gather: row i of dst (n × d) = row ids[i] of table (vocab × d); NaN
// for an id outside [0, vocab).
GENQ_KERNEL(genq_gather, (float *dst, const float *table, const i64 *ids, int n, int d, int vocab)) {
	i64 total = (i64)n * d;
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (i64)gridDim.x * blockDim.x) {
		i64 r = i / d, j = i % d, id = ids[r];
		dst[i] = id >= 0 && id < vocab ? table[id * d + j] : NAN;
	}
}

// genq_scatter_add: row ids[i] of dtable += row i of dy (n × d), atomically.
GENQ_KERNEL(genq_scatter_add, (float *dtable, const float *dy, const i64 *ids, int n, int d)) {
	i64 total = (i64)n * d;
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (i64)gridDim.x * blockDim.x) {
		i64 r = i / d, j = i % d;
		atomicAdd(&dtable[ids[r] * d + j], dy[i]);
	}
}

// genq_position_bias: dst[b,h,p] = table[buckets[p]·heads + h] + mask[b,p]
// (mask null for none) over batch × heads × positions.
GENQ_KERNEL(genq_position_bias,
            (float *dst, const float *table, const i64 *buckets, const float *mask, int positions, int batch, int heads)) {
	i64 total = (i64)batch * heads * positions;
	for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (i64)gridDim.x * blockDim.x) {
		i64 p = i % positions, bh = i / positions, b = bh / heads, h = bh % heads;
		float v = table[buckets[p] * heads + h];
		dst[i] = mask ? v + mask[b * positions + p] : v;
	}
}

// genq_position_bias_backward: dtable[k·heads + h] += Σ over the positions p
// of bucket k and the batch of dy[b,h,p], for head h = blockIdx.y: each
// block sums its positions (grid stride over blockIdx.x) into a shared
// double histogram, then adds it to dtable atomically (clear dtable first).
GENQ_KERNEL(genq_position_bias_backward,
            (float *dtable, const float *dy, const i64 *buckets, int positions, int batch, int heads, int numBuckets)) {
	__shared__ double hist[GENQ_MAX_BUCKETS];
	int h = blockIdx.y;
	for (int k = threadIdx.x; k < numBuckets; k += blockDim.x) hist[k] = 0;
	__syncthreads();
	for (i64 p = (i64)blockIdx.x * blockDim.x + threadIdx.x; p < positions; p += (i64)gridDim.x * blockDim.x) {
		double s = 0;
		for (int b = 0; b < batch; b++) s += (double)dy[((i64)b * heads + h) * positions + p];
		atomicAdd(&hist[buckets[p]], s);
	}
	__syncthreads();
	for (int k = threadIdx.x; k < numBuckets; k += blockDim.x)
		if (hist[k] != 0) atomicAdd(&dtable[(i64)k * heads + h], (float)hist[k]);
}
