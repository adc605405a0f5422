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
// every op that has a CUDA implementation (a gorgonia.CUDADoer) on device 0
// and copies values between host and device where a CPU op feeds a GPU op
// or back. genq then runs its graphs on the GPU as follows:
//
//   - Every float32 op of internal/nn runs on the device: matrix products
//     (Linear, its gradients, MatMul, batched too) on cuBLAS, and every
//     other op family (RMS and layer norm, the GELU variants and ReLU,
//     softmax and log-softmax, embedding gather and scatter-add, T5's
//     position bias, attention over fused q/k/v layouts with its bias and
//     dropout, cross-entropy, pooling, L2 normalization, dropout, and the
//     views Part and Stack as device copies) as its device twin, a kernel
//     of internal/cuda/kernels launched through one kernels.Launcher per
//     engine. Each op records which twin it needs (internal/nn's twin, the
//     same in every build); only the `cuda` build launches it, reading and
//     writing the device memory the machine preallocates, so nothing comes
//     back to the host between two of them. Dropout masks are drawn on the
//     host, as on the CPU, and copied to the device, so a seed gives the
//     same masks on both. Token ids, labels and buckets are Go ints (int64)
//     on the device; a scalar (a loss, its gradient) is one float32 of
//     device memory, never read on the host.
//   - Gorgonia's own elementwise ops (the encoder's additive mask, the sums
//     of embeddings and of gradients, T5's residuals and scalings) run as
//     gorgonia's PTX kernels. So the bi-encoder's MNRL training graph
//     (inputs, embeddings, layers, pooling, normalization, scores,
//     cross-entropy, and the whole backward pass) and T5's training-style
//     graphs (encoder, teacher-forced seq2seq, loss and gradients) run
//     wholly on the device; the tests TestTrainGraphOnDevice of both
//     packages check that no op of them is left on the CPU. On the GPU the
//     loss package scores MNRL with nn.MatMul and takes nn.CrossEntropy of
//     the scores, where the default build uses gorgonia's BatchedMatMul,
//     LogSoftMax and Sum, which have no device implementation.
//     With hard negatives MNRL concatenates the candidates with nn.Concat,
//     and CachedMNRL's mini-batch graphs take their surrogate loss Σ
//     embeddings ⊙ cached gradient as a product of nn.Reshape'd rows, so
//     that those graphs run wholly on the device too; loss's
//     EmbeddingGradients runs on NewMachine.
//   - Still on the CPU (gorgonia copies around them): float64 ops, the
//     fused inference ops Project and LinearPacked (which a `cuda` build's
//     models do not use), and gorgonia ops without a CUDA implementation:
//     Concat along other axes (several pooling modes at once), Sum, Slice
//     and Square (MarginMSE's loss). Fit's optimizer (clipping, AdamW)
//     runs on the device, fed the gradients there (see Training below).
//   - t5's cached decoder step of generation runs on the device outside
//     gorgonia's machine (see t5's step_cuda.go).
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
// the loss's gradient for them goes back up, as on the CPU path. The device
// optimizer is held to encoder/optim by internal/devopt's tests, and Fit
// with it to Fit with the host optimizer and to the fit fixtures by the
// encoder's and t5's tests on the emulator (.ci/gpu/tests.sh).
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
//   - View ops (internal/nn's Part and Stack) copy on the device instead of
//     aliasing their input, for the same register reuse.
//   - The machine lets an elementwise op (a sum of two gradients, say) write
//     in place into the device memory of its first input, and then copies
//     the node's value to the host from where the input was, before the op
//     has run: a gradient summed over the two towers of the bi-encoder came
//     back as one tower's. ReadBack therefore first copies a node computed
//     on the device into device memory of its own (an op that runs after
//     the node), and reads that copy.
//   - The machine runs gorgonia.org/cu's batch of queued CUDA calls
//     (BatchedContext.DoWork) from two goroutines at once: the engine's
//     worker, when 63 calls wait, and the machine's program, at each flush.
//     Once a graph keeps that many calls queued (one whose ops all run on
//     the device), the two corrupt the batch. The build scripts patch their
//     copy of gorgonia.org/cu to hold a lock in DoWork (.ci/gpu/prepare.sh);
//     internal/nn's device ops run the batch before their own work, as the
//     machine's flush does.
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
// cuDNN, genq's own kernels (internal/cuda/kernels) compiled for the CPU
// from the same source: the same checks, and genq's own fixture tests with
// their graphs on the emulated GPU (.ci/gpu/tests.sh: T5 encoder states,
// logits, loss and every gradient, greedy and beam sequences, scores;
// bi-encoder token and sentence embeddings, MNRL loss, scores and every
// gradient, one fit step; CachedMNRL's and MarginMSE's gradients and fit
// step; cross-encoder scores; every op family of internal/nn, forward and
// backward, against its CPU op; the training graphs wholly on the device),
// all passing with the CPU tests' tolerances. The emulator checks the control flow and the index
// arithmetic, not the real libraries: scripts/gpu-check.sh runs the same
// tests and the P1-P3 benchmarks on a GPU.
package cuda
