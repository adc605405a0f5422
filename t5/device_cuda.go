//go:build cuda

package t5

// A Model's GPU in a `cuda` build: the CUDA context the decoder step runs
// in, with its cuBLAS handle, genq's kernels, the weights the step uses and
// the step's buffers. The step itself is step_cuda.go.
//
// The device has a CUDA context of its own, not one of gorgonia's machines
// (which run the encoder graph). Its work runs on the one OS thread the
// context is current on (a gorgonia.org/cu Ctx locks a goroutine to it),
// a whole step at a time (device.run), so callers may use any goroutine;
// Model.mu orders them. Within run, driver calls, cuBLAS and genq's kernels
// are called directly: the kernels' Launcher sees the context as onThread.
// Kernels, cuBLAS and the synchronous copies all use the context's NULL
// stream, so they run in call order.

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/cuda/kernels"
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"
	"gorgonia.org/tensor"
)

// device is a Model's GPU: a context with one cuBLAS handle and genq's
// kernels, the weights uploaded on first use (once per Model, until Fit
// changes them) and the step's buffers by role, grown as needed and reused
// by every generation, as the host workspace's are. Its memory and context
// are freed when the Model is garbage collected. The caller holds m.mu.
type device struct {
	onCPU bool // run the step on the CPU all the same (the tests' reference)

	ctx     *cu.Ctx
	blas    *cublas.Standard
	k       *kernels.Launcher
	weights map[*Tensor]cu.DevicePtr
	bufs    map[string]deviceBuf
	err     error // why the device could not be set up, returned from then on
	freed   atomic.Bool
}

// deviceBuf is a buffer of the device's workspace.
type deviceBuf struct {
	p    cu.DevicePtr
	size int64 // bytes
}

// gpu returns the model's device, setting it up on first use; nil (and no
// error) when the step is to run on the CPU.
func (mod *modules) gpu() (*device, error) {
	if mod.dev == nil {
		mod.dev = &device{}
	}
	d := mod.dev
	switch {
	case d.onCPU:
		return nil, nil
	case d.ctx != nil:
		return d, nil
	case d.err != nil:
		return nil, d.err
	case !cuda.Enabled():
		return nil, cuda.Err()
	}
	if d.err = d.open(); d.err != nil {
		d.close()
		return nil, d.err
	}
	// d does not refer to mod, so mod can be collected; then d goes too.
	runtime.AddCleanup(mod, func(d *device) { d.close() }, d)
	return d, nil
}

// open creates the device's context on device 0 (the one gorgonia's
// machines use), its cuBLAS handle and its kernels.
func (d *device) open() (err error) {
	type made struct {
		ctx *cu.Ctx
		err error
	}
	ch := make(chan made)
	// cu.NewContext leaves the context current on the thread that creates
	// it, besides the locked thread it runs it on: create it on a thread of
	// its own and pop it there.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer func() {
			if r := recover(); r != nil {
				ch <- made{err: fmt.Errorf("%v", r)}
			}
		}()
		ctx := cu.NewContext(cu.Device(0), cu.SchedAuto)
		_, err := cu.PopCurrentCtx()
		ch <- made{ctx, err}
	}()
	m := <-ch
	if m.ctx != nil {
		d.ctx = m.ctx
	}
	if m.err != nil {
		return fmt.Errorf("t5: creating a CUDA context for the decoder step: %w", m.err)
	}
	d.weights, d.bufs = map[*Tensor]cu.DevicePtr{}, map[string]deviceBuf{}
	return d.run(func() error {
		b := &cublas.Standard{}
		if err := b.Init(cublas.WithContext(d.ctx)); err != nil {
			return fmt.Errorf("t5: creating the decoder step's cuBLAS handle: %w", err)
		}
		d.blas = b
		k, err := kernels.Load(onThread{d.ctx})
		if err != nil {
			return fmt.Errorf("t5: loading genq's kernels for the decoder step: %w", err)
		}
		d.k = k
		return nil
	})
}

// onThread is the device's context as its Launcher sees it: the Launcher
// is only called within run, on the context's thread, so its Do runs the
// work right away.
type onThread struct{ *cu.Ctx }

// Do runs f.
func (onThread) Do(f func() error) error { return f() }

// run runs f on the context's thread, where f may call the driver, cuBLAS
// and d.k directly; a panic (gorgonia.org/cu/blas panics on bad
// arguments) becomes an error.
func (d *device) run(f func() error) error {
	return d.ctx.Do(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("t5: the decoder step on the GPU panicked: %v", r)
			}
		}()
		return f()
	})
}

// close frees everything the device holds: destroying the context frees
// its memory. It is best effort (the Model is gone, or setting it up failed).
func (d *device) close() {
	if d.ctx == nil {
		return
	}
	_ = d.run(func() error {
		if d.k != nil {
			_ = d.k.Close()
		}
		if d.blas != nil {
			_ = d.blas.Close()
		}
		return nil
	})
	_ = d.ctx.Close()
	d.ctx, d.k, d.blas, d.weights, d.bufs = nil, nil, nil, nil, nil
	d.freed.Store(true)
}

// weightsChanged drops the uploaded weights, after Fit changed the host's
// in place: the next step uploads them again. Freeing is best effort (what
// the driver refuses to free goes with the context).
func (d *device) weightsChanged() {
	if d == nil || d.ctx == nil {
		return
	}
	_ = d.run(func() error {
		for _, p := range d.weights {
			_ = cu.MemFree(p)
		}
		return nil
	})
	clear(d.weights)
}

// The methods below run within run.

// weight returns w's values on the device, uploading them on first use.
func (d *device) weight(w *Tensor) (cu.DevicePtr, error) {
	if p, ok := d.weights[w]; ok {
		return p, nil
	}
	p, err := cu.MemAlloc(max(4*int64(len(w.Data)), 4))
	if err == nil {
		if err = upload(p, w.Data); err != nil {
			_ = cu.MemFree(p)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("t5: uploading a %v weight to the GPU: %w", w.Shape, err)
	}
	d.weights[w] = p
	return p, nil
}

// buf returns the device buffer of role with at least size bytes, growing
// it when needed; its contents are whatever the last user left, except that
// a grown buffer keeps the first keep bytes of the old one.
func (d *device) buf(role string, size, keep int64) (cu.DevicePtr, error) {
	b, ok := d.bufs[role]
	if ok && b.size >= size {
		return b.p, nil
	}
	size = max(size, 4)
	p, err := cu.MemAlloc(size)
	if err == nil {
		if ok {
			if keep = min(keep, b.size); keep > 0 {
				err = cu.MemcpyDtoD(p, b.p, keep)
			}
			err = errors.Join(err, cu.MemFree(b.p))
		}
		b = deviceBuf{p, size}
		d.bufs[role] = b
	}
	if err != nil {
		return 0, fmt.Errorf("t5: allocating %d bytes of GPU memory for the decoder step (%s): %w", size, role, err)
	}
	return b.p, nil
}

// floats returns the device buffer of role for n float32 values.
func (d *device) floats(role string, n int) (cu.DevicePtr, error) { return d.buf(role, 4*int64(n), 0) }

// upload copies the host values src (float32 or int, which genq's kernels
// take as int64) to dst on the device.
func upload[T float32 | int](dst cu.DevicePtr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	n := int64(unsafe.Sizeof(src[0])) * int64(len(src))
	if err := cu.MemcpyHtoD(dst, unsafe.Pointer(&src[0]), n); err != nil {
		return fmt.Errorf("t5: copying %d bytes to the GPU: %w", n, err)
	}
	return nil
}

// download copies len(dst) float32 values from src on the device to dst;
// it waits for the work queued before it, and reports the first error of
// the kernels that ran.
func download(dst []float32, src cu.DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	n := 4 * int64(len(dst))
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, n); err != nil {
		return fmt.Errorf("t5: reading %d bytes back from the GPU: %w", n, err)
	}
	return nil
}

// copyDevice copies n float32 values from src to dst on the device.
func copyDevice(dst, src cu.DevicePtr, n int) error {
	if n == 0 {
		return nil
	}
	if err := cu.MemcpyDtoD(dst, src, 4*int64(n)); err != nil {
		return fmt.Errorf("t5: copying %d values on the GPU: %w", n, err)
	}
	return nil
}

// linear sets y [rows, out] (rows ldy apart) to alpha·x·wᵀ + beta·y for x
// [rows, in] (rows ldx apart) and an nn.Linear weight w [out, in] in
// PyTorch's layout, on cuBLAS: column-major, that is yᵀ = alpha·w·xᵀ +
// beta·yᵀ, with w read as the transpose of the column-major [in, out] it is.
// beta 1 adds the product to y (a residual sum).
func (d *device) linear(y cu.DevicePtr, ldy int, x cu.DevicePtr, ldx int, w *Tensor, rows int, alpha, beta float32) error {
	wp, err := d.weight(w)
	if err != nil {
		return err
	}
	out, in := w.Shape[0], w.Shape[1]
	if rows == 0 || out == 0 {
		return nil
	}
	d.blas.Sgemm(blas.Trans, blas.NoTrans, out, rows, in, alpha,
		deviceFloats(wp, out*in), in, deviceFloats(x, rows*ldx), ldx, beta, deviceFloats(y, rows*ldy), ldy)
	if err := d.blas.Err(); err != nil {
		return fmt.Errorf("t5: a %d×%d by %d×%d product on cuBLAS: %w", rows, in, in, out, err)
	}
	return nil
}

// deviceFloats is n float32 values at device address p as the slice that
// gorgonia.org/cu/blas takes device operands as; Go must never read or
// write it.
func deviceFloats(p cu.DevicePtr, n int) []float32 {
	return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(max(n, 1)), tensor.FromMemory(uintptr(p), uintptr(4*max(n, 1)))).Float32s()
}
