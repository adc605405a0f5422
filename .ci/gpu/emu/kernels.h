/*
 * Lets gorgonia's CUDA kernel sources ("cuda modules/src/NAME.cu") compile as
 * C++ for the CPU: dryrun.sh force-includes this header, and the emulator's
 * cuLaunchKernel runs each kernel once per thread of the launch grid with
 * blockIdx, threadIdx, gridDim and blockDim set.
 */
#ifndef GENQ_EMU_KERNELS_H
#define GENQ_EMU_KERNELS_H

#include <math.h>
#include <cmath>

using std::isinf;
using std::isnan;

struct dim3 {
	unsigned x, y, z;
};
extern thread_local dim3 blockIdx, threadIdx, gridDim, blockDim;

#define __global__
#define __device__
#define __forceinline__ inline

#endif
