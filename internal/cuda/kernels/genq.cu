/*
 * genq's CUDA kernels, one PTX module ("genq"): gen.sh compiles this file
 * with nvcc -ptx into genq.ptx, and .ci/gpu/emu compiles it with g++ for the
 * CPU emulator. Every kernel is the device twin of a kernel of
 * internal/kernel, held to it by this package's tests.
 */
#include "norm.cu"
#include "softmax.cu"
#include "attention.cu"
#include "act.cu"
#include "embed.cu"
#include "loss.cu"
#include "optim.cu"
