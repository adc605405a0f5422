package nn

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GELU applies the exact Gaussian error linear unit element-wise:
// x·Φ(x) = x/2·(1 + erf(x/√2)), what PyTorch's nn.GELU() and Hugging Face's
// "gelu" activation compute (not the tanh approximation "gelu_new").
func GELU(x *G.Node) (*G.Node, error) {
	fwd, err := pick(x.Dtype(), geluForward[float32], geluForward[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "GELU", in: typesOf(x), shape: shapeOf(x), dtype: x.Dtype(), fwd: fwd,
		diff: []bool{true}, back: geluBack}
	return apply(o, x)
}

func geluBack(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	x := in[0]
	fwd, err := pick(x.Dtype(), geluGrad[float32], geluGrad[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "GELUGrad", in: typesOf(x, grad), shape: shapeOf(x), dtype: x.Dtype(), fwd: fwd}
	dx, err := apply(o, x, grad)
	return G.Nodes{dx}, err
}

func geluForward[T float](in []*tensor.Dense, out *tensor.Dense) error {
	x, y := data[T](in[0]), data[T](out)
	for i, v := range x {
		f := float64(v)
		y[i] = T(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
	return nil
}

// geluGrad computes g·(Φ(x) + x·φ(x)).
func geluGrad[T float](in []*tensor.Dense, out *tensor.Dense) error {
	x, g, dx := data[T](in[0]), data[T](in[1]), data[T](out)
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	for i, v := range x {
		f := float64(v)
		cdf := 0.5 * (1 + math.Erf(f/math.Sqrt2))
		pdf := invSqrt2Pi * math.Exp(-0.5*f*f)
		dx[i] = T(float64(g[i]) * (cdf + f*pdf))
	}
	return nil
}
