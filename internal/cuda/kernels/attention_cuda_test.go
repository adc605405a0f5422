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

// attentionCase is one configuration of TestAttention: the attention, how
// many values each operand holds, and whether q, k and v (and their
// gradients) are one fused tensor.
type attentionCase struct {
	name                   string
	a                      Attention
	nq, nk, nv, nout, nb   int // operand sizes; nb 0 for no bias
	fused, dropout, masked bool
}

func attentionCases() []attentionCase {
	var cs []attentionCase
	{ // BERT self-attention: fused q|k|v, padding mask broadcast over heads and queries
		const b, h, s, hd = 2, 3, 9, 8
		ld := 3 * h * hd
		cs = append(cs, attentionCase{
			name: "bert fused qkv", fused: true, masked: true,
			a: Attention{Batch: b, Heads: h, Queries: s, Keys: s, HeadDim: hd, Scale: 1 / math.Sqrt(hd),
				Q: kernel.Rows(s, ld, 0, hd), K: kernel.Rows(s, ld, h*hd, hd), V: kernel.Rows(s, ld, 2*h*hd, hd),
				Out: kernel.Rows(s, h*hd, 0, hd), Bias: kernel.Layout{Batch: s}},
			nq: b * s * ld, nk: b * s * ld, nv: b * s * ld, nout: b * s * h * hd, nb: b * s,
		})
	}
	{ // T5 cross-attention with position bias blocks and dropout, S ≠ T
		const b, h, s, t, hd = 2, 4, 5, 11, 16
		cs = append(cs, attentionCase{
			name: "t5 cross dropout", dropout: true,
			a: Attention{Batch: b, Heads: h, Queries: s, Keys: t, HeadDim: hd, Scale: 1, KeepScale: 1 / 0.9,
				Q: kernel.Rows(s, h*hd, 0, hd), K: kernel.Rows(t, 2*h*hd, 0, hd), V: kernel.Rows(t, 2*h*hd, h*hd, hd),
				Out: kernel.Rows(s, h*hd, 0, hd), Bias: kernel.Blocks(h, s, t)},
			nq: b * s * h * hd, nk: b * t * 2 * h * hd, nv: b * t * 2 * h * hd, nout: b * s * h * hd, nb: b * h * s * t,
		})
	}
	{ // a cached decoder step: one query, keys in cache blocks of 12 slots, 7 filled
		const b, h, slots, keys, hd = 3, 2, 12, 7, 32
		cs = append(cs, attentionCase{
			name: "decoder step cache",
			a: Attention{Batch: b, Heads: h, Queries: 1, Keys: keys, HeadDim: hd, Scale: 1,
				Q: kernel.Rows(1, h*hd, 0, hd), K: kernel.Blocks(h, slots, hd), V: kernel.Blocks(h, slots, hd),
				Out: kernel.Rows(1, h*hd, 0, hd), Bias: kernel.Layout{Head: slots}},
			nq: b * h * hd, nk: b * h * slots * hd, nv: b * h * slots * hd, nout: b * h * hd, nb: h * slots,
		})
	}
	{ // long keys (more than a block of threads), no bias, head dim 64
		const b, h, s, t, hd = 1, 2, 3, 600, 64
		cs = append(cs, attentionCase{
			name: "600 keys no bias", masked: true,
			a: Attention{Batch: b, Heads: h, Queries: s, Keys: t, HeadDim: hd, Scale: 0.125,
				Q: kernel.Blocks(h, s, hd), K: kernel.Blocks(h, t, hd), V: kernel.Blocks(h, t, hd),
				Out: kernel.Blocks(h, s, hd)},
			nq: b * h * s * hd, nk: b * h * t * hd, nv: b * h * t * hd, nout: b * h * s * hd,
		})
	}
	{ // the limits: MaxKeys keys (a forward tile of 3 rows), MaxHeadDim, dropout
		const b, h, s, t, hd = 1, 1, 7, MaxKeys, MaxHeadDim
		cs = append(cs, attentionCase{
			name: "max keys and head dim", dropout: true,
			a: Attention{Batch: b, Heads: h, Queries: s, Keys: t, HeadDim: hd, Scale: 1 / 16.0, KeepScale: 1 / 0.9,
				Q: kernel.Blocks(h, s, hd), K: kernel.Blocks(h, t, hd), V: kernel.Blocks(h, t, hd),
				Out: kernel.Blocks(h, s, hd), Bias: kernel.Blocks(h, s, t)},
			nq: b * h * s * hd, nk: b * h * t * hd, nv: b * h * t * hd, nout: b * h * s * hd, nb: b * h * s * t,
		})
	}
	return cs
}

func TestAttention(t *testing.T) {
	dev := newDevice(t)
	for ci, c := range attentionCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(ci)))
			a := c.a
			ref := kernel.Attention{Batch: a.Batch, Heads: a.Heads, Queries: a.Queries, Keys: a.Keys, HeadDim: a.HeadDim,
				Scale: a.Scale, Q: a.Q, K: a.K, V: a.V, Out: a.Out, Bias: a.Bias, KeepScale: a.KeepScale}
			q := randoms(r, c.nq, -1, 1)
			k, v := q, q
			if !c.fused {
				k, v = randoms(r, c.nk, -1, 1), randoms(r, c.nv, -1, 1)
			}
			dout := randoms(r, c.nout, -1, 1)
			var bias []float32
			var bias64 []float64
			biasd := cu.DevicePtr(0)
			if c.nb > 0 {
				bias = randoms(r, c.nb, -2, 2)
				if c.masked {
					bias[1] = kernel.MaskedValue
				}
				bias64, biasd = f64(bias), upload(dev, bias)
			}
			keepd := cu.DevicePtr(0)
			if c.dropout {
				ref.Keep = make([]bool, a.Batch*a.Heads*a.Queries*a.Keys)
				for i := range ref.Keep {
					ref.Keep[i] = r.Float64() >= 0.1
				}
				keepd = upload(dev, ref.Keep)
			}
			qd, kd, vd := upload(dev, q), upload(dev, k), upload(dev, v)
			if c.fused {
				kd, vd = qd, qd
			}
			doutd := upload(dev, dout)

			want := make([]float64, c.nout)
			q64, k64, v64 := f64(q), f64(k), f64(v)
			require.NoError(t, kernel.Attend(&ref, want, q64, k64, v64, bias64))
			out := dev.floats(c.nout)
			require.NoError(t, dev.l.Attend(&a, out, qd, kd, vd, biasd, keepd))
			requireClose(t, "attention", dev.read(out, c.nout), want)

			// gradients: separate tensors, or one for a fused projection
			nd := a.Batch * a.Heads * a.Queries * a.Keys
			wdq, wdk, wdv, wdb := make([]float64, c.nq), make([]float64, c.nk), make([]float64, c.nv), make([]float64, nd)
			if c.fused {
				wdk, wdv = wdq, wdq
			}
			require.NoError(t, kernel.AttendBackward(&ref, wdq, wdk, wdv, wdb, q64, k64, v64, bias64, f64(dout)))
			dq, dk, dv, db := dev.floats(c.nq), dev.floats(c.nk), dev.floats(c.nv), dev.floats(nd)
			if c.fused {
				dk, dv = dq, dq
			}
			require.NoError(t, dev.l.AttendBackward(&a, dq, dk, dv, db, qd, kd, vd, biasd, keepd, doutd))
			if !c.fused { // rows no head reads stay NaN on the device and 0 in the reference
				zeroOutside(t, dev, a.K, a, a.Keys, dk, c.nk, wdk)
				zeroOutside(t, dev, a.V, a, a.Keys, dv, c.nv, wdv)
			}
			requireClose(t, "attention dq", dev.read(dq, c.nq), wdq)
			requireClose(t, "attention dk", dev.read(dk, c.nk), wdk)
			requireClose(t, "attention dv", dev.read(dv, c.nv), wdv)
			requireClose(t, "attention dbias", dev.read(db, nd), wdb)

			if !c.fused { // one gradient at a time: dk alone, then dv alone
				dk1, dv1 := dev.floats(c.nk), dev.floats(c.nv)
				require.NoError(t, dev.l.AttendBackward(&a, 0, dk1, 0, 0, qd, kd, vd, biasd, keepd, doutd))
				require.NoError(t, dev.l.AttendBackward(&a, 0, 0, dv1, 0, qd, kd, vd, biasd, keepd, doutd))
				zeroOutside(t, dev, a.K, a, a.Keys, dk1, c.nk, wdk)
				zeroOutside(t, dev, a.V, a, a.Keys, dv1, c.nv, wdv)
				requireClose(t, "attention dk alone", dev.read(dk1, c.nk), wdk)
				requireClose(t, "attention dv alone", dev.read(dv1, c.nv), wdv)
			}
		})
	}
}

// zeroOutside clears, on the device, the elements of a gradient in layout l
// that no head row covers (cache slots beyond Keys), which neither the
// device nor the reference writes, after checking that the device left
// them alone.
func zeroOutside(t *testing.T, dev *device, l kernel.Layout, a Attention, rows int, g cu.DevicePtr, n int, want []float64) {
	covered := make([]bool, n)
	for b := 0; b < a.Batch; b++ {
		for h := 0; h < a.Heads; h++ {
			for i := 0; i < rows; i++ {
				at := l.Off + b*l.Batch + h*l.Head + i*l.Row
				for j := 0; j < a.HeadDim; j++ {
					covered[at+j] = true
				}
			}
		}
	}
	got := dev.read(g, n)
	for i, c := range covered {
		if !c {
			require.True(t, math.IsNaN(float64(got[i])), "element %d outside every head row was written", i)
			require.Zero(t, want[i])
			got[i] = 0
		}
	}
	dev.ctx.MemcpyHtoD(g, unsafePointer(got), int64(4*n))
	require.NoError(t, dev.ctx.Error())
}
