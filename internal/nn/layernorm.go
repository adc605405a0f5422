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

// moments returns the mean and 1/sqrt(var + eps) of one row. The sums run
// in four interleaved partial sums (independent chains of additions, four
// times the throughput of one), added up at the end.
func moments[T float](row []T, eps float64) (mean, rstd float64) {
	n := len(row)
	var s [4]float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s[0] += float64(row[i])
		s[1] += float64(row[i+1])
		s[2] += float64(row[i+2])
		s[3] += float64(row[i+3])
	}
	for ; i < n; i++ {
		s[0] += float64(row[i])
	}
	mean = (s[0] + s[1] + s[2] + s[3]) / float64(n)
	s = [4]float64{}
	i = 0
	for ; i+4 <= n; i += 4 {
		d0, d1, d2, d3 := float64(row[i])-mean, float64(row[i+1])-mean, float64(row[i+2])-mean, float64(row[i+3])-mean
		s[0] += d0 * d0
		s[1] += d1 * d1
		s[2] += d2 * d2
		s[3] += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(row[i]) - mean
		s[0] += d * d
	}
	return mean, 1 / math.Sqrt((s[0]+s[1]+s[2]+s[3])/float64(n)+eps)
}

// AddLayerNorm computes LayerNorm(x + res, weight, bias, eps) as one op: the
// residual connection of a post-LN transformer block and its normalization,
// without materializing the sum as a separate node. x and res have one shape;
// both get the gradient of the sum.
func AddLayerNorm(x, res, weight, bias *G.Node, eps float64) (*G.Node, error) {
	if !x.Shape().Eq(res.Shape()) {
		return nil, fmt.Errorf("nn: AddLayerNorm needs x and res of one shape, got %v and %v", x.Shape(), res.Shape())
	}
	_, d := rows(x.Shape())
	for _, p := range []*G.Node{weight, bias} {
		if !p.Shape().Eq(tensor.Shape{d}) {
			return nil, fmt.Errorf("nn: AddLayerNorm over %v needs weight and bias of shape [%d], got %v", x.Shape(), d, p.Shape())
		}
	}
	fwd, err := pick(x.Dtype(), addLayerNormForward[float32](eps), addLayerNormForward[float64](eps))
	if err != nil {
		return nil, err
	}
	o := &op{name: fmt.Sprintf("AddLayerNorm{eps=%g}", eps), in: typesOf(x, res, weight, bias), shape: shapeOf(x),
		dtype: x.Dtype(), fwd: fwd, diff: []bool{true, true, true, true}}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		x, res, w := in[0], in[1], in[2]
		dt := x.Dtype()
		fdx, err := pick(dt, addLayerNormGradX[float32](eps), addLayerNormGradX[float64](eps))
		if err != nil {
			return nil, err
		}
		fdw, _ := pick(dt, addLayerNormGradW[float32](eps), addLayerNormGradW[float64](eps))
		dx, err := apply(&op{name: fmt.Sprintf("AddLayerNormGradX{eps=%g}", eps), in: typesOf(x, res, w, grad),
			shape: shapeOf(x), dtype: dt, fwd: fdx}, x, res, w, grad)
		if err != nil {
			return nil, err
		}
		dw, err := apply(&op{name: fmt.Sprintf("AddLayerNormGradW{eps=%g}", eps), in: typesOf(x, res, grad),
			shape: shapeOf(w), dtype: dt, fwd: fdw}, x, res, grad)
		if err != nil {
			return nil, err
		}
		db, err := sumRows(grad)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx, dx, dw, db}, nil
	}
	return apply(o, x, res, weight, bias)
}

// sumRow returns row r (of length d) of x + res, in buf; of x alone when
// res is nil.
func sumRow[T float](x, res []T, r, d int, buf []T) []T {
	if res == nil {
		return x[r*d : (r+1)*d]
	}
	for i, v := range x[r*d : (r+1)*d] {
		buf[i] = v + res[r*d+i]
	}
	return buf
}

func layerNormForward[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normForward(data[T](in[0]), nil, data[T](in[1]), data[T](in[2]), data[T](out), eps)
	}
}

func addLayerNormForward[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normForward(data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](in[3]), data[T](out), eps)
	}
}

// normForward sets y = LayerNorm(x + res) (x alone for res nil).
func normForward[T float](x, res, w, b, y []T, eps float64) error {
	d := len(w)
	parallelFor(len(x)/d, rowGrain(d), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dst := y[r*d : (r+1)*d]
			row := sumRow(x, res, r, d, dst) // the sum goes to dst, then is normalized in place
			mean, rstd := moments(row, eps)
			for i, v := range row {
				dst[i] = T((float64(v)-mean)*rstd*float64(w[i]) + float64(b[i]))
			}
		}
	})
	return nil
}

// layerNormGradX computes dx = rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) with ĝ = g·w.
func layerNormGradX[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normGradX(data[T](in[0]), nil, data[T](in[1]), data[T](in[2]), data[T](out), eps)
	}
}

func addLayerNormGradX[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normGradX(data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](in[3]), data[T](out), eps)
	}
}

// normGradX is layerNormGradX at x + res (x alone for res nil).
func normGradX[T float](x, res, w, g, dx []T, eps float64) error {
	d := len(w)
	n := float64(d)
	parallelFor(len(x)/d, rowGrain(d), func(lo, hi int) {
		var buf []T
		if res != nil {
			buf = make([]T, d)
		}
		for r := lo; r < hi; r++ {
			row, gr, dst := sumRow(x, res, r, d, buf), g[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			mean, rstd := moments(row, eps)
			// Σ ĝ and Σ ĝ·x̂, in two partial sums each (see moments)
			var sg, sgx [2]float64
			i := 0
			for ; i+2 <= d; i += 2 {
				g0, g1 := float64(gr[i])*float64(w[i]), float64(gr[i+1])*float64(w[i+1])
				sg[0] += g0
				sg[1] += g1
				sgx[0] += g0 * (float64(row[i]) - mean) * rstd
				sgx[1] += g1 * (float64(row[i+1]) - mean) * rstd
			}
			if i < d {
				gh := float64(gr[i]) * float64(w[i])
				sg[0] += gh
				sgx[0] += gh * (float64(row[i]) - mean) * rstd
			}
			mg, mgx := (sg[0]+sg[1])/n, (sgx[0]+sgx[1])/n
			for i, v := range row {
				xh := (float64(v) - mean) * rstd
				gh := float64(gr[i]) * float64(w[i])
				dst[i] = T(rstd * (gh - mg - xh*mgx))
			}
		}
	})
	return nil
}

// layerNormGradW computes dw = Σ_rows g·x̂. The row moments are computed in
// parallel over rows, the sums in parallel over columns, each column summed
// in row order.
func layerNormGradW[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normGradW(data[T](in[0]), nil, data[T](in[1]), data[T](out), eps)
	}
}

func addLayerNormGradW[T float](eps float64) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		return normGradW(data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](out), eps)
	}
}

// normGradW is layerNormGradW at x + res (x alone for res nil).
func normGradW[T float](x, res, g, dw []T, eps float64) error {
	d := len(dw)
	nr := len(x) / d
	mom := make([]float64, 2*nr)
	parallelFor(nr, rowGrain(d), func(lo, hi int) {
		var buf []T
		if res != nil {
			buf = make([]T, d)
		}
		for r := lo; r < hi; r++ {
			mom[2*r], mom[2*r+1] = moments(sumRow(x, res, r, d, buf), eps)
		}
	})
	parallelFor(d, 64, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for r := 0; r < nr; r++ {
			mean, rstd := mom[2*r], mom[2*r+1]
			row, gr := x[r*d+lo:r*d+hi], g[r*d+lo:r*d+hi]
			if res != nil {
				rr := res[r*d+lo : r*d+hi]
				for i, v := range row {
					acc[i] += float64(gr[i]) * (float64(v+rr[i]) - mean) * rstd
				}
				continue
			}
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
