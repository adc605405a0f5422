/*
 * Lets CUDA kernel sources compile as C++ for the CPU emulator (emu.cc):
 * dryrun.sh force-includes this header into gorgonia's kernel sources
 * ("cuda modules/src/NAME.cu") and genq's (internal/cuda/kernels/genq.cu).
 *
 * gorgonia's kernels use no shared memory and no barrier: cuLaunchKernel
 * calls them once per thread of the launch grid with blockIdx, threadIdx,
 * gridDim and blockDim set. genq's kernels are declared with GENQ_KERNEL,
 * which here also registers each one with the emulator together with a
 * trampoline that unpacks cuLaunchKernel's argument array by the kernel's
 * own C++ signature; the emulator runs every block's threads as cooperative
 * fibers on one OS thread, so that __syncthreads is a real barrier (a fiber
 * that reaches it yields until every thread of the block has reached it or
 * returned), __shared__ variables are per-block storage (static
 * thread_local: one block at a time runs on an OS thread), and atomicAdd is
 * a plain addition (fibers switch only at barriers).
 */
#ifndef GENQ_EMU_KERNELS_H
#define GENQ_EMU_KERNELS_H

#include <math.h>

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>

using std::isinf;
using std::isnan;

struct dim3 {
	unsigned x, y, z;
};
extern thread_local dim3 blockIdx, threadIdx, gridDim, blockDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static thread_local

// __syncthreads waits until every thread of the block has called it (or
// returned): the calling fiber yields to the emulator's block scheduler.
void __syncthreads();

// Fibers switch only at __syncthreads, so a read-modify-write is atomic.
inline float atomicAdd(float *p, float v) { float o = *p; *p = o + v; return o; }
inline double atomicAdd(double *p, double v) { double o = *p; *p = o + v; return o; }
inline int atomicAdd(int *p, int v) { int o = *p; *p = o + v; return o; }
inline unsigned atomicAdd(unsigned *p, unsigned v) { unsigned o = *p; *p = o + v; return o; }

// The float32 intrinsics that keep nvcc from contracting a multiply and an
// add into one FMA: the host rounds every operation (dryrun.sh compiles with
// -ffp-contract=off), and its sqrtf and fmaf are correctly rounded.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }

namespace genq_emu {

// Param describes one kernel parameter: its size in bytes, and whether it is
// a pointer (device memory) or a floating-point value.
struct Param {
	int size;
	bool pointer, floating;
};

// Invoker calls kernel fn with the arguments of cuLaunchKernel's array.
typedef void (*Invoker)(void *fn, void **args);

// registerKernel records a GENQ_KERNEL for cuModuleGetFunction (emu.cc).
void registerKernel(const char *name, void *fn, Invoker invoke, const Param *params, int n);

template <typename... A, std::size_t... I>
void invokeWith(void (*f)(A...), void **args, std::index_sequence<I...>) {
	f(*reinterpret_cast<A *>(args[I])...);
}

// invoke is the trampoline of a kernel with parameters A...: args[i] points
// to the value of parameter i, as cuLaunchKernel receives it.
template <typename... A>
void invoke(void *fn, void **args) {
	invokeWith(reinterpret_cast<void (*)(A...)>(fn), args, std::index_sequence_for<A...>{});
}

// Registration registers a kernel at load time of the emulator library.
struct Registration {
	template <typename... A>
	Registration(const char *name, void (*f)(A...)) {
		static const Param params[] = {
		    {(int)sizeof(A), std::is_pointer<A>::value, std::is_floating_point<A>::value}..., {0, false, false}};
		registerKernel(name, reinterpret_cast<void *>(f), &invoke<A...>, params, (int)sizeof...(A));
	}
};

}  // namespace genq_emu

#define GENQ_KERNEL(name, params)                                                        \
	extern "C" void name params;                                                         \
	static const genq_emu::Registration genq_emu_registration_##name(#name, name);       \
	extern "C" void name params

#endif
