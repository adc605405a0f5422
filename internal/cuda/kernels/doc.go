// Package kernels holds genq's own CUDA kernels: the device twins of
// internal/kernel's kernels (norms, softmax and log-softmax, the GELU
// variants and ReLU, embedding gather and scatter-add, T5's position bias,
// attention, cross-entropy, L2 normalization, column sums, AdamW and
// gradient clipping), forward and backward, written once in CUDA C
// (genq.cu and the files it includes) and held to internal/kernel by this
// package's tests.
//
// gen.sh compiles the sources with nvcc into one PTX module, genq.ptx,
// whose first line records the sha256 of the sources; a default-build test
// fails when the two disagree (run `bash internal/cuda/kernels/gen.sh` after
// changing a kernel). The `cuda` build embeds genq.ptx (PTX, ModuleName)
// and launches its kernels through a Launcher, bound to one CUDA context,
// made from a gorgonia CUDA engine (FromEngine: internal/cuda adds the
// module to gorgonia's CUDA standard library, so every CUDA TapeMachine
// loads it) or from a bare gorgonia.org/cu context (Load). In the default
// build the package holds no code.
//
// The same C++ source also compiles with g++ for .ci/gpu/emu, the CPU
// emulator of the CUDA driver that CI runs the cuda-tagged tests on, so
// that CI checks these kernels themselves and not a second copy of them
// (see genq.h for the rules the kernels keep to make that hold).
package kernels
