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
	if whole == nil {
		return nil, fmt.Errorf("nn: Stack needs the whole node (use Concat without one)")
	}
	return concat(whole, parts)
}

// Concat concatenates parts, of one dtype and of one shape but for their
// first axis, along their first axis, copying them into a buffer of the
// op's own (on the GPU, device memory): the candidates of a loss with hard
// negatives. Each part's gradient is its rows of the result's gradient, a
// view.
func Concat(parts ...*G.Node) (*G.Node, error) { return concat(nil, parts) }

// concat is Stack of parts with whole (nil: Concat).
func concat(whole *G.Node, parts []*G.Node) (*G.Node, error) {
	name := "Stack"
	if whole == nil {
		name = "Concat"
	}
	if len(parts) == 0 || parts[0].Dims() == 0 {
		return nil, fmt.Errorf("nn: %s needs parts of at least one axis, got %d parts", name, len(parts))
	}
	ps0 := parts[0].Shape()
	dt := parts[0].Dtype()
	rows := 0
	for i, p := range parts {
		ps := p.Shape()
		if len(ps) != len(ps0) || !ps[1:].Eq(ps0[1:]) || p.Dtype() != dt {
			return nil, fmt.Errorf("nn: %s: part %d is %v %v, want %v [n %v]", name, i, p.Dtype(), ps, dt, ps0[1:])
		}
		rows += ps[0]
	}
	ws := append(tensor.Shape{rows}, ps0[1:]...)
	in := append(G.Nodes{}, parts...)
	first := 0 // the input index of the first part
	if whole != nil {
		if !whole.Shape().Eq(ws) || whole.Dtype() != dt {
			return nil, fmt.Errorf("nn: Stack: parts of %v in all for a whole of %v %v", ws, whole.Dtype(), whole.Shape())
		}
		in, first = append(G.Nodes{whole}, parts...), 1
	}
	var buf *tensor.Dense // the copy, when the parts are not views of whole
	o := &op{name: fmt.Sprintf("%s{%d}", name, len(parts)), in: typesOf(in...), shape: ws.Clone(), dtype: dt,
		diff: append(make([]bool, first), slices.Repeat([]bool{true}, len(parts))...),
		dev:  twin{kind: devStack, off: first}}
	o.view = func(in []*tensor.Dense) (*tensor.Dense, error) {
		if buf == nil {
			buf = tensor.New(tensor.Of(dt), tensor.WithShape(ws.Clone()...))
		}
		var w *tensor.Dense
		if first == 1 {
			w = in[0]
		}
		switch dt {
		case tensor.Float32:
			return stack[float32](w, in[first:], buf), nil
		case tensor.Float64:
			return stack[float64](w, in[first:], buf), nil
		}
		return nil, fmt.Errorf("dtype %v is not supported (want float32 or float64)", dt)
	}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		out := make(G.Nodes, len(in))
		off := 0
		for i, p := range in[first:] {
			var err error
			if out[first+i], err = part(grad, off, shapeOf(p)); err != nil {
				return nil, fmt.Errorf("nn: %s gradient: %w", name, err)
			}
			off += p.Shape().TotalSize()
		}
		return out, nil
	}
	return apply(o, in...)
}

// stack returns whole when the values of parts lie in order in its memory,
// covering it, and else (or without whole) copies them into buf and returns
// buf.
func stack[T float](whole *tensor.Dense, parts []*tensor.Dense, buf *tensor.Dense) *tensor.Dense {
	if whole != nil && inOrder(data[T](whole), parts) {
		return whole
	}
	b, off := data[T](buf), 0
	for _, p := range parts {
		off += copy(b[off:], data[T](p))
	}
	return buf
}

// inOrder reports whether the values of parts lie in order in w, covering it.
func inOrder[T float](w []T, parts []*tensor.Dense) bool {
	off := 0
	for _, p := range parts {
		d := data[T](p)
		if len(d) == 0 || off+len(d) > len(w) || &d[0] != &w[off] {
			return false
		}
		off += len(d)
	}
	return off == len(w)
}
