//go:build cuda

package cuda

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// onDevice returns, for a node computed on the GPU (its op a CUDADoer), a
// copy of it made on the device by an op of its own, which a Reader then
// reads; other nodes are returned as they are.
//
// gorgonia's machine lets an elementwise op (a gradient sum, say) write in
// place into the device memory of its first input, and then copies the
// node's value to the host as if the memory still held the input's value
// (the host copy of an in-place gradient sum of two towers holds one tower's
// gradient). A copy op has memory of its own, written after the node is
// computed, and its host copy follows it.
func onDevice(n *G.Node) (*G.Node, error) {
	if _, ok := n.Op().(G.CUDADoer); !ok {
		return n, nil
	}
	t := n.Type()
	c := &devCopy{t: t, shape: n.Shape().Clone()}
	out, err := G.ApplyOp(c, n)
	if err != nil {
		return nil, fmt.Errorf("cuda: copying %v on the device: %w", n, err)
	}
	return out, nil
}

// devCopy copies its input on the device into memory the machine
// preallocates for it.
type devCopy struct {
	t     hm.Type
	shape tensor.Shape
}

var _ G.CUDADoer = (*devCopy)(nil)

func (c *devCopy) Arity() int                                     { return 1 }
func (c *devCopy) Type() hm.Type                                  { return hm.NewFnType(c.t, c.t) }
func (c *devCopy) InferShape(...G.DimSizer) (tensor.Shape, error) { return c.shape.Clone(), nil }
func (c *devCopy) ReturnsPtr() bool                               { return true }
func (c *devCopy) CallsExtern() bool                              { return true }
func (c *devCopy) OverwritesInput() int                           { return -1 }
func (c *devCopy) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "cuda.devCopy %v %p", c.t, c) }
func (c *devCopy) Hashcode() uint32 {
	h := fnv.New32a()
	c.WriteHash(h)
	return h.Sum32()
}
func (c *devCopy) String() string { return "DeviceCopy" }

// Do copies a value on the host.
func (c *devCopy) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("cuda: device copy takes 1 input, got %d", len(vals))
	}
	return G.CloneValue(vals[0])
}

// CUDADo copies the input's device memory into prealloc, after the work
// the machine has batched (the computation of the input among it).
func (c *devCopy) CUDADo(extern G.External, dev G.Device, prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 || prealloc == nil {
		return nil, fmt.Errorf("cuda: device copy of %d inputs into %v", len(inputs), prealloc)
	}
	m, ok := extern.(G.CUDAMachine)
	if !ok {
		return nil, fmt.Errorf("cuda: device copy on a %T, not gorgonia's CUDA machine", extern)
	}
	n := int64(inputs[0].MemSize())
	if int64(prealloc.MemSize()) != n {
		return nil, fmt.Errorf("cuda: device copy of %d bytes into %d", n, prealloc.MemSize())
	}
	ctx := m.Engines()[int(dev)].Context()
	ctx.DoWork()
	src, dst := cu.DevicePtr(inputs[0].Uintptr()), cu.DevicePtr(prealloc.Uintptr())
	if err := ctx.Do(func() error { return cu.MemcpyDtoD(dst, src, n) }); err != nil {
		return nil, fmt.Errorf("cuda: device copy: %w", err)
	}
	return prealloc, nil
}

// DiffWRT reports that a device copy made for reading has no gradient (see
// hostCopy's).
func (c *devCopy) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff fails: a device copy made for reading has no gradient.
func (c *devCopy) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("cuda: a device copy made for reading has no gradient")
}
