// Package nn wraps the kernels of internal/kernel as gorgonia operations:
// one Op type (op.go) carries a kernel's name (which hashes it), its input
// types, output shape and dtype, the forward kernel, and a pullback that
// builds the ops of its gradient; every function of this package adds one.
// The blocks: exact-erf GELU, gelu_new, ReLU, softmax and log-softmax,
// LayerNorm (and AddLayerNorm), T5's RMS norm, linear layers over Hugging
// Face (out, in) weights and matrix products (MatMul), embedding lookup,
// cross-entropy, T5's relative position bias, multi-head attention reading
// q/k/v in place from fused projections (Attend, Attention,
// SelfAttention), dropout, masked pooling and L2 normalization; for
// forward-only graphs the fused projection of T5 (Project).
//
// Every block has a symbolic gradient (gorgonia.SDOp), so a graph built from
// them can be differentiated with gorgonia.Grad and run on a TapeMachine;
// the kernels are generic over float32 (what models use) and float64 (what
// the finite-difference gradient checks use). Each op reuses its output
// tensor from run to run, or writes into a Buffer it shares with other ops
// of a forward-only graph (Into, ShareOutput, BufferFunc).
//
// Matrix products run on internal/gemm directly, whatever BLAS gorgonia was
// given: genq never changes gorgonia's process-wide BLAS (UseBLAS is the
// explicit call for a program that wants gemm's Sgemm behind gorgonia's
// own MatMul). LinearPacked keeps an inference graph's weights packed for
// the matrix kernel between runs (Weights reports when they change).
//
// Each op also records its device twin (twin.go): which kernel of
// internal/cuda/kernels computes it, with its arguments. Builds without the
// `cuda` tag never read it; a `cuda` build whose graphs run on a GPU places
// every float32 op with a twin or a matrix product on the device as a
// gorgonia CUDADoer (device_cuda.go, twin_cuda.go), held to the CPU op by
// TestDeviceOps (see internal/cuda's doc for what runs where).
//
// Shapes are static, as everywhere in gorgonia: an op is built for the shapes
// of its inputs, and a new batch shape needs a new graph.
package nn
