//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"
	G "gorgonia.org/gorgonia"
	gcuda "gorgonia.org/gorgonia/cuda"
)

// NewTapeMachine creates a gorgonia TapeMachine for g, as G.NewTapeMachine
// does, and repairs how gorgonia v0.9.18 sets up cuBLAS on it: each CUDA
// engine creates its cuBLAS handle on its worker thread before any context is
// current there, so cuBLAS binds the handle to the device's primary context
// and runs every matrix product in that context, unordered with the kernels
// and copies the machine runs in its own context. NewTapeMachine re-creates
// each handle in the engine's own context, on the engine's worker thread.
//
// The calling goroutine must be locked to its OS thread
// (runtime.LockOSThread) and must also run and close the machine: gorgonia
// makes the machine's context current only on the thread that creates it,
// and the driver rejects calls made from other threads. Call RegisterKernels
// first. Where gorgonia panics (no device, too little memory, a kernel module
// the driver rejects), NewTapeMachine returns an error.
func NewTapeMachine(g *G.ExprGraph, opts ...G.VMOpt) (vm G.VM, err error) {
	defer func() {
		if r := recover(); r != nil {
			vm, err = nil, fmt.Errorf("cuda: creating gorgonia's CUDA TapeMachine: %v", r)
		}
	}()
	vm = G.NewTapeMachine(g, opts...)
	cm, ok := vm.(G.CUDAMachine)
	if !ok {
		return vm, nil
	}
	engines := cm.Engines() // gorgonia's own slice: &engines[i] is the engine itself
	for i := range engines {
		if err := rebindBLAS(&engines[i]); err != nil {
			vm.Close()
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
	}
	return vm, nil
}

// rebindBLAS re-creates e's cuBLAS handle in e's context. It runs on e's
// worker thread, where the handle was made and where cuBLAS left the primary
// context current. Destroying the old handle is best effort: should cuBLAS
// refuse, the handle is left behind (it holds a small workspace in the
// primary context) and the machine is still repaired.
func rebindBLAS(e *gcuda.Engine) error {
	ctx := e.Context()
	return ctx.Do(func() error {
		b := e.BLASContext()
		_ = b.Close()
		if err := cu.SetCurrentContext(ctx.CUDAContext()); err != nil {
			return fmt.Errorf("making the machine's context current on its worker thread: %w", err)
		}
		if err := b.Init(cublas.WithContext(ctx)); err != nil {
			return fmt.Errorf("creating a cuBLAS handle in the machine's context: %w", err)
		}
		return nil
	})
}

// device records, once per process, whether graphs run on the GPU.
var device struct {
	once sync.Once
	on   bool
	err  error
}

// Enabled reports whether genq runs its graphs on the GPU: the driver reports
// a device and gorgonia's kernels are registered (from $GENQ_CUDA_PTX, read
// on the first call, or by RegisterKernels before it). In a `cuda` build
// gorgonia places its own matrix and elementwise ops on the GPU in every
// graph, so there is no CPU mode to fall back to: when Enabled is false,
// NewMachine returns Err.
func Enabled() bool {
	device.once.Do(func() {
		if !Available() {
			device.err = errors.New("cuda: this is a `cuda` build of genq, which runs its graphs on a GPU, but the CUDA driver reports no device: run it where `nvidia-smi` lists one, or build without -tags cuda")
			return
		}
		if os.Getenv(KernelDirEnv) != "" {
			if _, err := RegisterKernelsFromEnv(); err != nil {
				device.err = err
				return
			}
		}
		registeredMu.Lock()
		n := len(registered)
		registeredMu.Unlock()
		if n == 0 {
			device.err = fmt.Errorf("cuda: no GPU kernels are registered: set %s to a folder of gorgonia's kernels (\"cuda modules/src/*.cu\") compiled with `nvcc -ptx` (scripts/gpu-check.sh makes one), or call RegisterKernels first", KernelDirEnv)
			return
		}
		device.on = true
	})
	return device.on
}

// Err reports why Enabled is false; nil when it is true.
func Err() error {
	Enabled()
	return device.err
}

// NewMachine returns gorgonia's CUDA TapeMachine for g (see NewTapeMachine),
// created, run and closed on an OS thread of its own, so callers may use it
// from any goroutine (one at a time, as any TapeMachine). It returns Err when
// the GPU cannot be used.
func NewMachine(g *G.ExprGraph) (G.VM, error) {
	if !Enabled() {
		return nil, Err()
	}
	d := &deviceVM{work: make(chan func())}
	ready := make(chan error)
	go d.loop(g, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return d, nil
}

// ReadBack adds to the graph, when Enabled, a host copy of each node (nil
// entries are skipped), made as soon as the node is computed, and returns
// the Reader that holds them; read values after a run with its Value. Call it
// before NewMachine. Without the GPU it adds nothing and returns nil, which
// reads the nodes' own values.
func ReadBack(nodes ...*G.Node) (*Reader, error) {
	if !Enabled() {
		return nil, nil
	}
	read := make([]*G.Node, len(nodes))
	for i, n := range nodes {
		if n == nil {
			continue
		}
		var err error
		if read[i], err = onDevice(n); err != nil {
			return nil, err
		}
	}
	return newReader(read)
}

// deviceVM runs a CUDA TapeMachine on one locked OS thread: gorgonia makes
// the machine's context current only on the thread that created it.
type deviceVM struct {
	vm   G.VM
	work chan func()
}

func (d *deviceVM) loop(g *G.ExprGraph, ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	vm, err := NewTapeMachine(g)
	if err != nil {
		ready <- err
		return
	}
	d.vm = vm
	ready <- nil
	for f := range d.work {
		f()
	}
}

// do runs f on the machine's thread, turning a panic into an error.
func (d *deviceVM) do(f func() error) error {
	if d.work == nil {
		return errors.New("cuda: the machine is closed")
	}
	done := make(chan error)
	d.work <- func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("cuda: gorgonia's CUDA machine panicked: %v", r)
			}
		}()
		done <- f()
	}
	return <-done
}

// RunAll runs the program once on the GPU.
func (d *deviceVM) RunAll() error { return d.do(d.vm.RunAll) }

// Reset rewinds the machine for the next run.
func (d *deviceVM) Reset() { _ = d.do(func() error { d.vm.Reset(); return nil }) }

// Close frees the machine's device memory and contexts and ends its thread.
func (d *deviceVM) Close() error {
	if d.work == nil {
		return nil
	}
	err := d.do(func() error {
		if cm, ok := d.vm.(G.CUDAMachine); ok {
			engines := cm.Engines()
			for i := range engines {
				engineClosed(&engines[i])
			}
		}
		return d.vm.Close()
	})
	close(d.work)
	d.work = nil
	return err
}

// closers are the functions OnEngineClose registered.
var closers struct {
	sync.Mutex
	fs []func(*gcuda.Engine)
}

// OnEngineClose registers f to run, on the machine's thread, for each CUDA
// engine of a machine NewMachine made when the machine closes, before
// gorgonia frees the engine's context: internal/nn frees the kernel
// launcher (and its device scratch memory) it keeps per engine.
func OnEngineClose(f func(e *gcuda.Engine)) {
	closers.Lock()
	defer closers.Unlock()
	closers.fs = append(closers.fs, f)
}

// engineClosed runs the OnEngineClose functions for e.
func engineClosed(e *gcuda.Engine) {
	closers.Lock()
	fs := closers.fs
	closers.Unlock()
	for _, f := range fs {
		f(e)
	}
}
