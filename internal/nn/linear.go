package nn

import (
	"fmt"
	"github.com/genq-go/genq/internal/kernel"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear computes x·weightᵀ + bias over the last axis of x [..., in], with
// weight in PyTorch's (out, in) layout, as stored on the hub, and bias [out]
// (nil for none). The result has shape [..., out].
func Linear(x, weight, bias *G.Node) (*G.Node, error) {
	shape, err := linearShape(x, weight, bias)
	if err != nil {
		return nil, err
	}
	fwd, err := pick(x.Dtype(), linearForward[float32], linearForward[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "Linear", shape: shape, dtype: x.Dtype(), fwd: fwd, back: linearBack, gemm: &product{transB: true, bias: bias != nil}}
	if bias == nil {
		o.in, o.diff = typesOf(x, weight), []bool{true, true}
		return apply(o, x, weight)
	}
	o.in, o.diff = typesOf(x, weight, bias), []bool{true, true, true}
	return apply(o, x, weight, bias)
}

// linearShape checks the shapes of a linear layer's operands and returns
// the shape of its output.
func linearShape(x, weight, bias *G.Node) (tensor.Shape, error) {
	_, in := rows(x.Shape())
	ws := weight.Shape()
	if len(ws) != 2 || ws[1] != in {
		return nil, fmt.Errorf("nn: Linear over %v needs a weight of shape [out %d], got %v", x.Shape(), in, ws)
	}
	out := ws[0]
	if bias != nil && !bias.Shape().Eq(tensor.Shape{out}) {
		return nil, fmt.Errorf("nn: Linear with weight %v needs a bias of shape [%d], got %v", ws, out, bias.Shape())
	}
	shape := shapeOf(x)
	shape[len(shape)-1] = out
	return shape, nil
}

func linearBack(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	x, w := in[0], in[1]
	dt := x.Dtype()
	fdx, err := pick(dt, linearGradX[float32], linearGradX[float64])
	if err != nil {
		return nil, err
	}
	fdw, _ := pick(dt, linearGradW[float32], linearGradW[float64])
	dx, err := apply(&op{name: "LinearGradX", in: typesOf(grad, w), shape: shapeOf(x), dtype: dt, fwd: fdx, gemm: &product{}}, grad, w)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&op{name: "LinearGradW", in: typesOf(grad, x), shape: shapeOf(w), dtype: dt, fwd: fdw, gemm: &product{transA: true}}, grad, x)
	if err != nil {
		return nil, err
	}
	if len(in) == 2 {
		return G.Nodes{dx, dw}, nil
	}
	db, err := sumRows(grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func linearForward[T float](in []*tensor.Dense, out *tensor.Dense) error {
	x, w, y := data[T](in[0]), data[T](in[1]), data[T](out)
	o, k := in[1].Shape()[0], in[1].Shape()[1]
	n := len(x) / k
	kernel.Gemm(false, true, n, o, k, 1, x, k, w, k, 0, y, o)
	if len(in) == 3 {
		addBias(y, data[T](in[2]), n, o)
	}
	return nil
}

// addBias adds b [o] to each of the n rows of y [n, o].
func addBias[T float](y, b []T, n, o int) {
	kernel.ParallelFor(n, kernel.RowGrain(o), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := y[r*o : (r+1)*o]
			for i := range row {
				row[i] += b[i]
			}
		}
	})
}

// linearGradX computes dx = g·w.
func linearGradX[T float](in []*tensor.Dense, out *tensor.Dense) error {
	g, w, dx := data[T](in[0]), data[T](in[1]), data[T](out)
	o, k := in[1].Shape()[0], in[1].Shape()[1]
	kernel.Gemm(false, false, len(g)/o, k, o, 1, g, o, w, k, 0, dx, k)
	return nil
}

// linearGradW computes dw = gᵀ·x.
func linearGradW[T float](in []*tensor.Dense, out *tensor.Dense) error {
	g, x, dw := data[T](in[0]), data[T](in[1]), data[T](out)
	o, k := out.Shape()[0], out.Shape()[1]
	kernel.Gemm(true, false, o, k, len(g)/o, 1, g, o, x, k, 0, dw, k)
	return nil
}
