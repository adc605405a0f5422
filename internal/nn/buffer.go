package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Buffer is an output buffer that several ops of one forward-only graph
// write in turn (see ShareOutput): the same step of every layer, say, whose
// value the next layer no longer needs by the time it writes its own.
type Buffer struct {
	t     *tensor.Dense
	alloc func(n int) []float32 // the storage, when set (BufferFunc)
}

// ShareOutput makes the op of n write its output into b instead of a buffer
// of its own. The caller guarantees that every reader of a value written to
// b runs before the next op sharing b writes it; in a stack of layers that
// holds when each layer's readers of a shared value are ancestors of that
// layer's output, which the next layer's ops all depend on. It is for
// forward-only graphs: a backward pass reads forward values after later
// layers have run. n must be a node of this package's ops other than a view.
func ShareOutput(n *G.Node, b *Buffer) error {
	o, ok := n.Op().(*op)
	if !ok {
		return fmt.Errorf("nn: %v is not an op of package nn placed on the CPU: it cannot share an output buffer", n.Op())
	}
	if o.view != nil {
		return fmt.Errorf("nn: %s is a view of its input: it has no output buffer to share", o.name)
	}
	o.shared = b
	return nil
}

// BufferFunc returns a Buffer whose float32 storage alloc supplies: alloc(n)
// returns n values, from storage its owner may share between several
// Buffers and graphs (a model's workspace, grown to the largest size asked
// for). Ops of other dtypes writing to it use buffers of their own.
func BufferFunc(alloc func(n int) []float32) *Buffer { return &Buffer{alloc: alloc} }

// output returns the tensor o writes into: the shared buffer's, or o's own,
// (re)allocated when missing or of another shape or dtype. A scalar output
// is computed into a one-element tensor.
func (o *op) output() *tensor.Dense {
	shape := o.shape
	if len(shape) == 0 {
		shape = tensor.Shape{1}
	}
	fits := func(t *tensor.Dense) bool { return t != nil && t.Shape().Eq(shape) && t.Dtype() == o.dtype }
	if b := o.shared; b != nil && b.alloc != nil && o.dtype == tensor.Float32 {
		data := b.alloc(shape.TotalSize())
		if !fits(b.t) || &b.t.Data().([]float32)[0] != &data[0] {
			b.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(data))
		}
		return b.t
	}
	if o.shared != nil && o.shared.alloc == nil {
		if !fits(o.shared.t) {
			o.shared.t = tensor.New(tensor.Of(o.dtype), tensor.WithShape(shape.Clone()...))
		}
		return o.shared.t
	}
	if !fits(o.out) {
		o.out = tensor.New(tensor.Of(o.dtype), tensor.WithShape(shape.Clone()...))
	}
	return o.out
}
