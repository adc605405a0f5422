//go:build cuda

package devopt

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// feed is the op Feed and FeedRows add: on the device it hands its input,
// a gradient, to the optimizer (Optimizer.take) and outputs a scalar
// nobody reads.
type feed struct {
	o   *Optimizer
	i   int          // the parameter
	ids func() []int // the gathered rows' ids; nil for a whole parameter
	in  hm.Type
}

var _ G.CUDADoer = (*feed)(nil)

func (f *feed) Arity() int    { return 1 }
func (f *feed) Type() hm.Type { return hm.NewFnType(f.in, tensor.Float32) }
func (f *feed) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (f *feed) ReturnsPtr() bool     { return true }
func (f *feed) CallsExtern() bool    { return true }
func (f *feed) OverwritesInput() int { return -1 }
func (f *feed) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "devopt.feed %d %v %p", f.i, f.in, f)
}
func (f *feed) Hashcode() uint32 {
	h := fnv.New32a()
	f.WriteHash(h)
	return h.Sum32()
}
func (f *feed) String() string { return "FeedOptimizer" }

// Do fails: a feed runs on the device only.
func (f *feed) Do(...G.Value) (G.Value, error) {
	return nil, fmt.Errorf("devopt: the gradient of %s reached the optimizer on the host; the device optimizer takes gradients on the device only", f.o.params[f.i].Name)
}

// CUDADo hands the input's device memory to the optimizer, after the work
// the machine has batched (the computation of the input among it).
func (f *feed) CUDADo(extern G.External, dev G.Device, prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("devopt: the optimizer's feed takes 1 input, got %d", len(inputs))
	}
	m, ok := extern.(G.CUDAMachine)
	if !ok {
		return nil, fmt.Errorf("devopt: feeding the optimizer on a %T, not gorgonia's CUDA machine", extern)
	}
	ctx := m.Engines()[int(dev)].Context()
	ctx.DoWork()
	if err := ctx.Errors(); err != nil {
		return nil, fmt.Errorf("devopt: an earlier batched CUDA call failed: %w", err)
	}
	var ids []int
	if f.ids != nil {
		ids = f.ids()
	}
	src, n := cu.DevicePtr(inputs[0].Uintptr()), int64(inputs[0].MemSize())
	if err := ctx.Do(func() error { return f.o.take(f.i, src, ctx.CUDAContext(), n, ids) }); err != nil {
		return nil, err
	}
	return prealloc, nil
}

// DiffWRT reports that the feed has no gradient, so that differentiating a
// graph that feeds the optimizer skips it.
func (f *feed) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff fails: the feed has no gradient.
func (f *feed) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("devopt: feeding the optimizer has no gradient")
}
