//go:build cuda

package kernels

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/cu"
	gcuda "gorgonia.org/gorgonia/cuda"
)

// PTX is genq.ptx, the kernels compiled by gen.sh (nvcc -ptx, compute_70).
//
//go:embed genq.ptx
var PTX string

// ModuleName is the name the module is registered under in gorgonia's CUDA
// standard library: an engine holds kernel NAME as ModuleName + "." + NAME.
const ModuleName = "genq"

// block is the block size of the elementwise and row kernels (GENQ_BLOCK in
// genq.h).
const block = 256

// Launcher launches genq's kernels in one CUDA context. Every method checks
// its sizes, then launches asynchronously on the context's NULL stream
// (stream 0), the stream gorgonia's kernels, cuBLAS and the synchronous
// copies use, so kernels run in call order and in order with them; an error
// of a kernel's execution shows up at the next synchronizing call (Sync, a
// copy to the host). Methods take device pointers (cu.DevicePtr) to float32
// tensors, row-major as in internal/kernel, and to int64 (Go int) tensors
// for token ids, labels and buckets; a zero pointer stands for a nil slice
// where a doc comment allows one. Sizes must be non-negative and below 2³¹.
//
// A Launcher is not safe for concurrent use (it owns a scratch buffer that
// some backward kernels use between launches).
type Launcher struct {
	do      func(func() error) error // runs f with the context current
	fns     [numKernels]cu.Function
	mod     cu.Module // the module Load loaded, zero for FromEngine
	loaded  bool
	scratch cu.DevicePtr
	size    int64
}

// Load loads the embedded module into ctx (a *cu.Ctx or gorgonia's
// *cu.BatchedContext) and returns a Launcher that runs its kernels there.
// All its work (loading, launches, scratch memory) goes through ctx.Do, so
// a Context whose Do runs the work right away, for a caller already on the
// context's thread, works as well. Close unloads the module.
func Load(ctx cu.Context) (*Launcher, error) {
	l := &Launcher{do: doer(ctx)}
	err := l.do(func() error {
		mod, err := cu.LoadData(PTX)
		if err != nil {
			return fmt.Errorf("kernels: loading the genq PTX module: %w (a driver older than CUDA 11.8's or a GPU older than Volta cannot)", err)
		}
		l.mod, l.loaded = mod, true
		for i, name := range kernelNames {
			if l.fns[i], err = mod.Function(name); err != nil {
				return fmt.Errorf("kernels: the genq module has no kernel %s: %w (regenerate genq.ptx with gen.sh)", name, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

// FromEngine returns a Launcher over the kernels a gorgonia CUDA engine has
// loaded: gorgonia loads its CUDA standard library into every engine of a
// CUDA TapeMachine, and internal/cuda adds this module to it (as
// ModuleName). Use it from an op's CUDADo with the machine's engine; it
// flushes the engine's batched calls before each launch.
func FromEngine(e *gcuda.Engine) (*Launcher, error) {
	if e == nil {
		return nil, errors.New("kernels: FromEngine of a nil engine")
	}
	l := &Launcher{do: doer(e.Context())}
	fns := e.Functions()
	for i, name := range kernelNames {
		fn, ok := fns[ModuleName+"."+name]
		if !ok {
			return nil, fmt.Errorf("kernels: the CUDA engine has no %s.%s: the genq module is registered by internal/cuda when cuda.Enabled reports true; create the machine after that", ModuleName, name)
		}
		l.fns[i] = fn
	}
	return l, nil
}

// doer returns how to run work with ctx current: ctx.Do, after flushing a
// batched context's queue so that its calls keep their order with ours.
func doer(ctx cu.Context) func(func() error) error {
	if b, ok := ctx.(*cu.BatchedContext); ok {
		return func(f func() error) error {
			b.DoWork()
			if err := b.Errors(); err != nil {
				return fmt.Errorf("kernels: an earlier batched CUDA call failed: %w", err)
			}
			return b.Do(f)
		}
	}
	return ctx.Do
}

// Close frees the Launcher's scratch memory and unloads the module Load
// loaded (a Launcher from FromEngine leaves the engine's module alone).
func (l *Launcher) Close() error {
	if l == nil || l.do == nil {
		return nil
	}
	err := l.do(func() error {
		var errs []error
		if l.scratch != 0 {
			errs = append(errs, cu.Synchronize(), cu.MemFree(l.scratch))
			l.scratch, l.size = 0, 0
		}
		if l.loaded {
			errs = append(errs, l.mod.Unload())
			l.loaded = false
		}
		return errors.Join(errs...)
	})
	l.do = nil
	if err != nil {
		return fmt.Errorf("kernels: closing the launcher: %w", err)
	}
	return nil
}

// Sync waits until every kernel launched so far has finished, and returns
// the first error of their execution.
func (l *Launcher) Sync() error {
	if err := l.ready(); err != nil {
		return err
	}
	if err := l.do(cu.Synchronize); err != nil {
		return fmt.Errorf("kernels: a kernel failed on the device: %w", err)
	}
	return nil
}

func (l *Launcher) ready() error {
	if l == nil || l.do == nil {
		return errors.New("kernels: the launcher is closed")
	}
	return nil
}

// scratchPtr returns device scratch memory of at least n bytes, valid until
// the next call; it grows the buffer when too small, freeing the old one
// once the kernels launched so far (which may use it) have finished.
func (l *Launcher) scratchPtr(n int64) (cu.DevicePtr, error) {
	if n <= l.size {
		return l.scratch, nil
	}
	err := l.do(func() error {
		if l.scratch != 0 {
			if err := cu.Synchronize(); err != nil {
				return err
			}
			if err := cu.MemFree(l.scratch); err != nil {
				return err
			}
			l.scratch, l.size = 0, 0
		}
		p, err := cu.MemAlloc(n)
		if err != nil {
			return err
		}
		l.scratch, l.size = p, n
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("kernels: allocating %d bytes of scratch memory: %w", n, err)
	}
	return l.scratch, nil
}

// dims is a launch's grid or block shape.
type dims [3]int

// launch runs kernel k over grid × blk with args, each a cu.DevicePtr, int
// (passed as a C int), float32 or float64 (a C float).
func (l *Launcher) launch(k entry, grid, blk dims, args ...any) error {
	if err := l.ready(); err != nil {
		return err
	}
	for _, g := range grid {
		if g == 0 {
			return nil // nothing to do
		}
	}
	slots := make([]uint64, len(args))
	ptrs := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case cu.DevicePtr:
			slots[i] = uint64(v)
		case int:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return fmt.Errorf("kernels: %s: argument %d is %d, beyond a C int", kernelNames[k], i, v)
			}
			slots[i] = uint64(uint32(int32(v)))
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = uint64(math.Float32bits(float32(v)))
		default:
			return fmt.Errorf("kernels: %s: argument %d of unsupported type %T", kernelNames[k], i, a)
		}
		ptrs[i] = unsafe.Pointer(&slots[i])
	}
	fn := l.fns[k]
	err := l.do(func() error {
		return fn.Launch(grid[0], grid[1], grid[2], blk[0], blk[1], blk[2], 0, cu.NoStream, ptrs)
	})
	if err != nil {
		return fmt.Errorf("kernels: launching %s (grid %v, block %v): %w", kernelNames[k], grid, blk, err)
	}
	return nil
}

// rowBlock is the block size of a kernel that reduces rows of width d: the
// power of two from 32 to block nearest above d.
func rowBlock(d int) dims {
	b := 32
	for b < d && b < block {
		b *= 2
	}
	return dims{b, 1, 1}
}

// elemGrid is the grid of an elementwise kernel over n values (the kernels
// loop over the grid's stride).
func elemGrid(n int) dims { return dims{min((n+block-1)/block, 1<<16), 1, 1} }

// checkSizes reports a negative size or one of 2³¹ or more.
func checkSizes(what string, sizes ...int) error {
	for _, s := range sizes {
		if s < 0 || s > math.MaxInt32 {
			return fmt.Errorf("kernels: %s: size %d outside [0, 2³¹)", what, s)
		}
	}
	return nil
}

// need reports a zero pointer among required operands.
func need(what string, ptrs ...cu.DevicePtr) error {
	for i, p := range ptrs {
		if p == 0 {
			return fmt.Errorf("kernels: %s: required operand %d is a null device pointer", what, i)
		}
	}
	return nil
}
