package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBackward checks every backward kernel against central finite
// differences of its forward kernel, in float64 (gradCheck: |Δ| ≤
// 1e-6·(1 + |numeric|)).
func TestBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 3, 5
	ids := []int{2, 0, 2, 1}
	labels := []int{4, IgnoreIndex, 0}
	buckets := []int{0, 2, 1, 1, 0, 2}
	type gradCase struct {
		name   string
		inputs [][]float64
		outLen int
		f      func(in [][]float64) []float64
		grad   func(in [][]float64, w []float64) [][]float64
	}
	// pointwise is a kernel of one [n, d] input whose backward takes the
	// input (or, fromOut, the output) and dy.
	pointwise := func(name string, scale float64, fwd func(dst, x []float64), back func(dx, xy, dy []float64), fromOut bool) gradCase {
		run := func(x []float64) []float64 { y := make([]float64, len(x)); fwd(y, x); return y }
		return gradCase{name, [][]float64{randn(rng, n*d, scale)}, n * d,
			func(in [][]float64) []float64 { return run(in[0]) },
			func(in [][]float64, w []float64) [][]float64 {
				dx, xy := make([]float64, n*d), in[0]
				if fromOut {
					xy = run(in[0])
				}
				back(dx, xy, w)
				return [][]float64{dx}
			}}
	}
	rows := func(f func(dst, x []float64, d int)) func(dst, x []float64) {
		return func(dst, x []float64) { f(dst, x, d) }
	}
	rowsBack := func(f func(dx, y, dy []float64, d int)) func(dx, y, dy []float64) {
		return func(dx, y, dy []float64) { f(dx, y, dy, d) }
	}
	cases := []gradCase{
		pointwise("ReLU", 1, ReLU[float64], ReLUBackward[float64], false),
		pointwise("GELU", 2, GELU[float64], GELUBackward[float64], false),
		pointwise("GELUNew", 2, GELUNew[float64], GELUNewBackward[float64], false),
		pointwise("Softmax", 2, rows(Softmax[float64]), rowsBack(SoftmaxBackward[float64]), true),
		pointwise("LogSoftmax", 2, rows(LogSoftmax[float64]), rowsBack(LogSoftmaxBackward[float64]), true),
		pointwise("L2Normalize", 1, rows(L2Normalize[float64]), rowsBack(L2NormalizeBackward[float64]), false),
		{"RMSNorm", [][]float64{randn(rng, n*d, 1), randn(rng, d, 1)}, n * d,
			func(in [][]float64) []float64 { y := make([]float64, n*d); RMSNorm(y, in[0], in[1], 1e-6); return y },
			func(in [][]float64, w []float64) [][]float64 {
				dx, dw := make([]float64, n*d), make([]float64, d)
				RMSNormBackward(dx, dw, in[0], in[1], w, 1e-6)
				return [][]float64{dx, dw}
			}},
		{"LayerNorm", [][]float64{randn(rng, n*d, 1), randn(rng, d, 1), randn(rng, d, 1)}, n * d,
			func(in [][]float64) []float64 {
				y := make([]float64, n*d)
				LayerNorm(y, in[0], nil, in[1], in[2], 1e-12)
				return y
			},
			func(in [][]float64, w []float64) [][]float64 {
				dx, dw, db := make([]float64, n*d), make([]float64, d), make([]float64, d)
				LayerNormBackward(dx, dw, db, in[0], nil, in[1], w, 1e-12)
				return [][]float64{dx, dw, db}
			}},
		{"LayerNorm with residual", [][]float64{randn(rng, n*d, 1), randn(rng, n*d, 1), randn(rng, d, 1), randn(rng, d, 1)}, n * d,
			func(in [][]float64) []float64 {
				y := make([]float64, n*d)
				LayerNorm(y, in[0], in[1], in[2], in[3], 1e-12)
				return y
			},
			func(in [][]float64, w []float64) [][]float64 {
				dx, dw, db := make([]float64, n*d), make([]float64, d), make([]float64, d)
				LayerNormBackward(dx, dw, db, in[0], in[1], in[2], w, 1e-12)
				return [][]float64{dx, dx, dw, db}
			}},
		{"Gather", [][]float64{randn(rng, 3*d, 1)}, len(ids) * d,
			func(in [][]float64) []float64 {
				y := make([]float64, len(ids)*d)
				require.NoError(t, Gather(y, in[0], ids, d))
				return y
			},
			func(in [][]float64, w []float64) [][]float64 {
				dt := make([]float64, 3*d)
				ScatterAdd(dt, w, ids, d)
				return [][]float64{dt}
			}},
		{"CrossEntropy", [][]float64{randn(rng, n*d, 2)}, 1,
			func(in [][]float64) []float64 {
				l, err := CrossEntropy(in[0], labels, d)
				require.NoError(t, err)
				return []float64{l}
			},
			func(in [][]float64, w []float64) [][]float64 {
				dx := make([]float64, n*d)
				CrossEntropyBackward(dx, in[0], labels, d, w[0])
				return [][]float64{dx}
			}},
		{"PositionBias", [][]float64{randn(rng, 3*2, 1)}, 2 * 2 * len(buckets),
			func(in [][]float64) []float64 {
				y := make([]float64, 2*2*len(buckets))
				PositionBias(y, in[0], buckets, randn(rand.New(rand.NewPCG(9, 9)), 2*len(buckets), 1), 2, 2)
				return y
			},
			func(in [][]float64, w []float64) [][]float64 {
				dt := make([]float64, 3*2)
				PositionBiasBackward(dt, w, buckets, 2, 2)
				return [][]float64{dt}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { gradCheck(t, c.name, c.inputs, c.outLen, c.f, c.grad) })
	}
}

// f32 rounds x to float32.
func f32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// TestFloat32MatchesFloat64 holds the float32 kernels (with their AVX2
// paths where the CPU has them) to the float64 ones on the same inputs:
// within 4 float32 ulps relative (4·2⁻²³·|want|) plus 1e-6 absolute, on
// lengths that exercise the vector bodies and their tails.
func TestFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 7, 8, 33, 768} {
		x64, w64, b64 := randn(rng, 4*d, 3), randn(rng, d, 1), randn(rng, d, 1)
		mask64 := make([]float64, d)
		mask64[0] = MaskedValue
		x32, w32, b32, mask32 := f32(x64), f32(w64), f32(b64), f32(mask64)
		for i := range x64 { // the float32 inputs, exactly
			x64[i] = float64(x32[i])
		}
		for i := range w64 {
			w64[i], b64[i] = float64(w32[i]), float64(b32[i])
		}
		kernels := []struct {
			name string
			k32  func(y []float32)
			k64  func(y []float64)
		}{
			{"ReLU", func(y []float32) { ReLU(y, x32) }, func(y []float64) { ReLU(y, x64) }},
			{"GELU", func(y []float32) { GELU(y, x32) }, func(y []float64) { GELU(y, x64) }},
			{"GELUNew", func(y []float32) { GELUNew(y, x32) }, func(y []float64) { GELUNew(y, x64) }},
			{"Softmax", func(y []float32) { Softmax(y, x32, d) }, func(y []float64) { Softmax(y, x64, d) }},
			{"SoftmaxRow masked", func(y []float32) { copy(y, x32); SoftmaxRow(y[:d], mask32) },
				func(y []float64) { copy(y, x64); SoftmaxRow(y[:d], mask64) }},
			{"RMSNorm", func(y []float32) { RMSNorm(y, x32, w32, 1e-6) }, func(y []float64) { RMSNorm(y, x64, w64, 1e-6) }},
			{"LayerNorm", func(y []float32) { LayerNorm(y, x32, nil, w32, b32, 1e-12) }, func(y []float64) { LayerNorm(y, x64, nil, w64, b64, 1e-12) }},
			{"L2Normalize", func(y []float32) { L2Normalize(y, x32, d) }, func(y []float64) { L2Normalize(y, x64, d) }},
		}
		for _, k := range kernels {
			y32, y64 := make([]float32, 4*d), make([]float64, 4*d)
			k.k32(y32)
			k.k64(y64)
			for i := range y64 {
				want := y64[i]
				assert.InDeltaf(t, want, float64(y32[i]), 4*0x1p-23*math.Abs(want)+1e-6, "%s d=%d [%d]", k.name, d, i)
			}
		}
	}
}

// TestTopK checks TopK against a sort: the k largest of random values, and
// ties broken by the order given.
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	type item struct {
		v  float64
		id int
	}
	better := func(a, b item) bool { return a.v > b.v || (a.v == b.v && a.id < b.id) }
	for _, k := range []int{1, 3, 10, 50} {
		h := NewTopK(k, better)
		var all []item
		for i := range 40 {
			it := item{float64(rng.IntN(10)), i}
			all = append(all, it)
			h.Push(it)
		}
		want := append([]item{}, all...)
		for i := range want { // selection sort: obviously right
			for j := i + 1; j < len(want); j++ {
				if better(want[j], want[i]) {
					want[i], want[j] = want[j], want[i]
				}
			}
		}
		want = want[:min(k, len(want))]
		got := append([]item{}, h.Items()...)
		for i := range got {
			for j := i + 1; j < len(got); j++ {
				if better(got[j], got[i]) {
					got[i], got[j] = got[j], got[i]
				}
			}
		}
		require.Equal(t, want, got, "k=%d", k)
		require.Equal(t, want[len(want)-1], h.Worst())
	}
}

// TestParallel checks that ParallelFor and ForEach visit every index once.
func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 5, 100000} {
		seen := make([]int32, n)
		ParallelFor(n, 7, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		ForEach(n, func(w, i int) {
			require.Less(t, w, Workers())
			seen[i]++
		})
		for i, s := range seen {
			require.EqualValues(t, 2, s, "index %d of %d", i, n)
		}
	}
}

// TestCrossEntropyErrors checks the label checks and the all-ignored NaN.
func TestCrossEntropyErrors(t *testing.T) {
	_, err := CrossEntropy([]float32{1, 2}, []int{2}, 2)
	require.ErrorContains(t, err, "outside the vocabulary")
	l, err := CrossEntropy([]float32{1, 2}, []int{IgnoreIndex}, 2)
	require.NoError(t, err)
	require.True(t, math.IsNaN(l))
	require.ErrorContains(t, Gather(make([]float32, 2), []float32{1, 2}, []int{1}, 2), "outside the vocabulary")
}

// TestSumSquares holds SumSquares (the AVX2 code where the CPU has it) to
// the portable sum over values spanning 60 decades: both add exact float64
// products, in different orders, so they agree to 1e-15 relative; and both
// turn NaN and ±Inf into a non-finite sum.
func TestSumSquares(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 0))
	for _, n := range []int{0, 1, 15, 16, 17, 47, 768, 1000} {
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)))
		}
		want := sumSquaresGo(row)
		assert.InDeltaf(t, want, SumSquares(row), 1e-15*want, "n=%d", n)
		if n > 0 {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
				row[n-1] = bad
				s := SumSquares(row)
				assert.Truef(t, math.IsNaN(s) || math.IsInf(s, 0), "n=%d with %v: sum %v, want a non-finite one", n, bad, s)
			}
		}
	}
}

// TestReLUEdges checks torch.relu's edge cases on both paths: NaN stays
// NaN, -0 becomes +0, -Inf 0, +Inf stays.
func TestReLUEdges(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := []float64{nan, math.Copysign(0, -1), -inf, inf, -2, 3}
	y64 := make([]float64, len(x))
	ReLU(y64, x)
	y32 := make([]float32, len(x))
	ReLU(y32, f32(x))
	for i, y := range []float64{y64[0], float64(y32[0])} {
		assert.Truef(t, math.IsNaN(y), "path %d: relu(NaN) = %v", i, y)
	}
	want := []uint64{0, 0, math.Float64bits(inf), 0, math.Float64bits(3)}
	for i, w := range want {
		assert.Equalf(t, w, math.Float64bits(y64[i+1]), "float64 relu(%v)", x[i+1])
		assert.Equalf(t, math.Float32bits(float32(math.Float64frombits(w))), math.Float32bits(y32[i+1]), "float32 relu(%v)", x[i+1])
	}
}
