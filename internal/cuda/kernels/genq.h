/*
 * Shared definitions of genq's CUDA kernels (genq.cu includes every .cu file
 * of this folder into one PTX module).
 *
 * The same source compiles two ways:
 *  - with nvcc (gen.sh): GENQ_KERNEL declares an extern "C" __global__
 *    function, the entry point of the PTX module;
 *  - with g++ for .ci/gpu/emu, the CPU emulator of the CUDA driver, which
 *    force-includes .ci/gpu/emu/kernels.h first: there GENQ_KERNEL also
 *    registers the kernel with the emulator, which runs every block's
 *    threads as cooperative fibers (so __syncthreads is a real barrier),
 *    __shared__ is per-block storage and atomicAdd a plain addition.
 *
 * Rules the kernels keep so that both hold: at most GENQ_BLOCK (256) threads
 * a block, no warp shuffles or warp-synchronous code, shared memory only as
 * fixed-size __shared__ arrays, every thread of a block reaching each
 * __syncthreads, sizes as int and offsets as long long.
 */
#ifndef GENQ_H
#define GENQ_H

#ifndef GENQ_KERNEL
#define GENQ_KERNEL(name, params) extern "C" __global__ void name params
#endif

// GENQ_BLOCK is the block size of the row and reduction kernels; the Go
// launcher uses the same value.
#define GENQ_BLOCK 256

// GENQ_MAX_KEYS bounds the keys of one attention row (its scores live in
// shared memory).
#define GENQ_MAX_KEYS 2048

// GENQ_MAX_HEAD_DIM bounds the head dimension of attention.
#define GENQ_MAX_HEAD_DIM 256

typedef long long i64;

__device__ __forceinline__ int genq_imin(int a, int b) { return a < b ? a : b; }

// genq_block_sum returns the sum of v over the block's threads, to every
// thread, in a fixed order (a tree over shared memory), so that results do
// not depend on scheduling. buf holds GENQ_BLOCK doubles of shared memory;
// blockDim.x must be a power of two ≤ GENQ_BLOCK.
__device__ __forceinline__ double genq_block_sum(double v, double *buf) {
	unsigned t = threadIdx.x;
	buf[t] = v;
	__syncthreads();
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (t < s) buf[t] += buf[t + s];
		__syncthreads();
	}
	double r = buf[0];
	__syncthreads();
	return r;
}

// genq_block_max returns the maximum of v over the block's threads, to every
// thread (NaN if any is NaN). buf holds GENQ_BLOCK floats of shared memory.
__device__ __forceinline__ float genq_block_max(float v, float *buf) {
	unsigned t = threadIdx.x;
	buf[t] = v;
	__syncthreads();
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (t < s) {
			float o = buf[t + s];
			if (o > buf[t] || o != o) buf[t] = o;
		}
		__syncthreads();
	}
	float r = buf[0];
	__syncthreads();
	return r;
}

#endif
