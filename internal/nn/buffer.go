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
	t *tensor.Dense
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

// output returns the tensor o writes into: the shared buffer's, or o's own,
// (re)allocated when missing or of another shape or dtype.
func (o *op) output() *tensor.Dense {
	fits := func(t *tensor.Dense) bool { return t != nil && t.Shape().Eq(o.shape) && t.Dtype() == o.dtype }
	if o.shared != nil {
		if !fits(o.shared.t) {
			o.shared.t = tensor.New(tensor.Of(o.dtype), tensor.WithShape(o.shape.Clone()...))
		}
		return o.shared.t
	}
	if !fits(o.out) {
		o.out = tensor.New(tensor.Of(o.dtype), tensor.WithShape(o.shape.Clone()...))
	}
	return o.out
}
