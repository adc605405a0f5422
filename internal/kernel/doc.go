// Package kernel holds genq's numerical kernels, each written once with its
// backward pass: row softmax and log-softmax, RMS norm (T5LayerNorm) and
// layer norm, ReLU, exact-erf GELU and gelu_new, embedding gather and
// scatter-add, cross-entropy, L2 normalization, multi-head attention with an
// additive bias, the fast exponential, parallel-for and a bounded top-k heap.
//
// Kernels work on flat row-major slices and are generic over float32 (what
// models run) and float64 (what the finite-difference gradient checks run);
// float32 matrix products go to internal/gemm, float64 ones to gonum. The
// package imports no gorgonia, so plain-Go packages (sampling, search) may
// use it; internal/nn wraps every kernel as a gorgonia Op.
//
// Conventions: a "rows" kernel treats a slice as rows of a given width (the
// last axis); dst may alias the input where a doc comment says so; a
// Backward kernel takes the forward inputs (and, where cheaper, its output)
// and the output gradient dy and writes (never accumulates) the input
// gradients unless its doc says it adds. Kernels split large work over
// GOMAXPROCS goroutines (ParallelFor, ForEach); results never depend on the
// number of goroutines.
//
// On amd64 with AVX2 and FMA, exact GELU, its gradient and the softmax
// exponentials of float32 slices run four lanes at a time in assembly
// (approx_amd64.s), with the float64 polynomials of the scalar code.
package kernel

// Float is the element type of the kernels.
type Float interface{ ~float32 | ~float64 }
