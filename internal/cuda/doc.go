// Package cuda is genq's switch for running its gorgonia graphs on an NVIDIA GPU.
//
// # State of CUDA support
//
// genq's models are gorgonia v0.9.18 graphs run by TapeMachines. gorgonia runs
// graphs on a GPU only when the program is built with the `cuda` build tag:
// the tag swaps in gorgonia's CUDA machine, which places every op that has a
// CUDA implementation (matrix products through cuBLAS, elementwise arithmetic
// and unary functions through small PTX kernels) on device 0 and copies values
// back to the host where a CPU op reads them. That code path depends on
// gorgonia.org/cu v0.9.4, cgo bindings of the CUDA driver API, cuBLAS and
// cuDNN, so a `cuda` build needs a C compiler, the CUDA and cuDNN headers at
// build time and libcuda, libcublas and libcudnn at run time.
//
// In the default build (no tag), which is the one genq ships and tests,
// Available reports false and everything runs on the CPU.
//
// With `-tags cuda` the package adds RegisterKernels, which hands gorgonia the
// PTX of its elementwise kernels (gorgonia's `cuda modules/src/*.cu` compiled
// by nvcc on the GPU machine, see ReadKernels), and Available, which asks the
// driver for a device. Programs must call RegisterKernels before they create a
// TapeMachine; without the kernels gorgonia's CUDA machine cannot run
// elementwise ops on the device.
//
// State of the `cuda` build, as prepared for the GPU checks in .ci/gpu
// (build.sh builds test binaries here, run.sh runs them on the GPU machine):
//
//   - gorgonia.org/cu and gorgonia.org/cu/blas v0.9.4 compile against the
//     CUDA 11.8 headers. Built that way, a binary calls the versioned driver
//     entry points of that era (cuCtxCreate_v2, cuMemAlloc_v2, ...), which
//     newer drivers keep exporting, and the cuBLAS *_v2 functions. CUDA 13's
//     cuda.h maps cuCtxCreate to cuCtxCreate_v4, which takes an extra
//     CUctxCreateParams argument, so cu v0.9.4 is not expected to compile
//     against it; run.sh reports what the GPU machine's headers lack.
//   - gorgonia.org/cu/dnn v0.9.4 is written against cuDNN 8, and gorgonia's
//     CUDA engine imports it even though genq's graphs use no cuDNN op.
//     cuDNN 9 removed functions it calls (the algorithm descriptor and
//     persistent RNN plan functions, among others); build.sh declares those
//     from .ci/gpu/cudnn8_removed.h so the package compiles. A lasting fix is
//     a fork of gorgonia.org/cu ported to cuDNN 9, used through a replace
//     directive.
//   - gorgonia.org/cu runs cuInit when the program starts and exits the
//     process if it fails, so a `cuda` build cannot run on a machine without
//     a working NVIDIA driver.
package cuda
