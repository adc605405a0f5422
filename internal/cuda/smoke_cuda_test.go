//go:build cuda

package cuda

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
)

// Sizes of the smoke graph: odd, so that a row/column-major or stride mix-up
// in the cuBLAS call cannot cancel out.
const smokeM, smokeK, smokeN = 33, 17, 9

// smokeTol bounds |gpu - cpu| for float32 results (relative to max(1, |cpu|)):
// cuBLAS and the kernels compute in float32, the reference in float64.
const smokeTol = 1e-5

// smokeInputs returns the fixed inputs x (m×k) and w (k×n), row-major.
func smokeInputs() (x, w []float32) {
	x = make([]float32, smokeM*smokeK)
	for i := range x {
		x[i] = float32(0.8 * math.Sin(0.37*float64(i)+0.1))
	}
	w = make([]float32, smokeK*smokeN)
	for i := range w {
		w[i] = float32(0.5 * math.Cos(0.11*float64(i)-0.3))
	}
	return x, w
}

// smokeGraph sets up the GPU (see setupGPU) and builds, in a new graph g,
// h = x·w and y = tanh(h) ⊙ h on the fixed inputs xs and ws.
func smokeGraph(t *testing.T) (g *G.ExprGraph, w, h, y *G.Node, xs, ws []float32) {
	t.Helper()
	setupGPU(t)
	xs, ws = smokeInputs()
	g = G.NewGraph()
	x := matrix(g, "x", smokeM, smokeK, xs)
	w = matrix(g, "w", smokeK, smokeN, ws)
	h = G.Must(G.Mul(x, w))
	y = G.Must(G.HadamardProd(G.Must(G.Tanh(h)), h))
	return g, w, h, y, xs, ws
}

// matrix is a float32 rows×cols input node of g holding a copy of v.
func matrix(g *G.ExprGraph, name string, rows, cols int, v []float32) *G.Node {
	return G.NewMatrix(g, G.Float32, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float32(nil), v...)))))
}

// cpuMatMul returns x·w in float64 for row-major x (m×k) and w (k×n).
func cpuMatMul(x, w []float32, m, k, n int) []float64 {
	h := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(x[i*k+p]) * float64(w[p*n+j])
			}
			h[i*n+j] = s
		}
	}
	return h
}

// setupGPU registers the kernels named by GENQ_CUDA_PTX and checks that the
// driver sees a device; it stops the test when either is missing.
//
// Callers lock their goroutine to its OS thread first: gorgonia's CUDA
// machine makes its context current only on the thread that creates it, and
// the driver rejects calls from other threads (CUDA_ERROR_INVALID_CONTEXT).
func setupGPU(t *testing.T) {
	t.Helper()
	_, err := RegisterKernelsFromEnv()
	require.NoError(t, err)
	require.True(t, Available(), "cuda: the driver reports no CUDA device")
}

// requireKernels fails the test unless device 0 of the machine loaded each
// named kernel: without them gorgonia's CUDA machine cannot run those ops on
// the GPU.
func requireKernels(t *testing.T, vm G.VM, names ...string) {
	t.Helper()
	cm, ok := vm.(G.CUDAMachine)
	require.True(t, ok, "the TapeMachine (%T) is not a gorgonia CUDAMachine: was the test built with -tags cuda?", vm)
	engines := cm.Engines()
	require.NotEmpty(t, engines, "the CUDA machine created no engine: none of the graph's ops was placed on the GPU")
	for _, name := range names {
		assert.True(t, engines[0].HasFunc(name), "device 0 has no kernel %q: is its module among the PTX files in $%s?", name, KernelDirEnv)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// runOnGPU runs g on a CUDA tape machine holding the smoke graph's kernels
// (see requireKernels), what naming the run, then check, before the machine
// is closed.
func runOnGPU(t *testing.T, g *G.ExprGraph, what string, check func()) {
	t.Helper()
	vm, err := NewTapeMachine(g)
	require.NoError(t, err)
	defer vm.Close()
	requireKernels(t, vm, "elemunaryop.tanh_f32", "elembinop.mul_vv_f32")
	require.NoError(t, vm.RunAll(), what)
	check()
}

func float32s(t *testing.T, name string, v G.Value) []float32 {
	t.Helper()
	d, ok := v.(*tensor.Dense)
	require.True(t, ok, "%s: value is %T, want *tensor.Dense", name, v)
	out, ok := d.Data().([]float32)
	require.True(t, ok, "%s: data is %T, want []float32", name, d.Data())
	return append([]float32(nil), out...)
}

// TestGraphOnGPU runs h = x·w (cuBLAS), y = tanh(h) ⊙ h (gorgonia's
// elemunaryop and elembinop kernels) on the GPU and compares h and y with a
// float64 CPU reference.
func TestGraphOnGPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g, _, h, y, xs, ws := smokeGraph(t)
	var hv, yv G.Value
	G.Read(h, &hv)
	G.Read(y, &yv)

	prog, _, err := G.Compile(g)
	require.NoError(t, err)
	t.Logf("compiled program:\n%v", prog)

	runOnGPU(t, g, "running the graph on the GPU", func() {
		want := cpuMatMul(xs, ws, smokeM, smokeK, smokeN)
		testutil.RelClose(t, "h = x·w (GPU against CPU)", float32s(t, "h", hv), want, smokeTol)
		for i, v := range want {
			want[i] = math.Tanh(v) * v
		}
		testutil.RelClose(t, "y = tanh(h)⊙h (GPU against CPU)", float32s(t, "y", yv), want, smokeTol)
	})
}

// TestGradientOnGPU backpropagates L = Σ tanh(x·w) ⊙ (x·w) on the GPU and
// compares dL/dw = xᵀ·(tanh(h) + h·(1 - tanh²(h))) with a CPU reference; the
// backward pass multiplies by a transposed matrix, which takes another cuBLAS
// path than the forward product.
func TestGradientOnGPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g, w, _, y, xs, ws := smokeGraph(t)
	loss := G.Must(G.Sum(y))
	grads, err := G.Grad(loss, w)
	require.NoError(t, err)
	var gv G.Value
	G.Read(grads[0], &gv)

	runOnGPU(t, g, "running the backward graph on the GPU", func() {
		hRef := cpuMatMul(xs, ws, smokeM, smokeK, smokeN)
		want := make([]float64, smokeK*smokeN)
		for i := 0; i < smokeM; i++ {
			for j := 0; j < smokeN; j++ {
				v := hRef[i*smokeN+j]
				th := math.Tanh(v)
				dh := th + v*(1-th*th)
				for p := 0; p < smokeK; p++ {
					want[p*smokeN+j] += float64(xs[i*smokeK+p]) * dh
				}
			}
		}
		testutil.RelClose(t, "dL/dw (GPU against CPU)", float32s(t, "dL/dw", gv), want, smokeTol)
	})
}
