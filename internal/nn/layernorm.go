package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalizes x [..., D] over its last axis and applies the affine
// weight [D] and bias [D]: (x - mean) / sqrt(var + eps) · weight + bias, with
// the biased variance, as torch.nn.LayerNorm. BERT and DistilBERT use
// eps = 1e-12 (config.json's layer_norm_eps for BERT).
func LayerNorm(x, weight, bias *G.Node, eps float64, opts ...Option) (*G.Node, error) {
	return layerNorm(x, nil, weight, bias, eps, opts)
}

// AddLayerNorm computes LayerNorm(x + res, weight, bias, eps) as one op: the
// residual connection of a post-LN transformer block and its normalization,
// without materializing the sum as a separate node. x and res have one shape;
// both get the gradient of the sum.
func AddLayerNorm(x, res, weight, bias *G.Node, eps float64, opts ...Option) (*G.Node, error) {
	if !x.Shape().Eq(res.Shape()) {
		return nil, fmt.Errorf("nn: AddLayerNorm needs x and res of one shape, got %v and %v", x.Shape(), res.Shape())
	}
	return layerNorm(x, res, weight, bias, eps, opts)
}

// layerNorm is LayerNorm of x + res (x alone for res nil).
func layerNorm(x, res, weight, bias *G.Node, eps float64, opts []Option) (*G.Node, error) {
	name := fmt.Sprintf("LayerNorm{eps=%g}", eps)
	if res != nil {
		name = "Add" + name
	}
	_, d := rows(x.Shape())
	for _, p := range []*G.Node{weight, bias} {
		if !p.Shape().Eq(tensor.Shape{d}) {
			return nil, fmt.Errorf("nn: %s over %v needs weight and bias of shape [%d], got %v", name, x.Shape(), d, p.Shape())
		}
	}
	in := G.Nodes{x, weight, bias}
	if res != nil {
		in = G.Nodes{x, res, weight, bias}
	}
	o, err := newOp(name, x.Dtype(), shapeOf(x), layerNormKernel[float32](eps), layerNormKernel[float64](eps), in...)
	if err != nil {
		return nil, err
	}
	o.dev = twin{kind: devLayerNorm, eps: eps, res: res != nil}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		x, w := in[0], in[len(in)-2]
		inputs := append(in[:len(in)-1:len(in)-1], grad) // x, [res,] w, dy
		dx, err := gradOp(name+"GradX", shapeOf(x), layerNormGrad[float32](eps, 0), layerNormGrad[float64](eps, 0), o.dev.back(1), inputs...)
		if err != nil {
			return nil, err
		}
		dw, err := gradOp(name+"GradW", shapeOf(w), layerNormGrad[float32](eps, 1), layerNormGrad[float64](eps, 1), o.dev.back(2), inputs...)
		if err != nil {
			return nil, err
		}
		db, err := sumRows(grad)
		if err != nil {
			return nil, err
		}
		if res != nil {
			return G.Nodes{dx, dx, dw, db}, nil
		}
		return G.Nodes{dx, dw, db}, nil
	}
	return applyWith(o, opts, in...)
}

// gradOp adds a backward op (no gradient of its own) computing a kernel of
// children into an output of the given shape, with device twin tw.
func gradOp(name string, shape tensor.Shape, f32, f64 kfunc, tw twin, children ...*G.Node) (*G.Node, error) {
	o, err := newOp(name, children[0].Dtype(), shape, f32, f64, children...)
	if err != nil {
		return nil, err
	}
	return apply(withTwin(o, tw), children...)
}

// layerNormKernel runs kernel.LayerNorm on inputs x, [res,] w, b.
func layerNormKernel[T float](eps float64) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		var res []T
		if len(in) == 4 {
			res = data[T](in[1])
		}
		kernel.LayerNorm(data[T](out), data[T](in[0]), res, data[T](in[len(in)-2]), data[T](in[len(in)-1]), eps)
		return nil
	}
}

// layerNormGrad runs kernel.LayerNormBackward on inputs x, [res,] w, dy for
// the gradient of x (which 0) or of w (which 1).
func layerNormGrad[T float](eps float64, which int) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		var res []T
		if len(in) == 4 {
			res = data[T](in[1])
		}
		x, w, dy := data[T](in[0]), data[T](in[len(in)-2]), data[T](in[len(in)-1])
		if which == 0 {
			kernel.LayerNormBackward(data[T](out), nil, nil, x, res, w, dy, eps)
		} else {
			kernel.LayerNormBackward(nil, data[T](out), nil, x, res, w, dy, eps)
		}
		return nil
	}
}

// RMSNorm is T5LayerNorm over the last axis of x [..., D] with weight [D]:
// weight ⊙ x / sqrt(mean(x²) + eps), no mean subtraction and no bias.
func RMSNorm(x, weight *G.Node, eps float64, opts ...Option) (*G.Node, error) {
	_, d := rows(x.Shape())
	if !weight.Shape().Eq(tensor.Shape{d}) {
		return nil, fmt.Errorf("nn: RMSNorm over %v needs a weight of shape [%d], got %v", x.Shape(), d, weight.Shape())
	}
	name := fmt.Sprintf("RMSNorm{eps=%g}", eps)
	o, err := newOp(name, x.Dtype(), shapeOf(x), rmsNormKernel[float32](eps, -1), rmsNormKernel[float64](eps, -1), x, weight)
	if err != nil {
		return nil, err
	}
	o.dev = twin{kind: devRMSNorm, eps: eps}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		dx, err := gradOp(name+"GradX", shapeOf(in[0]), rmsNormKernel[float32](eps, 0), rmsNormKernel[float64](eps, 0), o.dev.back(1), in[0], in[1], grad)
		if err != nil {
			return nil, err
		}
		dw, err := gradOp(name+"GradW", shapeOf(in[1]), rmsNormKernel[float32](eps, 1), rmsNormKernel[float64](eps, 1), o.dev.back(2), in[0], in[1], grad)
		return G.Nodes{dx, dw}, err
	}
	return applyWith(o, opts, x, weight)
}

// rmsNormKernel runs kernel.RMSNorm on x, w (which -1) or
// kernel.RMSNormBackward on x, w, dy for the gradient of x (which 0) or w
// (which 1).
func rmsNormKernel[T float](eps float64, which int) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, w, y := data[T](in[0]), data[T](in[1]), data[T](out)
		switch which {
		case -1:
			kernel.RMSNorm(y, x, w, eps)
		case 0:
			kernel.RMSNormBackward(y, nil, x, w, data[T](in[2]), eps)
		default:
			kernel.RMSNormBackward(nil, y, x, w, data[T](in[2]), eps)
		}
		return nil
	}
}

// sumRows sums x [..., D] over every axis but the last: the gradient of a
// bias added to each row.
func sumRows(x *G.Node) (*G.Node, error) {
	_, d := rows(x.Shape())
	return gradOp("SumRows", tensor.Shape{d}, unary(kernel.SumRows[float32]), unary(kernel.SumRows[float64]), dev(devSumRows), x)
}
