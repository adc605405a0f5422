//go:build cuda

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"gorgonia.org/cu"
)

// Tolerances of the device kernels against internal/kernel in float64 on the
// same float32 inputs: |device − reference| ≤ tolAbs + tolRel·|reference|.
// The kernels round to float32 once per result (reductions in double), so
// they land within a few float32 ulps.
const (
	tolAbs = 1e-5
	tolRel = 1e-5
)

// device is a CUDA context on device 0 with a Launcher loaded into it, and
// the device memory a test allocates (freed at cleanup).
type device struct {
	t   *testing.T
	ctx *cu.Ctx
	l   *Launcher
}

// newDevice creates a context on device 0 and loads the kernels.
func newDevice(t *testing.T) *device {
	t.Helper()
	var ctx *cu.Ctx
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("creating a CUDA context on device 0: %v", r)
			}
		}()
		ctx = cu.NewContext(cu.Device(0), cu.SchedAuto)
	}()
	l, err := Load(ctx)
	require.NoError(t, err)
	d := &device{t: t, ctx: ctx, l: l}
	t.Cleanup(func() {
		require.NoError(t, l.Close())
		require.NoError(t, ctx.Close())
	})
	return d
}

// alloc returns n bytes of device memory, freed at cleanup.
func (d *device) alloc(n int) cu.DevicePtr {
	d.t.Helper()
	p, err := d.ctx.MemAlloc(int64(max(n, 1)))
	require.NoError(d.t, err)
	d.t.Cleanup(func() { d.ctx.MemFree(p) })
	return p
}

// upload copies v to new device memory.
func upload[T any](d *device, v []T) cu.DevicePtr {
	d.t.Helper()
	var z T
	n := len(v) * int(unsafe.Sizeof(z))
	p := d.alloc(n)
	if n > 0 {
		d.ctx.MemcpyHtoD(p, unsafe.Pointer(&v[0]), int64(n))
		require.NoError(d.t, d.ctx.Error())
	}
	return p
}

// floats returns n float32s of device memory holding NaN, so that a value a
// kernel should write and does not shows.
func (d *device) floats(n int) cu.DevicePtr {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return upload(d, v)
}

// read waits for the launched kernels and copies n float32s back.
func (d *device) read(p cu.DevicePtr, n int) []float32 {
	d.t.Helper()
	require.NoError(d.t, d.l.Sync())
	v := make([]float32, n)
	if n > 0 {
		d.ctx.MemcpyDtoH(unsafe.Pointer(&v[0]), p, int64(4*n))
		require.NoError(d.t, d.ctx.Error())
	}
	return v
}

// randoms returns n float32s uniform in [lo, hi) from r.
func randoms(r *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return v
}

// f64 widens float32s.
func f64(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// requireClose checks got against want within tolAbs + tolRel·|want| (NaN
// only where want is NaN) and logs the largest difference.
func requireClose(t *testing.T, name string, got []float32, want []float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	worst, at := 0.0, -1
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) || math.IsNaN(g) {
			require.True(t, math.IsNaN(w) && math.IsNaN(g), "%s[%d]: device %v, reference %v", name, i, g, w)
			continue
		}
		diff := math.Abs(g - w)
		require.LessOrEqual(t, diff, tolAbs+tolRel*math.Abs(w), "%s[%d]: device %v, reference %v", name, i, g, w)
		if diff > worst {
			worst, at = diff, i
		}
	}
	t.Logf("%s: max |Δ| %.3g (at %d of %d)", name, worst, at, len(want))
}

// rowShapes are the (rows, width) cases of the row kernels: widths below,
// at and above a block, odd ones, and an empty batch.
var rowShapes = []struct{ rows, d int }{
	{1, 1}, {3, 7}, {5, 64}, {4, 256}, {2, 300}, {3, 1030}, {0, 16},
}

// unsafePointer returns the address of v's first element (v not empty).
func unsafePointer(v []float32) unsafe.Pointer { return unsafe.Pointer(&v[0]) }
