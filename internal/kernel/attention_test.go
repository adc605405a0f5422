package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/stretchr/testify/require"
)

// naiveAttention is the obviously right attention over [B, H, S|T, D]
// contiguous q, k, v and bias [B, H, S, T] (nil for none).
func naiveAttention(b, h, s, t, d int, scale float64, q, k, v, bias []float64) []float64 {
	out := make([]float64, b*h*s*d)
	for bh := range b * h {
		for i := range s {
			sc := make([]float64, t)
			hi := math.Inf(-1)
			for j := range t {
				var acc float64
				for x := range d {
					acc += q[(bh*s+i)*d+x] * k[(bh*t+j)*d+x]
				}
				sc[j] = acc * scale
				if bias != nil {
					sc[j] += bias[(bh*s+i)*t+j]
				}
				hi = math.Max(hi, sc[j])
			}
			var sum float64
			for j := range sc {
				sc[j] = math.Exp(sc[j] - hi)
				sum += sc[j]
			}
			for j := range t {
				for x := range d {
					out[(bh*s+i)*d+x] += sc[j] / sum * v[(bh*t+j)*d+x]
				}
			}
		}
	}
	return out
}

// headsOf copies the heads of a [B·rows, ld] fused buffer at column col into
// a contiguous [B, H, rows, d] tensor.
func headsOf(x []float64, b, h, rows, ld, col, d int) []float64 {
	out := make([]float64, 0, b*h*rows*d)
	for bi := range b {
		for hi := range h {
			for r := range rows {
				base := (bi*rows+r)*ld + col + hi*d
				out = append(out, x[base:base+d]...)
			}
		}
	}
	return out
}

// TestAttendLayouts checks Attend against naiveAttention for the layouts
// genq uses: a fused q|k|v projection with a broadcast key mask (BERT), a
// separate q and a fused k|v with a full bias (T5 cross-attention), one query
// against a cache (T5 step). Tolerance 1e-9 (float64: the fast exp is within
// 1e-9 relative of math.Exp).
func TestAttendLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const b, h, d = 2, 3, 4
	t.Run("fused self-attention, key mask", func(t *testing.T) {
		const s = 5
		qkv := randn(rng, b*s*3*h*d, 1)
		mask := make([]float64, b*s)
		mask[s-1] = MaskedValue // last key of sequence 0 is padding
		a := &Attention{Batch: b, Heads: h, Queries: s, Keys: s, HeadDim: d, Scale: 1 / math.Sqrt(d),
			Q: Rows(s, 3*h*d, 0, d), K: Rows(s, 3*h*d, h*d, d), V: Rows(s, 3*h*d, 2*h*d, d), Out: Rows(s, h*d, 0, d),
			Bias: Layout{Batch: s}}
		out := make([]float64, b*s*h*d)
		require.NoError(t, Attend(a, out, qkv, qkv, qkv, mask))
		full := make([]float64, b*h*s*s)
		for i := range full {
			full[i] = mask[i/(h*s*s)*s+i%s]
		}
		want := naiveAttention(b, h, s, s, d, a.Scale, headsOf(qkv, b, h, s, 3*h*d, 0, d),
			headsOf(qkv, b, h, s, 3*h*d, h*d, d), headsOf(qkv, b, h, s, 3*h*d, 2*h*d, d), full)
		require.InDeltaSlice(t, want, headsOf(out, b, h, s, h*d, 0, d), 1e-9)
	})
	t.Run("cross-attention, full bias", func(t *testing.T) {
		const s, tt = 3, 6
		q, kv, bias := randn(rng, b*s*h*d, 1), randn(rng, b*tt*2*h*d, 1), randn(rng, b*h*s*tt, 1)
		a := &Attention{Batch: b, Heads: h, Queries: s, Keys: tt, HeadDim: d, Scale: 1,
			Q: Rows(s, h*d, 0, d), K: Rows(tt, 2*h*d, 0, d), V: Rows(tt, 2*h*d, h*d, d), Out: Rows(s, h*d, 0, d),
			Bias: Blocks(h, s, tt)}
		out := make([]float64, b*s*h*d)
		require.NoError(t, Attend(a, out, q, kv, kv, bias))
		want := naiveAttention(b, h, s, tt, d, 1, headsOf(q, b, h, s, h*d, 0, d),
			headsOf(kv, b, h, tt, 2*h*d, 0, d), headsOf(kv, b, h, tt, 2*h*d, h*d, d), bias)
		require.InDeltaSlice(t, want, headsOf(out, b, h, s, h*d, 0, d), 1e-9)
	})
	t.Run("one query against a cache", func(t *testing.T) {
		const slots, filled = 7, 4
		q := randn(rng, b*3*h*d, 1) // [b, 3·inner] with q first
		cache := randn(rng, b*h*slots*d, 1)
		row := randn(rng, h*slots, 1) // [H, slots] bias of the current position
		a := &Attention{Batch: b, Heads: h, Queries: 1, Keys: filled, HeadDim: d, Scale: 1,
			Q: Rows(1, 3*h*d, 0, d), K: Blocks(h, slots, d), V: Blocks(h, slots, d), Out: Rows(1, h*d, 0, d),
			Bias: Layout{Head: slots}}
		out := make([]float64, b*h*d)
		require.NoError(t, Attend(a, out, q, cache, cache, row))
		var kk, bias []float64
		for bh := range b * h {
			kk = append(kk, cache[bh*slots*d:(bh*slots+filled)*d]...)
			bias = append(bias, row[bh%h*slots:bh%h*slots+filled]...)
		}
		want := naiveAttention(b, h, 1, filled, d, 1, headsOf(q, b, h, 1, 3*h*d, 0, d), kk, kk, bias)
		require.InDeltaSlice(t, want, headsOf(out, b, h, 1, h*d, 0, d), 1e-9)
	})
}

// TestAttendPacked holds the packed float32 path (the step's
// cross-attention) to the unpacked one: within 1e-5.
func TestAttendPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const b, h, s, tt, d = 2, 2, 3, 5, 8
	f32 := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	q, kv, mask := f32(randn(rng, b*s*h*d, 1)), f32(randn(rng, b*tt*2*h*d, 1)), make([]float32, b*tt)
	mask[1] = MaskedValue
	a := &Attention{Batch: b, Heads: h, Queries: s, Keys: tt, HeadDim: d, Scale: 1,
		Q: Rows(s, h*d, 0, d), K: Rows(tt, 2*h*d, 0, d), V: Rows(tt, 2*h*d, h*d, d), Out: Rows(s, h*d, 0, d),
		Bias: Layout{Batch: tt}}
	want := make([]float32, b*s*h*d)
	require.NoError(t, Attend(a, want, q, kv, kv, mask))
	p := *a
	for bi := range b {
		for hi := range h {
			rows := kv[bi*tt*2*h*d:]
			p.PackedK = append(p.PackedK, gemm.PackB(true, d, tt, rows[hi*d:], 2*h*d))
			p.PackedV = append(p.PackedV, gemm.PackB(false, tt, d, rows[h*d+hi*d:], 2*h*d))
		}
	}
	got := make([]float32, b*s*h*d)
	require.NoError(t, Attend(&p, got, q, nil, nil, mask))
	require.InDeltaSlice(t, want, got, 1e-5)
}

// TestAttendBackward checks AttendBackward (dq, dk, dv through a fused
// projection, and the bias gradient) by finite differences, with and
// without dropout.
func TestAttendBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const b, h, s, d = 2, 2, 3, 2
	inner := h * d
	for _, drop := range []bool{false, true} {
		a := &Attention{Batch: b, Heads: h, Queries: s, Keys: s, HeadDim: d, Scale: 0.7,
			Q: Rows(s, 3*inner, 0, d), K: Rows(s, 3*inner, inner, d), V: Rows(s, 3*inner, 2*inner, d), Out: Rows(s, inner, 0, d),
			Bias: Blocks(h, s, s)}
		if drop {
			a.Keep, a.KeepScale = make([]bool, b*h*s*s), 2
			for i := range a.Keep {
				a.Keep[i] = rng.IntN(2) == 0
			}
		}
		in := [][]float64{randn(rng, b*s*3*inner, 1), randn(rng, b*h*s*s, 1)}
		gradCheck(t, "attention", in, b*s*inner, func(in [][]float64) []float64 {
			out := make([]float64, b*s*inner)
			require.NoError(t, Attend(a, out, in[0], in[0], in[0], in[1]))
			return out
		}, func(in [][]float64, w []float64) [][]float64 {
			dqkv, dbias := make([]float64, len(in[0])), make([]float64, len(in[1]))
			require.NoError(t, AttendBackward(a, dqkv, dqkv, dqkv, dbias, in[0], in[0], in[0], in[1], w))
			return [][]float64{dqkv, dbias}
		})
	}
}
