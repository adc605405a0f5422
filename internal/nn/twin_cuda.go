//go:build cuda

package nn

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/cuda/kernels"
	"github.com/genq-go/genq/internal/kernel"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	gcuda "gorgonia.org/gorgonia/cuda"
)

// launchers caches one launcher per CUDA engine, with the engine's context
// (a machine made otherwise than by cuda.NewMachine, closed, and another
// made at the same address gets a fresh launcher); internal/cuda drops an
// engine's launcher, freeing its scratch memory, when the machine
// cuda.NewMachine made closes.
var launchers sync.Map // *gcuda.Engine → engineLauncher

type engineLauncher struct {
	ctx cu.CUContext
	l   *kernels.Launcher
}

func init() {
	cuda.OnEngineClose(func(e *gcuda.Engine) {
		if v, ok := launchers.LoadAndDelete(e); ok {
			_ = v.(engineLauncher).l.Close() // best effort: the context goes next
		}
	})
}

// launcherFor returns the launcher of e's kernels.
func launcherFor(e *gcuda.Engine) (*kernels.Launcher, error) {
	ctx := e.Context().CUDAContext()
	if v, ok := launchers.Load(e); ok && v.(engineLauncher).ctx == ctx {
		return v.(engineLauncher).l, nil
	}
	l, err := kernels.FromEngine(e)
	if err != nil {
		return nil, err
	}
	launchers.Store(e, engineLauncher{ctx, l})
	return l, nil
}

// launch runs the op's device twin from in into out.
func (d *deviceOp) launch(extern G.External, dev G.Device, e *gcuda.Engine, out devVal, in []devVal) error {
	l, err := launcherFor(e)
	if err != nil {
		return fmt.Errorf("nn: %s on the GPU: %w", d.name, err)
	}
	if err := d.launchWith(l, &devMem{extern: extern, dev: dev, e: e}, out, in); err != nil {
		return fmt.Errorf("nn: %s on the GPU: %w", d.name, err)
	}
	return nil
}

// devMem does a deviceOp's copies and scratch allocations on the machine's
// device, in order with its kernels.
type devMem struct {
	extern G.External
	dev    G.Device
	e      *gcuda.Engine
	held   []heldMem
}

type heldMem struct {
	m    cu.DevicePtr
	size int64
}

// do runs f on the engine's context after the work queued before it.
func (m *devMem) do(f func() error) error {
	ctx := m.e.Context()
	flush(m.e)
	if err := ctx.Errors(); err != nil {
		return fmt.Errorf("an earlier CUDA call failed: %w", err)
	}
	return ctx.Do(f)
}

// copy copies n bytes from device address src to dst.
func (m *devMem) copy(dst, src cu.DevicePtr, n int) error {
	if n == 0 {
		return nil
	}
	return m.do(func() error { return cu.MemcpyDtoD(dst, src, int64(n)) })
}

// upload copies the host bytes of keep to device memory it holds until
// release.
func (m *devMem) upload(keep []bool) (cu.DevicePtr, error) {
	n := int64(len(keep))
	if n == 0 {
		return 0, nil
	}
	mem, err := m.extern.Get(m.dev, n)
	if err != nil {
		return 0, fmt.Errorf("allocating %d bytes for the dropout mask: %w", n, err)
	}
	p := cu.DevicePtr(mem.Uintptr())
	m.held = append(m.held, heldMem{p, n})
	// a Go bool is one byte, 0 or 1: the kernels read the mask as bytes
	src := unsafe.Pointer(unsafe.SliceData(keep))
	return p, m.do(func() error { return cu.MemcpyHtoD(p, src, n) })
}

// release returns the memory upload allocated.
func (m *devMem) release() {
	for _, h := range m.held {
		m.extern.Put(m.dev, h.m, h.size)
	}
	m.held = nil
}

// launchWith runs the twin through l.
func (d *deviceOp) launchWith(l *kernels.Launcher, mem *devMem, out devVal, in []devVal) error {
	defer mem.release()
	t := d.dev
	back := t.grad > 0
	ptr := func(i int) cu.DevicePtr { return in[i].p }
	switch t.kind {
	case devGELU, devGELUNew, devReLU:
		n := out.size()
		fwd := map[devKind]func(cu.DevicePtr, cu.DevicePtr, int) error{devGELU: l.GELU, devGELUNew: l.GELUNew, devReLU: l.ReLU}
		bwd := map[devKind]func(cu.DevicePtr, cu.DevicePtr, cu.DevicePtr, int) error{devGELU: l.GELUBackward, devGELUNew: l.GELUNewBackward, devReLU: l.ReLUBackward}
		if back {
			return bwd[t.kind](out.p, ptr(0), ptr(1), n)
		}
		return fwd[t.kind](out.p, ptr(0), n)
	case devSoftmax, devLogSoftmax, devNormalize:
		r, w := in[0].rows()
		fwd := map[devKind]func(cu.DevicePtr, cu.DevicePtr, int, int) error{devSoftmax: l.Softmax, devLogSoftmax: l.LogSoftmax, devNormalize: l.L2Normalize}
		bwd := map[devKind]func(cu.DevicePtr, cu.DevicePtr, cu.DevicePtr, int, int) error{devSoftmax: l.SoftmaxBackward, devLogSoftmax: l.LogSoftmaxBackward, devNormalize: l.L2NormalizeBackward}
		if back {
			return bwd[t.kind](out.p, ptr(0), ptr(1), r, w)
		}
		return fwd[t.kind](out.p, ptr(0), r, w)
	case devLayerNorm:
		// inputs x, [res,] w, b (forward) or x, [res,] w, dy (backward)
		r, w := in[0].rows()
		var res cu.DevicePtr
		if t.res {
			res = ptr(1)
		}
		last := len(in) - 1
		eps := float32(t.eps)
		switch t.grad {
		case 0:
			return l.LayerNorm(out.p, ptr(0), res, ptr(last-1), ptr(last), r, w, eps)
		case 1:
			return l.LayerNormBackward(out.p, 0, 0, ptr(0), res, ptr(last-1), ptr(last), r, w, eps)
		default:
			return l.LayerNormBackward(0, out.p, 0, ptr(0), res, ptr(last-1), ptr(last), r, w, eps)
		}
	case devRMSNorm:
		// inputs x, w (forward) or x, w, dy (backward)
		r, w := in[0].rows()
		eps := float32(t.eps)
		switch t.grad {
		case 0:
			return l.RMSNorm(out.p, ptr(0), ptr(1), r, w, eps)
		case 1:
			return l.RMSNormBackward(out.p, 0, ptr(0), ptr(1), ptr(2), r, w, eps)
		default:
			return l.RMSNormBackward(0, out.p, ptr(0), ptr(1), ptr(2), r, w, eps)
		}
	case devSumRows:
		r, w := in[0].rows()
		return l.SumRows(out.p, ptr(0), r, w)
	case devEmbedding:
		// inputs table, ids (forward) or table, ids, dy (backward)
		v, w := in[0].shape[0], in[0].shape[1]
		n := in[1].size()
		if back {
			if err := l.Fill(out.p, out.size(), 0); err != nil {
				return err
			}
			return l.ScatterAdd(out.p, ptr(2), ptr(1), n, w)
		}
		return l.Gather(out.p, ptr(0), ptr(1), n, w, v)
	case devCrossEntropy:
		// inputs logits, labels (forward) or logits, labels, dloss (backward)
		n, v := in[0].shape[0], in[0].shape[1]
		if back {
			return l.CrossEntropyBackward(out.p, ptr(0), ptr(1), n, v, ptr(2))
		}
		return l.CrossEntropy(out.p, ptr(0), ptr(1), n, v)
	case devPositionBias:
		// inputs table [buckets, H], buckets [S·T], mask [B, S, T] (and dy)
		nb, pos, b := in[0].shape[0], in[1].size(), in[2].shape[0]
		if back {
			return l.PositionBiasBackward(out.p, ptr(3), ptr(1), pos, b, t.heads, nb)
		}
		return l.PositionBias(out.p, ptr(0), ptr(1), ptr(2), pos, b, t.heads)
	case devAttend:
		return d.attend(l, mem, out, in)
	case devPool:
		// inputs x, mask [B, T] (and dy)
		b, s := in[1].shape[0], in[1].shape[1]
		_, w := out.rows()
		if back {
			_, w = in[0].rows()
			return l.PoolBackward(out.p, ptr(0), ptr(1), ptr(2), b, s, w, int(t.mode))
		}
		return l.Pool(out.p, ptr(0), ptr(1), b, s, w, int(t.mode))
	case devDropout:
		ds := t.drop
		if !back {
			ds.src.fill(ds.mask.keep)
		}
		keep, err := mem.upload(ds.mask.keep)
		if err != nil {
			return err
		}
		return l.Dropout(out.p, ptr(0), keep, out.size(), ds.scale)
	case devPart:
		n := out.size()
		if in[0].size() < t.off+n {
			return fmt.Errorf("part [%d, %d) does not fit in %v", t.off, t.off+n, in[0].shape)
		}
		return mem.copy(out.p, in[0].at(t.off), 4*n)
	case devStack:
		// inputs [whole,] parts... (from t.off): copied one after the other
		off := 0
		for _, p := range in[t.off:] {
			if err := mem.copy(out.at(off), p.p, 4*p.size()); err != nil {
				return err
			}
			off += p.size()
		}
		return nil
	}
	return fmt.Errorf("no device twin of kind %d", t.kind)
}

// attend runs Attend's twins: the forward attention, or the gradients of its
// distinct inputs into one flat output (see attendGrad).
func (d *deviceOp) attend(l *kernels.Launcher, mem *devMem, out devVal, in []devVal) error {
	s := d.dev.attn
	var keep cu.DevicePtr
	if s.mask != nil {
		if d.dev.grad == 0 {
			s.drop.fill(s.mask.keep)
		}
		var err error
		if keep, err = mem.upload(s.mask.keep); err != nil {
			return err
		}
	}
	x := func(i int) cu.DevicePtr { return in[s.which[i]].p }
	if d.dev.grad == 0 {
		var bias cu.DevicePtr
		if len(in) > s.nx {
			bias = in[s.nx].p
		}
		return l.Attend(deviceAttention(s.a), out.p, x(0), x(1), x(2), bias, keep)
	}
	// inputs: the distinct q/k/v, [bias,] dout
	if err := l.Fill(out.p, out.size(), 0); err != nil { // columns of a fused projection outside the heads get 0
		return err
	}
	g := func(i int) cu.DevicePtr { return out.at(s.offs[i]) }
	var bias, dbias cu.DevicePtr
	if s.nx < len(in)-1 {
		bias = in[s.nx].p
		if s.biasGrad {
			dbias = g(s.nx)
		}
	}
	return l.AttendBackward(deviceAttention(s.a), g(s.which[0]), g(s.which[1]), g(s.which[2]), dbias, x(0), x(1), x(2), bias, keep, in[len(in)-1].p)
}

// deviceAttention is a's description for the device kernels (the same
// layouts; the dropout mask goes to the kernels separately).
func deviceAttention(a *kernel.Attention) *kernels.Attention {
	return &kernels.Attention{Batch: a.Batch, Heads: a.Heads, Queries: a.Queries, Keys: a.Keys, HeadDim: a.HeadDim,
		Scale: a.Scale, Q: a.Q, K: a.K, V: a.V, Out: a.Out, Bias: a.Bias, KeepScale: a.KeepScale}
}
