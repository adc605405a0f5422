package nn

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Stack concatenates parts along their first axis, as the fused q/k/v
// projection of a differentiable graph does with the three weight
// matrices. whole is a node of the concatenation's shape: when the parts'
// values lie in order in whole's memory (a model that keeps its q, k and v
// weights as views of one fused tensor), the result is whole's value itself,
// with nothing copied; otherwise the parts are copied into a buffer of the
// op's own. Each part's gradient is its rows of the result's gradient, a
// view; whole gets none.
func Stack(whole *G.Node, parts ...*G.Node) (*G.Node, error) {
	ws := whole.Shape()
	if len(parts) == 0 || len(ws) == 0 {
		return nil, fmt.Errorf("nn: Stack needs parts and a whole of at least one axis, got %d parts of %v", len(parts), ws)
	}
	rows := 0
	for i, p := range parts {
		ps := p.Shape()
		if len(ps) != len(ws) || !ps[1:].Eq(ws[1:]) || p.Dtype() != whole.Dtype() {
			return nil, fmt.Errorf("nn: Stack: part %d is %v %v, want %v [n %v]", i, p.Dtype(), ps, whole.Dtype(), ws[1:])
		}
		rows += ps[0]
	}
	if rows != ws[0] {
		return nil, fmt.Errorf("nn: Stack: parts of %d rows in all for a whole of %v", rows, ws)
	}
	var buf *tensor.Dense // the copy, when the parts are not views of whole
	o := &op{name: fmt.Sprintf("Stack{%d}", len(parts)), in: typesOf(append(G.Nodes{whole}, parts...)...),
		shape: ws.Clone(), dtype: whole.Dtype(), diff: append([]bool{false}, slices.Repeat([]bool{true}, len(parts))...),
		dev: dev(devStack)}
	o.view = func(in []*tensor.Dense) (*tensor.Dense, error) {
		if buf == nil {
			buf = tensor.New(tensor.Of(whole.Dtype()), tensor.WithShape(ws.Clone()...))
		}
		switch whole.Dtype() {
		case tensor.Float32:
			return stack[float32](in[0], in[1:], buf), nil
		case tensor.Float64:
			return stack[float64](in[0], in[1:], buf), nil
		}
		return nil, fmt.Errorf("dtype %v is not supported (want float32 or float64)", whole.Dtype())
	}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		out := make(G.Nodes, len(in))
		off := 0
		for i, p := range in[1:] {
			var err error
			if out[1+i], err = part(grad, off, shapeOf(p)); err != nil {
				return nil, fmt.Errorf("nn: Stack gradient: %w", err)
			}
			off += p.Shape().TotalSize()
		}
		return out, nil
	}
	return apply(o, append(G.Nodes{whole}, parts...)...)
}

// stack returns whole when the values of parts lie in order in its memory,
// covering it, and else copies them into buf and returns buf.
func stack[T float](whole *tensor.Dense, parts []*tensor.Dense, buf *tensor.Dense) *tensor.Dense {
	w := data[T](whole)
	off := 0
	for _, p := range parts {
		d := data[T](p)
		if len(d) == 0 || off+len(d) > len(w) || &d[0] != &w[off] {
			break
		}
		off += len(d)
	}
	if off == len(w) {
		return whole
	}
	b := data[T](buf)
	off = 0
	for _, p := range parts {
		off += copy(b[off:], data[T](p))
	}
	return buf
}
