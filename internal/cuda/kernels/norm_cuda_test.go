//go:build cuda

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/cu"

	"github.com/genq-go/genq/internal/kernel"
)

func TestRMSNorm(t *testing.T) {
	dev := newDevice(t)
	const eps = 1e-6
	for _, s := range rowShapes {
		t.Run(fmt.Sprintf("%dx%d", s.rows, s.d), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(s.rows*s.d)))
			n := s.rows * s.d
			x, w, dy := randoms(r, n, -2, 2), randoms(r, s.d, 0.5, 1.5), randoms(r, n, -1, 1)
			xd, wd, dyd := upload(dev, x), upload(dev, w), upload(dev, dy)

			want := make([]float64, n)
			kernel.RMSNorm(want, f64(x), f64(w), float64(float32(eps)))
			out := dev.floats(n)
			require.NoError(t, dev.l.RMSNorm(out, xd, wd, s.rows, s.d, eps))
			requireClose(t, "rmsnorm", dev.read(out, n), want)

			wdx, wdw := make([]float64, n), make([]float64, s.d)
			kernel.RMSNormBackward(wdx, wdw, f64(x), f64(w), f64(dy), float64(float32(eps)))
			dx, dw := dev.floats(n), dev.floats(s.d)
			require.NoError(t, dev.l.RMSNormBackward(dx, dw, xd, wd, dyd, s.rows, s.d, eps))
			requireClose(t, "rmsnorm dx", dev.read(dx, n), wdx)
			requireClose(t, "rmsnorm dw", dev.read(dw, s.d), wdw)

			// in place: dst = x
			require.NoError(t, dev.l.RMSNorm(xd, xd, wd, s.rows, s.d, eps))
			requireClose(t, "rmsnorm in place", dev.read(xd, n), want)
		})
	}
}

func TestSoftmax(t *testing.T) {
	dev := newDevice(t)
	for _, s := range rowShapes {
		t.Run(fmt.Sprintf("%dx%d", s.rows, s.d), func(t *testing.T) {
			r := rand.New(rand.NewPCG(2, uint64(s.rows*s.d)))
			n := s.rows * s.d
			x, dy := randoms(r, n, -8, 8), randoms(r, n, -1, 1)
			if n > 2 {
				x[1] = kernel.MaskedValue // a masked score, as attention adds them
			}
			xd, dyd := upload(dev, x), upload(dev, dy)

			y := make([]float64, n)
			kernel.Softmax(y, f64(x), s.d)
			out := dev.floats(n)
			require.NoError(t, dev.l.Softmax(out, xd, s.rows, s.d))
			got := dev.read(out, n)
			requireClose(t, "softmax", got, y)

			// the backward pass from the device's output, as a graph runs it
			want := make([]float64, n)
			kernel.SoftmaxBackward(want, f64(got), f64(dy), s.d)
			dx := dev.floats(n)
			require.NoError(t, dev.l.SoftmaxBackward(dx, out, dyd, s.rows, s.d))
			requireClose(t, "softmax dx", dev.read(dx, n), want)

			ls := make([]float64, n)
			kernel.LogSoftmax(ls, f64(x), s.d)
			require.NoError(t, dev.l.LogSoftmax(out, xd, s.rows, s.d))
			got = dev.read(out, n)
			requireClose(t, "log-softmax", got, ls)

			kernel.LogSoftmaxBackward(want, f64(got), f64(dy), s.d)
			require.NoError(t, dev.l.LogSoftmaxBackward(dyd, out, dyd, s.rows, s.d)) // dx = dy in place
			requireClose(t, "log-softmax dx", dev.read(dyd, n), want)
		})
	}
}

func TestLayerNorm(t *testing.T) {
	dev := newDevice(t)
	const eps = 1e-12 // BERT's
	for _, s := range rowShapes {
		for _, residual := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d/residual=%v", s.rows, s.d, residual), func(t *testing.T) {
				r := rand.New(rand.NewPCG(3, uint64(s.rows*s.d)))
				n := s.rows * s.d
				x, w, b, dy := randoms(r, n, -2, 3), randoms(r, s.d, 0.5, 1.5), randoms(r, s.d, -1, 1), randoms(r, n, -1, 1)
				var res []float32
				var res64 []float64
				resd := cu.DevicePtr(0)
				if residual {
					res = randoms(r, n, -1, 1)
					resd = upload(dev, res)
					// the Go kernel rounds x + res to float32 (its T) first
					res64 = make([]float64, n)
					for i := range res {
						res64[i] = float64(x[i]+res[i]) - float64(x[i])
					}
				}
				xd, wd, bd, dyd := upload(dev, x), upload(dev, w), upload(dev, b), upload(dev, dy)

				want := make([]float64, n)
				kernel.LayerNorm(want, f64(x), res64, f64(w), f64(b), float64(float32(eps)))
				out := dev.floats(n)
				require.NoError(t, dev.l.LayerNorm(out, xd, resd, wd, bd, s.rows, s.d, eps))
				requireClose(t, "layernorm", dev.read(out, n), want)

				wdx, wdw, wdb := make([]float64, n), make([]float64, s.d), make([]float64, s.d)
				kernel.LayerNormBackward(wdx, wdw, wdb, f64(x), res64, f64(w), f64(dy), float64(float32(eps)))
				dx, dw, db := dev.floats(n), dev.floats(s.d), dev.floats(s.d)
				require.NoError(t, dev.l.LayerNormBackward(dx, dw, db, xd, resd, wd, dyd, s.rows, s.d, eps))
				requireClose(t, "layernorm dx", dev.read(dx, n), wdx)
				requireClose(t, "layernorm dw", dev.read(dw, s.d), wdw)
				requireClose(t, "layernorm db", dev.read(db, s.d), wdb)

				// dw alone (the row pass writes only statistics), then db alone
				dw2, db2 := dev.floats(s.d), dev.floats(s.d)
				require.NoError(t, dev.l.LayerNormBackward(0, dw2, 0, xd, resd, wd, dyd, s.rows, s.d, eps))
				require.NoError(t, dev.l.LayerNormBackward(0, 0, db2, xd, resd, wd, dyd, s.rows, s.d, eps))
				requireClose(t, "layernorm dw alone", dev.read(dw2, s.d), wdw)
				requireClose(t, "layernorm db alone", dev.read(db2, s.d), wdb)

				sum := make([]float64, s.d)
				kernel.SumRows(sum, f64(x))
				require.NoError(t, dev.l.SumRows(db, xd, s.rows, s.d))
				requireClose(t, "sum rows", dev.read(db, s.d), sum)
			})
		}
	}
}
