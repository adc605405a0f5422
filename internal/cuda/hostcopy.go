package cuda

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reader holds the host copies, made during each run, of the nodes given to
// ReadBack. A nil *Reader reads the nodes' own values.
//
// gorgonia's CUDA machine recycles a dead register's host value as the
// destination of later device-to-host copies, so after a run the value bound
// to an intermediate node may hold another node's numbers. A Reader's copy is
// made by a CPU op the moment its node is computed, into memory gorgonia never
// sees: the op's own output is a throwaway scalar.
type Reader struct {
	copies []*hostCopy
}

// newReader adds a host copy of each node (nil entries are skipped).
func newReader(nodes []*G.Node) (*Reader, error) {
	r := &Reader{copies: make([]*hostCopy, len(nodes))}
	for i, n := range nodes {
		if n == nil {
			continue
		}
		c := &hostCopy{in: G.TensorType{Dims: n.Dims(), Of: n.Dtype()}}
		if n.IsScalar() {
			c.in = n.Dtype()
		}
		if _, err := G.ApplyOp(c, n); err != nil {
			return nil, fmt.Errorf("cuda: reading %v back to the host: %w", n, err)
		}
		r.copies[i] = c
	}
	return r, nil
}

// Value returns the host value of nodes[i] after a run: its copy when r is
// not nil, otherwise nodes[i].Value(). nodes must be those given to
// ReadBack.
func (r *Reader) Value(nodes []*G.Node, i int) G.Value {
	if r == nil || r.copies[i] == nil {
		return nodes[i].Value()
	}
	return r.copies[i].saved
}

// hostCopy copies its input, which gorgonia has brought to the host, into
// saved, and outputs a scalar nobody reads.
type hostCopy struct {
	in    hm.Type
	saved G.Value
}

func (c *hostCopy) Arity() int    { return 1 }
func (c *hostCopy) Type() hm.Type { return hm.NewFnType(c.in, tensor.Float32) }
func (c *hostCopy) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (c *hostCopy) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("cuda: host copy takes 1 input, got %d", len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.IsScalar() {
		v, err := G.CloneValue(vals[0])
		if err != nil {
			return nil, fmt.Errorf("cuda: host copy: %w", err)
		}
		c.saved = v
		return G.NewF32(0), nil
	}
	if d.IsMaterializable() {
		d = d.Materialize().(*tensor.Dense)
	}
	saved, ok := c.saved.(*tensor.Dense)
	if !ok || !saved.Shape().Eq(d.Shape()) || saved.Dtype() != d.Dtype() {
		saved = tensor.New(tensor.Of(d.Dtype()), tensor.WithShape(d.Shape().Clone()...))
		c.saved = saved
	}
	if err := tensor.Copy(saved, d); err != nil {
		return nil, fmt.Errorf("cuda: host copy: %w", err)
	}
	return G.NewF32(0), nil
}

func (c *hostCopy) ReturnsPtr() bool      { return false }
func (c *hostCopy) CallsExtern() bool     { return false }
func (c *hostCopy) OverwritesInput() int  { return -1 }
func (c *hostCopy) WriteHash(h hash.Hash) { fmt.Fprintf(h, "cuda.hostCopy %v %p", c.in, c) }
func (c *hostCopy) Hashcode() uint32 {
	h := fnv.New32a()
	c.WriteHash(h)
	return h.Sum32()
}
func (c *hostCopy) String() string { return "HostCopy" }

// DiffWRT reports that a host copy has no gradient. It makes the copy a
// gorgonia.SDOp, so that differentiating a graph that reads a node back
// skips the copy instead of refusing the graph.
func (c *hostCopy) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff fails: a host copy has no gradient (see DiffWRT).
func (c *hostCopy) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("cuda: a host copy has no gradient")
}
