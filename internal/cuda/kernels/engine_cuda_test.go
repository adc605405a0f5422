//go:build cuda

package kernels_test

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	gcuda "gorgonia.org/gorgonia/cuda"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/cuda/kernels"
	"github.com/genq-go/genq/internal/kernel"
)

// TestFromEngine checks that every CUDA TapeMachine loads the genq module
// (internal/cuda registers it with gorgonia's standard library) and that a
// Launcher made from the machine's engine runs a kernel there.
func TestFromEngine(t *testing.T) {
	require.True(t, cuda.Enabled(), "the GPU is not usable: %v", cuda.Err())
	runtime.LockOSThread() // the machine's context is current on this thread only
	defer runtime.UnlockOSThread()

	g := G.NewGraph()
	a := G.NewMatrix(g, G.Float32, G.WithShape(2, 3), G.WithName("a"), G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))))
	b := G.NewMatrix(g, G.Float32, G.WithShape(3, 2), G.WithName("b"), G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 0, 0, 1, 1, 1}))))
	G.Must(G.Mul(a, b)) // one cuBLAS op, so that the machine creates its engine
	vm, err := cuda.NewTapeMachine(g)
	require.NoError(t, err)
	defer vm.Close()
	cm, ok := vm.(G.CUDAMachine)
	require.True(t, ok, "a %T is not gorgonia's CUDA machine", vm)
	e := &cm.Engines()[0]

	l, err := kernels.FromEngine(e)
	require.NoError(t, err)
	defer l.Close()

	const rows, d, eps = 3, 5, 1e-6
	x := []float32{1, -2, 3, 0.5, 0, 2, 2, 2, 2, 2, -1, 0, 1, 0, -1}
	w := []float32{1, 0.5, 2, 1, -1}
	var mem []cu.DevicePtr // freed before the machine closes its context
	defer func() {
		for _, p := range mem {
			require.NoError(t, e.Context().Do(func() error { return cu.MemFree(p) }))
		}
	}()
	xd, wd, out := engineUpload(t, e, x), engineUpload(t, e, w), engineUpload(t, e, make([]float32, rows*d))
	mem = append(mem, xd, wd, out)
	require.NoError(t, l.RMSNorm(out, xd, wd, rows, d, eps))
	require.NoError(t, l.Sync())
	got := make([]float32, rows*d)
	require.NoError(t, e.Context().Do(func() error {
		return cu.MemcpyDtoH(unsafe.Pointer(&got[0]), out, int64(4*len(got)))
	}))
	want := make([]float32, rows*d)
	kernel.RMSNorm(want, x, w, eps)
	require.InDeltaSlice(t, want, got, 1e-6)
}

// engineUpload copies v to device memory allocated in e's context.
func engineUpload(t *testing.T, e *gcuda.Engine, v []float32) cu.DevicePtr {
	t.Helper()
	var p cu.DevicePtr
	require.NoError(t, e.Context().Do(func() error {
		var err error
		if p, err = cu.MemAlloc(int64(4 * len(v))); err != nil {
			return err
		}
		return cu.MemcpyHtoD(p, unsafe.Pointer(&v[0]), int64(4*len(v)))
	}))
	return p
}
