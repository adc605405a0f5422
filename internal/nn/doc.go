// Package nn holds the gorgonia building blocks the BERT and DistilBERT
// encoders share: exact-erf GELU, LayerNorm, linear layers over Hugging Face
// (out, in) weights, embedding lookup, multi-head scaled dot-product attention
// with a padding mask, dropout, masked pooling and L2 normalization.
//
// Every block is a gorgonia Op with a symbolic gradient (gorgonia.SDOp), so a
// graph built from them can be differentiated with gorgonia.Grad and run on a
// TapeMachine. Forward and backward passes are written once, generic over
// float32 (what models use) and float64 (what the finite-difference gradient
// checks use); float32 matrix products run on internal/gemm's kernels. Each
// op reuses its output tensor from run to run, and the element-wise and
// row-wise kernels split their work across GOMAXPROCS goroutines.
//
// For speed, SelfAttention takes the q/k/v projections fused into one
// [N, 3·D] input (one Linear over the three weight matrices stacked) and
// reads the heads in place; AddLayerNorm folds a residual addition into the
// layer norm; LinearPacked keeps an inference graph's weights packed for
// the matrix kernel between runs (Weights reports when they change). On
// amd64 with AVX2 and FMA, GELU, its gradient and the softmax exponentials
// of float32 tensors run four lanes at a time in assembly
// (approx_amd64.s), with the float64 polynomials of the scalar code.
//
// Shapes are static, as everywhere in gorgonia: an op is built for the shapes
// of its inputs, and a new batch shape needs a new graph.
package nn
