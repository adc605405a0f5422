//go:build cuda

package devopt

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"runtime"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/cuda/kernels"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// align is the element alignment of each parameter in the optimizer's
// buffers (256 bytes).
const align = 64

// Optimizer clips gradients to their global norm and applies AdamW on the
// GPU, over the parameters of a host optim.AdamW (see the package doc).
// It is not safe for concurrent use: a training loop feeds it from its
// graphs' runs and steps it in turn.
type Optimizer struct {
	host    *optim.AdamW
	cfg     optim.Config
	maxNorm float64

	ctx *cu.Ctx
	l   *kernels.Launcher

	params []*optim.Param // in the host optimizer's group order
	decay  []float64      // each parameter's weight decay
	index  map[string]int
	off    []int64 // each parameter's first element in the buffers
	steps  []int64 // each parameter's AdamW step count
	// touched marks the parameters with a gradient in the current step.
	touched []bool
	loaded  bool // the parameters and moments have been uploaded

	p, g, m, v cu.DevicePtr // parameters, gradients, first and second moments
	total      cu.DevicePtr // the last clipped norm (one float32)
	zero       cu.DevicePtr // one int64 0: adds a gradient as one row
	stage      cu.DevicePtr // a gradient copied in before it is added
	stageSize  int64
	ids        cu.DevicePtr // the ids of gathered rows (int64)
	idsSize    int64
}

// New returns an Optimizer over host's parameters, with host's
// hyper-parameters cfg and global-norm clipping at maxGradNorm (+Inf
// measures the norm without clipping), when genq's graphs run on the GPU;
// otherwise nil. Close it when the training loop ends.
func New(host *optim.AdamW, cfg optim.Config, maxGradNorm float64) (o *Optimizer, err error) {
	if !cuda.Enabled() {
		return nil, nil
	}
	o = &Optimizer{host: host, cfg: cfg, maxNorm: maxGradNorm, index: map[string]int{}}
	var n int64
	for _, gr := range host.Groups() {
		for _, p := range gr.Params {
			o.index[p.Name] = len(o.params)
			o.params = append(o.params, p)
			o.decay = append(o.decay, gr.WeightDecay)
			o.off = append(o.off, n)
			n += (int64(len(p.Data)) + align - 1) / align * align
		}
	}
	o.steps = make([]int64, len(o.params))
	o.touched = make([]bool, len(o.params))
	if o.ctx, err = newContext(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = o.Close()
			o = nil
		}
	}()
	if o.l, err = kernels.Load(o.ctx); err != nil {
		return nil, fmt.Errorf("devopt: %w", err)
	}
	err = o.ctx.Do(func() error {
		for _, b := range []struct {
			p    *cu.DevicePtr
			size int64
		}{{&o.p, 4 * n}, {&o.g, 4 * n}, {&o.m, 4 * n}, {&o.v, 4 * n}, {&o.total, 4}, {&o.zero, 8}} {
			var err error
			if *b.p, err = cu.MemAlloc(max(b.size, 4)); err != nil {
				return fmt.Errorf("allocating %d bytes: %w", b.size, err)
			}
		}
		var zero int64
		return cu.MemcpyHtoD(o.zero, unsafe.Pointer(&zero), 8)
	})
	if err != nil {
		return nil, fmt.Errorf("devopt: the optimizer's device memory (4 × %d float32s): %w", n, err)
	}
	return o, nil
}

// newContext creates the optimizer's CUDA context on device 0, run by
// gorgonia.org/cu on an OS thread of its own. It is created on a locked
// thread that then ends, so that no other goroutine's thread is left with
// it current.
func newContext() (*cu.Ctx, error) {
	type made struct {
		ctx *cu.Ctx
		err error
	}
	ch := make(chan made)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer func() {
			if r := recover(); r != nil {
				ch <- made{err: fmt.Errorf("devopt: creating the optimizer's CUDA context: %v", r)}
			}
		}()
		ch <- made{ctx: cu.NewContext(cu.Device(0), cu.SchedAuto)}
	}()
	r := <-ch
	return r.ctx, r.err
}

// Close frees the optimizer's device memory and context.
func (o *Optimizer) Close() error {
	if o == nil || o.ctx == nil {
		return nil
	}
	var errs []error
	if o.l != nil {
		errs = append(errs, o.l.Close())
		o.l = nil
	}
	errs = append(errs, o.ctx.Do(func() error {
		var errs []error
		for _, p := range []*cu.DevicePtr{&o.p, &o.g, &o.m, &o.v, &o.total, &o.zero, &o.stage, &o.ids} {
			if *p != 0 {
				errs = append(errs, cu.MemFree(*p))
				*p = 0
			}
		}
		return errors.Join(errs...)
	}))
	errs = append(errs, o.ctx.Close())
	o.ctx = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("devopt: closing the optimizer: %w", err)
	}
	return nil
}

// at returns the address of parameter i in buffer base.
func (o *Optimizer) at(base cu.DevicePtr, i int) cu.DevicePtr {
	return base + cu.DevicePtr(4*o.off[i])
}

// param returns the index of the named parameter.
func (o *Optimizer) param(name string) (int, error) {
	i, ok := o.index[name]
	if !ok {
		return 0, fmt.Errorf("devopt: the optimizer holds no parameter %q", name)
	}
	return i, nil
}

// Feed adds to grad's graph an op that hands grad, the gradient of the
// named parameter, to the optimizer on the device as soon as it is
// computed. Call it before the graph's machine is made.
func (o *Optimizer) Feed(grad *G.Node, param string) error {
	i, err := o.param(param)
	if err != nil {
		return err
	}
	if n := grad.Shape().TotalSize(); n != len(o.params[i].Data) {
		return fmt.Errorf("devopt: a gradient of %d values for %s, which has %d", n, param, len(o.params[i].Data))
	}
	return o.attach(grad, &feed{o: o, i: i})
}

// FeedRows is Feed for the gradient of rows gathered from the named
// parameter (an embedding table): row r of grad belongs to row ids()[r] of
// the table, and rows of the same id add up. ids is called during each run.
func (o *Optimizer) FeedRows(grad *G.Node, param string, ids func() []int) error {
	i, err := o.param(param)
	if err != nil {
		return err
	}
	return o.attach(grad, &feed{o: o, i: i, ids: ids})
}

func (o *Optimizer) attach(grad *G.Node, f *feed) error {
	f.in = grad.Type()
	if _, err := G.ApplyOp(f, grad); err != nil {
		return fmt.Errorf("devopt: feeding %v to the optimizer: %w", grad, err)
	}
	return nil
}

// Begin starts a step: no parameter has a gradient yet. Step ends one.
// A nil Optimizer does nothing.
func (o *Optimizer) Begin() {
	if o != nil {
		clear(o.touched)
	}
}

// take adds n bytes of gradient at src, in the machine's context src (with
// that context current), to parameter i: a copy into the gradient buffer
// for the step's first gradient of a whole parameter, else a copy into the
// staging buffer and an add (a scatter of rows ids for gathered rows).
func (o *Optimizer) take(i int, src cu.DevicePtr, srcCtx cu.CUContext, n int64, ids []int) error {
	dst, size := o.at(o.g, i), len(o.params[i].Data)
	if ids == nil && n != 4*int64(size) {
		return fmt.Errorf("devopt: %d bytes of gradient for %s of %d values", n, o.params[i].Name, size)
	}
	if ids == nil && !o.touched[i] {
		if err := cu.MemcpyPeer(dst, o.ctx.CUDAContext(), src, srcCtx, n); err != nil {
			return fmt.Errorf("devopt: copying the gradient of %s: %w", o.params[i].Name, err)
		}
		o.touched[i] = true
		return nil
	}
	if err := o.grow(&o.stage, &o.stageSize, n); err != nil {
		return err
	}
	// cuMemcpyPeer is ordered with the work of both contexts, so the
	// staging buffer is not overwritten before the last add has read it.
	if err := cu.MemcpyPeer(o.stage, o.ctx.CUDAContext(), src, srcCtx, n); err != nil {
		return fmt.Errorf("devopt: copying the gradient of %s: %w", o.params[i].Name, err)
	}
	rows, d, idp := 1, int(n/4), o.zero
	if ids != nil {
		rows = len(ids)
		if rows == 0 || int(n/4)%rows != 0 || int(n/4) == 0 || size%(int(n/4)/rows) != 0 {
			return fmt.Errorf("devopt: %d gradient values for %d gathered rows of %s (%d values)", n/4, rows, o.params[i].Name, size)
		}
		d = int(n/4) / rows
		if err := o.grow(&o.ids, &o.idsSize, 8*int64(rows)); err != nil {
			return err
		}
		ids64 := make([]int64, rows)
		for r, id := range ids {
			if id < 0 || id*d >= size {
				return fmt.Errorf("devopt: gathered row of id %d outside %s", id, o.params[i].Name)
			}
			ids64[r] = int64(id)
		}
		if err := o.ctx.Do(func() error { return cu.MemcpyHtoD(o.ids, unsafe.Pointer(&ids64[0]), 8*int64(rows)) }); err != nil {
			return fmt.Errorf("devopt: copying the ids of %s's rows: %w", o.params[i].Name, err)
		}
		idp = o.ids
	}
	if !o.touched[i] {
		if err := o.l.Fill(dst, size, 0); err != nil {
			return fmt.Errorf("devopt: clearing the gradient of %s: %w", o.params[i].Name, err)
		}
		o.touched[i] = true
	}
	if err := o.l.ScatterAdd(dst, o.stage, idp, rows, d); err != nil {
		return fmt.Errorf("devopt: adding the gradient of %s: %w", o.params[i].Name, err)
	}
	return nil
}

// grow makes *p (of *size bytes, in the optimizer's context) hold n bytes.
func (o *Optimizer) grow(p *cu.DevicePtr, size *int64, n int64) error {
	if n <= *size {
		return nil
	}
	return o.ctx.Do(func() error {
		if *p != 0 {
			if err := cu.MemFree(*p); err != nil {
				return fmt.Errorf("devopt: freeing a buffer: %w", err)
			}
			*p, *size = 0, 0
		}
		q, err := cu.MemAlloc(n)
		if err != nil {
			return fmt.Errorf("devopt: allocating %d bytes: %w", n, err)
		}
		*p, *size = q, n
		return nil
	})
}

// upload copies the host parameters and the host optimizer's state (fresh,
// or loaded from a checkpoint) to the device.
func (o *Optimizer) upload() error {
	state := o.host.State()
	for i, p := range o.params {
		o.steps[i] = 0
		if _, ok := state.Params[p.Name]; !ok {
			if err := o.l.Fill(o.at(o.m, i), len(p.Data), 0); err != nil {
				return fmt.Errorf("devopt: clearing AdamW's moments: %w", err)
			}
			if err := o.l.Fill(o.at(o.v, i), len(p.Data), 0); err != nil {
				return fmt.Errorf("devopt: clearing AdamW's moments: %w", err)
			}
		}
	}
	err := o.ctx.Do(func() error {
		for i, p := range o.params {
			n := int64(len(p.Data))
			if n == 0 {
				continue
			}
			if err := cu.MemcpyHtoD(o.at(o.p, i), unsafe.Pointer(&p.Data[0]), 4*n); err != nil {
				return err
			}
			s, ok := state.Params[p.Name]
			if !ok {
				continue
			}
			o.steps[i] = s.Step
			if err := cu.MemcpyHtoD(o.at(o.m, i), unsafe.Pointer(&s.ExpAvg[0]), 4*n); err != nil {
				return err
			}
			if err := cu.MemcpyHtoD(o.at(o.v, i), unsafe.Pointer(&s.ExpAvgSq[0]), 4*n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("devopt: copying the parameters and AdamW's state to the device: %w", err)
	}
	o.loaded = true
	return nil
}

// Step clips the step's gradients to their global norm (torch's
// clip_grad_norm_, as optim.ClipGradNorm) and applies AdamW at learning
// rate lr (as optim.AdamW.Step: each parameter's weight decay, its own
// step count, parameters without a gradient this step skipped), on the
// device, then copies the updated parameters into the host slices. It
// returns the gradients' norm before clipping, and ends the step (Begin).
func (o *Optimizer) Step(lr float64) (float64, error) {
	defer o.Begin()
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return 0, fmt.Errorf("devopt: AdamW learning rate %v; want a finite lr ≥ 0", lr)
	}
	if !o.loaded {
		if err := o.upload(); err != nil {
			return 0, err
		}
	}
	grads := make([]cu.DevicePtr, len(o.params))
	lens := make([]int, len(o.params))
	for i, p := range o.params {
		if o.touched[i] {
			grads[i], lens[i] = o.at(o.g, i), len(p.Data)
		}
	}
	if err := o.l.ClipGradNorm(grads, lens, o.maxNorm, o.total); err != nil {
		return 0, fmt.Errorf("devopt: clipping the gradients: %w", err)
	}
	for i, p := range o.params {
		if !o.touched[i] {
			continue
		}
		o.steps[i]++
		if err := o.l.AdamW(o.at(o.p, i), grads[i], o.at(o.m, i), o.at(o.v, i), len(p.Data),
			lr, o.decay[i], o.cfg.Beta1, o.cfg.Beta2, o.cfg.Eps, int(o.steps[i])); err != nil {
			return 0, fmt.Errorf("devopt: AdamW on %s: %w", p.Name, err)
		}
	}
	var norm float32
	err := o.ctx.Do(func() error {
		if err := cu.MemcpyDtoH(unsafe.Pointer(&norm), o.total, 4); err != nil {
			return err
		}
		for i, p := range o.params {
			if o.touched[i] && len(p.Data) > 0 {
				if err := cu.MemcpyDtoH(unsafe.Pointer(&p.Data[0]), o.at(o.p, i), 4*int64(len(p.Data))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("devopt: copying the updated parameters to the host: %w", err)
	}
	return float64(norm), nil
}

// Download writes the device's AdamW state (step counts and moments) into
// the host optimizer, so that its State is the run's, for a checkpoint; on the
// nil Optimizer (training on the host) it does nothing.
func (o *Optimizer) Download() error {
	if o == nil || !o.loaded {
		return nil // the host optimizer holds it
	}
	s := optim.State{Params: map[string]optim.ParamState{}}
	err := o.ctx.Do(func() error {
		for i, p := range o.params {
			if o.steps[i] == 0 {
				continue
			}
			n := len(p.Data)
			ps := optim.ParamState{Step: o.steps[i], ExpAvg: make([]float32, n), ExpAvgSq: make([]float32, n)}
			if n > 0 {
				if err := cu.MemcpyDtoH(unsafe.Pointer(&ps.ExpAvg[0]), o.at(o.m, i), 4*int64(n)); err != nil {
					return err
				}
				if err := cu.MemcpyDtoH(unsafe.Pointer(&ps.ExpAvgSq[0]), o.at(o.v, i), 4*int64(n)); err != nil {
					return err
				}
			}
			s.Params[p.Name] = ps
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("devopt: copying AdamW's moments to the host: %w", err)
	}
	if err := o.host.LoadState(s); err != nil {
		return fmt.Errorf("devopt: %w", err)
	}
	return nil
}

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
