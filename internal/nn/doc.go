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
// Shapes are static, as everywhere in gorgonia: an op is built for the shapes
// of its inputs, and a new batch shape needs a new graph.
package nn
