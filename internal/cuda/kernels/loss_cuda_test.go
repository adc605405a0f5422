//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/cu"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/kernel"
)

func TestCrossEntropy(t *testing.T) {
	dev := newDevice(t)
	for _, c := range []struct {
		rows, v int
		ignore  []int // rows whose label is IgnoreIndex
	}{
		{1, 5, nil}, {7, 300, []int{2, 5}}, {4, 1030, []int{0}}, {3, 16, []int{0, 1, 2}},
	} {
		t.Run(fmt.Sprintf("%dx%d ignore %v", c.rows, c.v, c.ignore), func(t *testing.T) {
			r := rand.New(rand.NewPCG(8, uint64(c.rows*c.v)))
			logits := randoms(r, c.rows*c.v, -10, 10)
			labels := make([]int, c.rows)
			for i := range labels {
				labels[i] = r.IntN(c.v)
			}
			for _, i := range c.ignore {
				labels[i] = kernel.IgnoreIndex
			}
			ld, lab := upload(dev, logits), upload(dev, labels)
			want, err := kernel.CrossEntropy(f64(logits), labels, c.v)
			require.NoError(t, err)
			loss := dev.floats(1)
			require.NoError(t, dev.l.CrossEntropy(loss, ld, lab, c.rows, c.v))
			requireClose(t, "cross-entropy", dev.read(loss, 1), []float64{want})

			const dloss = 0.75
			wd := make([]float64, c.rows*c.v)
			kernel.CrossEntropyBackward(wd, f64(logits), labels, c.v, dloss)
			dl := dev.floats(c.rows * c.v)
			require.NoError(t, dev.l.CrossEntropyBackward(dl, ld, lab, c.rows, c.v, upload(dev, []float32{dloss})))
			requireClose(t, "cross-entropy dlogits", dev.read(dl, c.rows*c.v), wd)
		})
	}
	t.Run("label outside the vocabulary", func(t *testing.T) {
		loss := dev.floats(1)
		require.NoError(t, dev.l.CrossEntropy(loss, upload(dev, []float32{1, 2, 3}), upload(dev, []int{3}), 1, 3))
		require.True(t, math.IsNaN(float64(dev.read(loss, 1)[0])))
	})
}

func TestL2Normalize(t *testing.T) {
	dev := newDevice(t)
	for _, s := range rowShapes {
		t.Run(fmt.Sprintf("%dx%d", s.rows, s.d), func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, uint64(s.rows*s.d)))
			n := s.rows * s.d
			x, dy := randoms(r, n, -1, 1), randoms(r, n, -1, 1)
			if s.rows > 1 { // a row below the clamp
				for j := 0; j < s.d; j++ {
					x[j] = 1e-14
				}
			}
			xd, dyd := upload(dev, x), upload(dev, dy)
			want := make([]float64, n)
			kernel.L2Normalize(want, f64(x), s.d)
			out := dev.floats(n)
			require.NoError(t, dev.l.L2Normalize(out, xd, s.rows, s.d))
			requireClose(t, "l2 normalize", dev.read(out, n), want)

			kernel.L2NormalizeBackward(want, f64(x), f64(dy), s.d)
			require.NoError(t, dev.l.L2NormalizeBackward(dyd, xd, dyd, s.rows, s.d)) // dx = dy in place
			got := dev.read(dyd, n)
			if s.rows > 1 { // dy/1e-12 on the clamped row: relative tolerance only
				for j := 0; j < s.d; j++ {
					require.InEpsilon(t, want[j], float64(got[j]), tolRel)
				}
				got, want = got[s.d:], want[s.d:]
			}
			requireClose(t, "l2 normalize dx", got, want)
		})
	}
}

func TestAdamW(t *testing.T) {
	dev := newDevice(t)
	r := rand.New(rand.NewPCG(10, 10))
	const n = 1000
	data, grads := randoms(r, n, -1, 1), make([][]float32, 3)
	for i := range grads {
		grads[i] = randoms(r, n, -0.1, 0.1)
	}
	grads[1][0] = 0
	p := &optim.Param{Name: "w", Data: append([]float32(nil), data...)}
	const lr, wd = 2e-5, 0.01
	cfg := optim.DefaultConfig()
	opt, err := optim.NewAdamW(cfg, optim.Group{WeightDecay: wd, Params: []*optim.Param{p}})
	require.NoError(t, err)
	pd, m, v := upload(dev, data), upload(dev, make([]float32, n)), upload(dev, make([]float32, n))
	for step, g := range grads {
		p.Grad = g
		require.NoError(t, opt.Step(lr*float64(step+1)))
		require.NoError(t, dev.l.AdamW(pd, upload(dev, g), m, v, n, lr*float64(step+1), wd, cfg.Beta1, cfg.Beta2, cfg.Eps, step+1))
		// the same float32 operations in the same order: equal bit for bit
		require.Equal(t, p.Data, dev.read(pd, n), "step %d", step+1)
	}
	t.Logf("adamw: max |Δ| 0 over %d steps of %d parameters (bit for bit)", len(grads), n)
}

func TestClipGradNorm(t *testing.T) {
	dev := newDevice(t)
	r := rand.New(rand.NewPCG(11, 11))
	lens := []int{1000, 7, 0, 70000, 33}
	for _, maxNorm := range []float64{1, 1000} { // clipping, and a norm below the limit
		t.Run(fmt.Sprint(maxNorm), func(t *testing.T) {
			grads := make([][]float32, len(lens))
			ptrs := make([]cu.DevicePtr, len(lens))
			for i, n := range lens {
				grads[i] = randoms(r, n, -0.05, 0.05)
				ptrs[i] = upload(dev, grads[i])
			}
			grads = append(grads, nil) // a parameter without a gradient
			ptrs = append(ptrs, 0)
			lensAll := append(append([]int(nil), lens...), 0)
			want := optim.ClipGradNorm(grads, maxNorm)
			total := dev.floats(1)
			require.NoError(t, dev.l.ClipGradNorm(ptrs, lensAll, maxNorm, total))
			requireClose(t, "clip total norm", dev.read(total, 1), []float64{want})
			for i, n := range lens {
				requireClose(t, fmt.Sprintf("clipped gradient %d", i), dev.read(ptrs[i], n), f64(grads[i]))
			}
		})
	}
}
