package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalizes x [..., D] over its last axis and applies the affine
// weight [D] and bias [D]: (x - mean) / sqrt(var + eps) · weight + bias, with
// the biased variance, as torch.nn.LayerNorm. BERT and DistilBERT use
// eps = 1e-12 (config.json's layer_norm_eps for BERT).
func LayerNorm(x, weight, bias *G.Node, eps float64) (*G.Node, error) {
	_, d := rows(x.Shape())
	for _, p := range []*G.Node{weight, bias} {
		if !p.Shape().Eq(tensor.Shape{d}) {
			return nil, fmt.Errorf("nn: LayerNorm over %v needs weight and bias of shape [%d], got %v", x.Shape(), d, p.Shape())
		}
	}
	fwd, err := pick(x.Dtype(), layerNormForward[float32](eps), layerNormForward[float64](eps))
	if err != nil {
		return nil, err
	}
	o := &op{name: fmt.Sprintf("LayerNorm{eps=%g}", eps), in: typesOf(x, weight, bias), shape: shapeOf(x),
		dtype: x.Dtype(), fwd: fwd, diff: []bool{true, true, true}, back: layerNormBack(eps)}
	return apply(o, x, weight, bias)
}

func layerNormBack(eps float64) pullback {
	return func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		x, w := in[0], in[1]
		dt := x.Dtype()
		fdx, err := pick(dt, layerNormGradX[float32](eps), layerNormGradX[float64](eps))
		if err != nil {
			return nil, err
		}
		fdw, _ := pick(dt, layerNormGradW[float32](eps), layerNormGradW[float64](eps))
		dx, err := apply(&op{name: fmt.Sprintf("LayerNormGradX{eps=%g}", eps), in: typesOf(x, w, grad),
			shape: shapeOf(x), dtype: dt, fwd: fdx}, x, w, grad)
		if err != nil {
			return nil, err
		}
		dw, err := apply(&op{name: fmt.Sprintf("LayerNormGradW{eps=%g}", eps), in: typesOf(x, grad),
			shape: shapeOf(w), dtype: dt, fwd: fdw}, x, grad)
		if err != nil {
			return nil, err
		}
		db, err := sumRows(grad)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx, dw, db}, nil
	}
}

// moments returns the mean and 1/sqrt(var + eps) of one row.
func moments[T float](row []T, eps float64) (mean, rstd float64) {
	for _, v := range row {
		mean += float64(v)
	}
	mean /= float64(len(row))
	var v2 float64
	for _, v := range row {
		d := float64(v) - mean
		v2 += d * d
	}
	return mean, 1 / math.Sqrt(v2/float64(len(row))+eps)
}

func layerNormForward[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, w, b, y := data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](out)
		d := len(w)
		parallelFor(len(x)/d, rowGrain(d), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row, dst := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
				mean, rstd := moments(row, eps)
				for i, v := range row {
					dst[i] = T((float64(v)-mean)*rstd*float64(w[i]) + float64(b[i]))
				}
			}
		})
		return nil
	}
}

// layerNormGradX computes dx = rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) with ĝ = g·w.
func layerNormGradX[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, w, g, dx := data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](out)
		d := len(w)
		n := float64(d)
		parallelFor(len(x)/d, rowGrain(d), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row, gr, dst := x[r*d:(r+1)*d], g[r*d:(r+1)*d], dx[r*d:(r+1)*d]
				mean, rstd := moments(row, eps)
				var sg, sgx float64
				for i, v := range row {
					gh := float64(gr[i]) * float64(w[i])
					sg += gh
					sgx += gh * (float64(v) - mean) * rstd
				}
				sg /= n
				sgx /= n
				for i, v := range row {
					xh := (float64(v) - mean) * rstd
					gh := float64(gr[i]) * float64(w[i])
					dst[i] = T(rstd * (gh - sg - xh*sgx))
				}
			}
		})
		return nil
	}
}

// layerNormGradW computes dw = Σ_rows g·x̂. The row moments are computed in
// parallel over rows, the sums in parallel over columns, each column summed
// in row order.
func layerNormGradW[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, g, dw := data[T](in[0]), data[T](in[1]), data[T](out)
		d := len(dw)
		nr := len(x) / d
		mom := make([]float64, 2*nr)
		parallelFor(nr, rowGrain(d), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				mom[2*r], mom[2*r+1] = moments(x[r*d:(r+1)*d], eps)
			}
		})
		parallelFor(d, 64, func(lo, hi int) {
			acc := make([]float64, hi-lo)
			for r := 0; r < nr; r++ {
				mean, rstd := mom[2*r], mom[2*r+1]
				row, gr := x[r*d+lo:r*d+hi], g[r*d+lo:r*d+hi]
				for i, v := range row {
					acc[i] += float64(gr[i]) * (float64(v) - mean) * rstd
				}
			}
			for i, v := range acc {
				dw[lo+i] = T(v)
			}
		})
		return nil
	}
}

// rowGrain is the fewest rows of length d worth handing to another goroutine.
func rowGrain(d int) int { return max(1, elemGrain/max(d, 1)) }

// sumRows sums x [..., D] over every axis but the last: the gradient of a
// bias added to each row.
func sumRows(x *G.Node) (*G.Node, error) {
	_, d := rows(x.Shape())
	fwd, err := pick(x.Dtype(), sumRowsKernel[float32], sumRowsKernel[float64])
	if err != nil {
		return nil, err
	}
	return apply(&op{name: "SumRows", in: typesOf(x), shape: tensor.Shape{d}, dtype: x.Dtype(), fwd: fwd}, x)
}

func sumRowsKernel[T float](in []*tensor.Dense, out *tensor.Dense) error {
	x, s := data[T](in[0]), data[T](out)
	d := len(s)
	nr := len(x) / d
	parallelFor(d, 64, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for r := 0; r < nr; r++ {
			for i, v := range x[r*d+lo : r*d+hi] {
				acc[i] += float64(v)
			}
		}
		for i, v := range acc {
			s[lo+i] = T(v)
		}
	})
	return nil
}
