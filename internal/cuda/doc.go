// Package cuda is genq's switch for running its gorgonia graphs on an NVIDIA GPU.
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
// # Using the `cuda` build
//
// With `-tags cuda` the package adds:
//
//   - RegisterKernels (and RegisterKernelsFromEnv, reading $GENQ_CUDA_PTX),
//     which hands gorgonia the PTX of its elementwise kernels: gorgonia's
//     "cuda modules/src/*.cu" compiled by nvcc (see ReadKernels). Without
//     them gorgonia's CUDA machine cannot run elementwise ops on the device.
//   - NewTapeMachine, which wraps gorgonia's and repairs its cuBLAS setup:
//     gorgonia creates the cuBLAS handle before its context is current, so
//     cuBLAS would run matrix products in the device's primary context,
//     unordered with the machine's own work. It also turns gorgonia's
//     initialisation panics into errors.
//   - Available, which asks the driver for a device.
//
// A program registers the kernels, locks its goroutine to its OS thread
// (runtime.LockOSThread: gorgonia makes the machine's context current only on
// the thread that creates the machine, and the driver rejects calls from
// other threads), then creates, runs and closes the machine on that
// goroutine. gorgonia.org/cu runs cuInit when the program starts and exits
// the process if it fails, so a `cuda` build cannot run on a machine without
// a working NVIDIA driver.
//
// # What is verified on a GPU
//
// Both checks in .ci/gpu compare float32 GPU results with a float64 CPU
// reference, with tolerance 1e-5 relative to max(1, |reference|):
//
//   - package internal/cuda/cucheck (tag cucheck): the driver API through
//     gorgonia.org/cu, gorgonia's mul_vv_f32 and tanh_f32 kernels compiled by
//     the machine's nvcc, and cublasSgemm through gorgonia.org/cu/blas. It
//     passed on an NVIDIA H200 (driver 580.159.04, CUDA 13.0, cuBLAS 13.1),
//     each within 1.2e-7.
//   - this package's TestGraphOnGPU and TestGradientOnGPU (tag cuda): a
//     TapeMachine computing h = x·w on cuBLAS and y = tanh(h) ⊙ h with
//     gorgonia's kernels, and the gradient of Σ y with respect to w, whose
//     backward pass takes cuBLAS's transposed path. They passed on the same
//     H200 (three runs each; h within 1.2e-7, y within 5.4e-8, dL/dw within
//     2.5e-7), and the loader's binding record shows the products ran in
//     cublasSgemm_v2 and the elementwise ops through cuLaunchKernel (23
//     driver/cuBLAS/cuDNN functions called in all). They also pass against
//     the CPU emulator (.ci/gpu/emu, within 7e-8).
//
// The test binaries are built here and run there, where there is no Go
// toolchain. To reproduce:
//
//	bash .ci/gpu/build.sh headers.tar.gz   # on a machine with Go: .ci/gpu/bin
//	bash .ci/gpu/emu/dryrun.sh ptx.tar.gz  # optional: dry run on the CPU
//	GENQ_GPU_QUICK=1 bash .ci/gpu/run.sh   # on the GPU machine, with .ci/gpu/bin
//
// headers.tar.gz (the GPU machine's cuDNN headers) and ptx.tar.gz are what a
// full run of run.sh (without GENQ_GPU_QUICK) writes to $OUT. run.sh ends
// with "RESULT: PASS" when both test binaries pass.
//
// # How the binaries are built
//
//   - gorgonia.org/cu and gorgonia.org/cu/blas v0.9.4 do not compile against
//     CUDA 13's cuda.h (it maps cuCtxCreate to cuCtxCreate_v4, which takes an
//     extra argument), so build.sh compiles them against the CUDA 11.8
//     headers. Built that way, a binary calls the versioned entry points of
//     that era (cuCtxCreate_v2, cuMemcpyHtoD_v2, cublasSgemm_v2, ...), which
//     current drivers and cuBLAS 13 still export with the same signatures.
//     The 23 functions the smoke tests call were checked against CUDA 13's
//     headers and the real libraries' symbol tables.
//   - gorgonia.org/cu/dnn v0.9.4 is written against cuDNN 8, and gorgonia's
//     CUDA machine imports it (it only creates and destroys a cuDNN handle
//     for genq's graphs). cuDNN 9 removed functions it wraps (the algorithm
//     descriptor and persistent RNN plan functions, among others); build.sh
//     declares those from .ci/gpu/cudnn8_removed.h for dnn's C files only, so
//     the package compiles. The binary binds functions lazily, so the
//     missing ones matter only if called. A lasting fix is a fork of
//     gorgonia.org/cu ported to CUDA 13 and cuDNN 9, used through a replace
//     directive.
//   - .ci/gpu/emu is a CPU emulator of the driver, cuBLAS and cuDNN
//     functions the machine calls. It flags driver calls made on a thread
//     without the context, and device memory used from another context: the
//     two gorgonia problems NewTapeMachine and the locked thread avoid.
package cuda
