//go:build cuda

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/cu"

	"github.com/genq-go/genq/internal/kernel"
)

func TestActivations(t *testing.T) {
	dev := newDevice(t)
	r := rand.New(rand.NewPCG(4, 4))
	const n = 3001 // more than one block, not a multiple of one
	x, b, dy := randoms(r, n, -6, 6), randoms(r, n, -2, 2), randoms(r, n, -1, 1)
	x[0], x[1], x[2] = 0, float32(math.Copysign(0, -1)), 1e-30
	xd, bd, dyd := upload(dev, x), upload(dev, b), upload(dev, dy)
	x64, b64, dy64 := f64(x), f64(b), f64(dy)

	type unary struct {
		name    string
		fwd     func(dst, x cu.DevicePtr, n int) error
		bwd     func(dx, x, dy cu.DevicePtr, n int) error
		ref     func(dst, x []float64)
		refGrad func(dx, x, dy []float64)
	}
	for _, c := range []unary{
		{"relu", dev.l.ReLU, dev.l.ReLUBackward, kernel.ReLU[float64], kernel.ReLUBackward[float64]},
		{"gelu", dev.l.GELU, dev.l.GELUBackward, kernel.GELU[float64], kernel.GELUBackward[float64]},
		{"gelu_new", dev.l.GELUNew, dev.l.GELUNewBackward, kernel.GELUNew[float64], kernel.GELUNewBackward[float64]},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := make([]float64, n)
			c.ref(want, x64)
			out := dev.floats(n)
			require.NoError(t, c.fwd(out, xd, n))
			requireClose(t, c.name, dev.read(out, n), want)

			c.refGrad(want, x64, dy64)
			require.NoError(t, c.bwd(out, xd, dyd, n))
			requireClose(t, c.name+" dx", dev.read(out, n), want)
		})
	}

	t.Run("relu signs", func(t *testing.T) {
		v := []float32{float32(math.Copysign(0, -1)), float32(math.NaN()), -1, 2}
		vd, out := upload(dev, v), dev.floats(len(v))
		require.NoError(t, dev.l.ReLU(out, vd, len(v)))
		got := dev.read(out, len(v))
		require.Equal(t, uint32(0), math.Float32bits(got[0]), "relu(−0) is +0")
		require.True(t, math.IsNaN(float64(got[1])), "relu(NaN) is NaN")
		require.Equal(t, []float32{0, 2}, got[2:])
	})

	t.Run("gated gelu_new", func(t *testing.T) {
		want := make([]float64, n)
		kernel.GatedGELUNew(want, x64, b64)
		out := dev.floats(n)
		require.NoError(t, dev.l.GatedGELUNew(out, xd, bd, n))
		requireClose(t, "gated gelu_new", dev.read(out, n), want)

		// da = dy·b·gelu_new'(a), db = dy·gelu_new(a)
		wda, wdb := make([]float64, n), make([]float64, n)
		bdy := make([]float64, n)
		for i := range bdy {
			bdy[i] = b64[i] * dy64[i]
		}
		kernel.GELUNewBackward(wda, x64, bdy)
		kernel.GELUNew(wdb, x64)
		for i := range wdb {
			wdb[i] *= dy64[i]
		}
		da, db := dev.floats(n), dev.floats(n)
		require.NoError(t, dev.l.GatedGELUNewBackward(da, db, xd, bd, dyd, n))
		requireClose(t, "gated gelu_new da", dev.read(da, n), wda)
		requireClose(t, "gated gelu_new db", dev.read(db, n), wdb)
		dyc := upload(dev, dy)
		require.NoError(t, dev.l.GatedGELUNewBackward(0, dyc, xd, bd, dyc, n)) // db in place of dy
		requireClose(t, "gated gelu_new db in place", dev.read(dyc, n), wdb)
	})

	t.Run("fill", func(t *testing.T) {
		out := dev.floats(n)
		require.NoError(t, dev.l.Fill(out, n, 0.25))
		want := make([]float64, n)
		for i := range want {
			want[i] = 0.25
		}
		requireClose(t, "fill", dev.read(out, n), want)
	})
}
