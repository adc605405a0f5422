//go:build cuda

package cuda

import (
	"fmt"

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
