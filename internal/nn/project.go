package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is what Project applies to its product.
type Activation int

const (
	// ActNone applies nothing.
	ActNone Activation = iota
	// ActReLU applies max(0, x).
	ActReLU
	// ActGatedGELUNew takes two equally wide products a|b and gives
	// gelu_new(a) ⊙ b (T5DenseGatedActDense).
	ActGatedGELUNew
)

// ProjectConfig tunes Project.
type ProjectConfig struct {
	Alpha float64    // multiplies the product (0 means 1)
	Act   Activation // applied to the product
	Pre   *Buffer    // where ActGatedGELUNew keeps the two products (nil: the op's own)
}

// Project is the fused linear layer of forward-only graphs: x [N, in] times
// the transposed weights W₁ᵀ | W₂ᵀ | … (W_i [out_i, in], PyTorch's (out,
// in) layout, as Linear takes them), side by side in one [N, Σ out_i]
// output (the q, k and v projections of a self-attention in one node),
// times Alpha; then, with
// residual (not nil, [N, Σ out_i]), the product is added onto it (a
// sublayer's skip connection), or cfg.Act is applied (ActGatedGELUNew
// halves the width). It has no gradient: training graphs build the same
// arithmetic from Linear-like products and differentiable ops.
func Project(x *G.Node, weights []*G.Node, residual *G.Node, cfg ProjectConfig, opts ...Option) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 2 || len(weights) == 0 {
		return nil, fmt.Errorf("nn: Project needs a [N, in] input and at least one weight, got %v and %d", xs, len(weights))
	}
	widths, total := make([]int, len(weights)), 0
	for i, w := range weights {
		ws := w.Shape()
		if len(ws) != 2 || ws[1] != xs[1] {
			return nil, fmt.Errorf("nn: Project of %v: weight %d is %v, want [out, %d]", xs, i, ws, xs[1])
		}
		widths[i] = ws[0]
		total += ws[0]
	}
	out := total
	if cfg.Act == ActGatedGELUNew {
		if len(weights) != 2 || widths[0] != widths[1] || residual != nil {
			return nil, fmt.Errorf("nn: Project: gating needs two weights of equal width and no residual, got %v", widths)
		}
		out /= 2
	}
	in := append(G.Nodes{x}, weights...)
	if residual != nil {
		if !residual.Shape().Eq(tensor.Shape{xs[0], total}) || cfg.Act != ActNone {
			return nil, fmt.Errorf("nn: Project: residual %v for a [%d %d] output with activation %d", residual.Shape(), xs[0], total, cfg.Act)
		}
		in = append(in, residual)
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 1
	}
	p := &projection{cfg: cfg, widths: widths, residual: residual != nil}
	o, err := newOp(fmt.Sprintf("Project{%v,%g,%d,%v}", widths, cfg.Alpha, cfg.Act, residual != nil), x.Dtype(),
		tensor.Shape{xs[0], out}, projectKernel[float32](p), projectKernel[float64](p), in...)
	if err != nil {
		return nil, err
	}
	return applyWith(o, opts, in...) // no pullback: not differentiable
}

// projection is the configuration of one Project op.
type projection struct {
	cfg      ProjectConfig
	widths   []int
	residual bool
	pre      any // the op's own buffer for the gated products ([]T)
}

func projectKernel[T float](p *projection) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, y := data[T](in[0]), data[T](out)
		rows, k := in[0].Shape()[0], in[0].Shape()[1]
		total := 0
		for _, w := range p.widths {
			total += w
		}
		dst, beta := y, T(0)
		switch {
		case p.cfg.Act == ActGatedGELUNew:
			dst = scratchOf[T](p, rows*total)
		case p.residual:
			copy(dst, data[T](in[len(in)-1]))
			beta = 1
		}
		col := 0
		for i, w := range p.widths {
			kernel.Gemm(false, true, rows, w, k, T(p.cfg.Alpha), x, k, data[T](in[1+i]), k, beta, dst[col:], total)
			col += w
		}
		switch p.cfg.Act {
		case ActReLU:
			kernel.ReLU(y, y)
		case ActGatedGELUNew:
			half := p.widths[0]
			kernel.ParallelFor(rows, kernel.RowGrain(total), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					kernel.GatedGELUNew(y[r*half:(r+1)*half], dst[r*total:r*total+half], dst[r*total+half:(r+1)*total])
				}
			})
		}
		return nil
	}
}

// scratchOf returns n values for the gated products: from cfg.Pre's
// storage, or the op's own.
func scratchOf[T float](p *projection, n int) []T {
	if b := p.cfg.Pre; b != nil && b.alloc != nil {
		if s, ok := any(b.alloc(n)).([]T); ok {
			return s
		}
	}
	s, _ := p.pre.([]T)
	if cap(s) < n {
		s = make([]T, n)
		p.pre = s
	}
	return s[:n]
}
