package nn

import (
	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
)

// GELU applies the exact Gaussian error linear unit element-wise:
// x·Φ(x) = x/2·(1 + erf(x/√2)), what PyTorch's nn.GELU() and Hugging Face's
// "gelu" activation compute (not the tanh approximation "gelu_new").
func GELU(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("GELU", devGELU, x, unary(kernel.GELU[float32]), unary(kernel.GELU[float64]),
		binary(kernel.GELUBackward[float32]), binary(kernel.GELUBackward[float64]), false, opts)
}

// GELUNew applies gelu_new, the tanh approximation of GELU that T5 v1.1
// uses: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func GELUNew(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("GELUNew", devGELUNew, x, unary(kernel.GELUNew[float32]), unary(kernel.GELUNew[float64]),
		binary(kernel.GELUNewBackward[float32]), binary(kernel.GELUNewBackward[float64]), false, opts)
}

// ReLU applies max(0, x) element-wise (NaN stays NaN), as torch.relu.
func ReLU(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("ReLU", devReLU, x, unary(kernel.ReLU[float32]), unary(kernel.ReLU[float64]),
		binary(kernel.ReLUBackward[float32]), binary(kernel.ReLUBackward[float64]), false, opts)
}

// Softmax is the softmax over the last axis of x (kernel.SoftmaxRow: float64
// from the row maximum, which is right for T5's unscaled attention logits,
// unlike gorgonia v0.9.18's SoftMax, which takes the maximum from the
// tensor's first element).
func Softmax(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("Softmax", devSoftmax, x, rowwise(kernel.Softmax[float32], nil), rowwise(kernel.Softmax[float64], nil),
		rowwise(nil, kernel.SoftmaxBackward[float32]), rowwise(nil, kernel.SoftmaxBackward[float64]), true, opts)
}

// LogSoftmax is log(softmax(x)) over the last axis of x, computed as x −
// logΣe^x.
func LogSoftmax(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("LogSoftmax", devLogSoftmax, x, rowwise(kernel.LogSoftmax[float32], nil), rowwise(kernel.LogSoftmax[float64], nil),
		rowwise(nil, kernel.LogSoftmaxBackward[float32]), rowwise(nil, kernel.LogSoftmaxBackward[float64]), true, opts)
}
