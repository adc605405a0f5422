// Package cuda is genq's switch for running its gorgonia graphs on an NVIDIA GPU.
//
// genq's models are gorgonia v0.9.18 graphs run by TapeMachines. In the
// default build (no tag), the one genq ships and tests, everything runs on
// the CPU: Enabled reports false, NewMachine is gorgonia's CPU TapeMachine,
// ReadBack adds nothing, and no cgo is involved.
//
// # The `cuda` build
//
// Built with `-tags cuda`, gorgonia swaps in its CUDA machine, which places
// every op that has a CUDA implementation on device 0 and copies values
// between host and device where a CPU op feeds a GPU op or back. genq then
// runs its graphs on the GPU as follows:
//
//   - t5 builds every graph from gorgonia's own ops (the graphs it uses for
//     training), whose matrix products run on cuBLAS and whose elementwise
//     arithmetic runs as gorgonia's PTX kernels; the fused CPU inference ops
//     are not used. The norms, softmax, embedding lookups and the
//     hand-written decoder step of generation stay on the CPU.
//   - the bi-encoder's linear layers and their gradients (internal/nn's
//     Linear, LinearGradX, LinearGradW) run on cuBLAS, bias rows included;
//     the rest of the encoder, the pooling and MNRL's softmax stay on the CPU.
//   - NewMachine runs each machine on an OS thread of its own (gorgonia makes
//     the machine's CUDA context current only on the thread that creates
//     it, and the driver rejects calls from other threads), so the models'
//     callers may use any goroutine.
//   - ReadBack and Reader read outputs and gradients back to the host as
//     soon as they are computed (see the bugs below).
//
// A `cuda` build has no CPU mode: gorgonia places its own ops on the GPU in
// every graph. gorgonia.org/cu runs cuInit when the program starts and exits
// the process if it fails, so a `cuda` build runs only where an NVIDIA driver
// works. Enabled needs a device and gorgonia's kernels: set GENQ_CUDA_PTX to
// a folder of gorgonia's "cuda modules/src/*.cu" compiled with `nvcc -ptx`
// for the GPU (.ci/gpu/run.sh makes one), or call RegisterKernels before the
// first graph; otherwise NewMachine returns Err.
//
// # Training
//
// encoder.Fit and t5.Fit clip the gradients to their global norm and take
// AdamW's step on the device (internal/devopt): the parameters, their
// gradients and the two moments live in a CUDA context of the optimizer's
// own for the whole Fit; each training graph hands every gradient to it
// device to device (cuMemcpyPeer) the moment it is computed, the word
// embeddings' gathered rows scattered into their table there, and the
// clipping and AdamW kernels of internal/cuda/kernels run there. What
// still crosses between host and device each step: to the device, the
// batch's inputs (ids, masks, labels; the bi-encoder's word embedding rows,
// which it gathers on the host, B·T·D floats a column), every weight,
// which gorgonia's machine uploads again from its host value at each run,
// and the ids of the gathered rows (8 bytes a token) for the optimizer's
// scatter; to the host, the loss (and MNRL's score matrix), the gradient
// norm (4 bytes) and the updated parameters, once a step (4 bytes a
// parameter), which the next run's upload needs. A checkpoint also reads
// back AdamW's moments, and a resumed run uploads them once. With
// CachedMNRL the forward-only passes read back the batch's embeddings and
// the loss's gradient for them goes back up, as on the CPU path.
//
// # Building it
//
// .ci/gpu/build.sh builds the test binaries, .ci/gpu/run.sh runs them on a
// GPU machine, and scripts/gpu-check.sh does both where Go is installed.
// Two things stand in the way of a plain `go build -tags cuda`, and the
// build scripts work around both without touching go.mod:
//
//   - gorgonia.org/cu v0.9.6 does not compile against CUDA 13's cuda.h:
//     cuCtxCreate (ctx.go, cucontext.go) now takes a CUctxCreateParams,
//     cuMemAdvise and cuMemPrefetchAsync (addressing.go) a CUmemLocation,
//     and cuGraphAddDependencies and cuGraphGetEdges (graph.go) an edge-data
//     argument. Compiled against CUDA 12's or 11.8's headers (Debian's
//     nvidia-cuda-dev), it calls the versioned entry points of that era
//     (cuCtxCreate_v2, cuMemcpyHtoD_v2, ...), which CUDA 13's driver still
//     exports with the same signatures.
//   - gorgonia.org/cu/dnn wraps the cuDNN 8 API, parts of which cuDNN 9
//     removed, and needs cudnn.h, which no package registry serves.
//     gorgonia's CUDA engine only creates a cuDNN handle and genq's graphs
//     use no cuDNN op, so the scripts build against a copy of
//     gorgonia.org/cu whose dnn package is .ci/gpu/nocudnn, an empty
//     stand-in, through a build-only go.mod (-modfile): no cudnn.h and no
//     libcudnn are needed.
//
// # gorgonia v0.9.18 bugs worked around
//
//   - gorgonia creates each engine's cuBLAS handle before its context is
//     current, so cuBLAS would run in the device's primary context,
//     unordered with the machine's own work: NewTapeMachine re-creates it.
//   - The machine reuses the host value of a dead register as the target
//     of later device-to-host copies, so after a run an intermediate node's
//     value may hold another node's numbers; and a reshape on the device
//     aliases its input while the machine frees it separately, so a value
//     read at the end of the run may be gone. A Reader copies each value the
//     moment it is computed into memory the machine never sees, models read
//     values only through it, and the bi-encoder reads its MNRL scores
//     right after they are built.
//   - View ops (internal/nn's fused q/k/v split) copy instead of aliasing
//     their input on the GPU, for the same register reuse.
//
// # What is verified
//
// With the driver, cuBLAS and gorgonia's kernels on an NVIDIA H200 (driver
// 580, CUDA 13.0), built with gorgonia.org/cu v0.9.4 and the real cuDNN:
// package internal/cuda/cucheck (tag cucheck: driver API, two kernels,
// cublasSgemm) and this package's TestGraphOnGPU and TestGradientOnGPU (a
// TapeMachine computing x·w on cuBLAS, tanh(h) ⊙ h with gorgonia's kernels
// and a gradient), all within 2.5e-7 of a float64 CPU reference.
//
// Against .ci/gpu/emu, a CPU emulator of the driver and cuBLAS functions the
// machine calls (it flags driver calls made without the context current and
// device memory used out of bounds), with gorgonia.org/cu v0.9.6 and no
// cuDNN: the same checks, and genq's own fixture tests with their graphs on
// the emulated GPU (.ci/gpu/tests.sh: T5 encoder states, logits, loss and
// every gradient, greedy and beam sequences, scores; bi-encoder token and
// sentence embeddings, MNRL loss, scores and every gradient, one fit step;
// the products against the CPU kernels), all passing with the CPU tests'
// tolerances. The emulator checks the control flow and the index
// arithmetic, not the real libraries: scripts/gpu-check.sh runs the same
// tests and the P1-P3 benchmarks on a GPU.
package cuda
