package gemm

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callPacked multiplies by packing B first, then SgemmPacked.
func callPacked(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	pb := PackB(tc.transB, tc.k, tc.n, b, ldb)
	SgemmPacked(tc.transA, tc.m, tc.alpha, a, lda, pb, tc.beta, c, ldc)
}

// callSerial multiplies with SgemmSerial.
func callSerial(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	SgemmSerial(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
}

// TestSgemmPackedAndSerial checks PackB + SgemmPacked and SgemmSerial
// against the float64 reference, within Sgemm's bound, on the small-shape
// sweep (odd sizes, all transposes, padded leading dimensions) and the
// large cases, on every kernel.
func TestSgemmPackedAndSerial(t *testing.T) {
	for _, v := range []struct {
		name string
		mul  multiply
	}{{"packed", callPacked}, {"serial", callSerial}} {
		for _, cfg := range configs() {
			t.Run(v.name+"/"+cfg.name(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(11, 12))
				worst := 0.0
				cfg.with(func() {
					worst = sweepSmallShapes(t, rng, v.mul)
					for _, tc := range largeCases {
						worst = max(worst, tc.checkWith(t, rng, v.mul))
					}
				})
				t.Logf("max |Δ| / tol = %.3f", worst)
			})
		}
	}
}

// TestSgemmPackedBitIdentical: a packed B gives exactly Sgemm's bits, for
// several row counts sharing one PackedB, from concurrent goroutines.
func TestSgemmPackedBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, transB := range []bool{false, true} {
		k, n := 700, 3200 // two depth blocks, past nc, n not a multiple of nr
		tc := gemmCase{transB: transB, m: 1, n: n, k: k}
		_, _, b, ldb, _, _ := tc.operands(rng)
		pb := PackB(transB, k, n, b, ldb)
		require.Equal(t, [2]int{k, n}, [2]int{pb.K(), pb.N()}, "PackedB's k×n")
		var wg sync.WaitGroup
		for _, m := range []int{1, 5, 24, 100} {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(15, uint64(m)))
				a := make([]float32, m*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				want := make([]float32, m*n)
				got := make([]float32, m*n)
				Sgemm(false, transB, m, n, k, 1, a, k, b, ldb, 0, want, n)
				SgemmPacked(false, m, 1, a, k, pb, 0, got, n)
				assert.Equal(t, want, got, "transB=%v m=%d: packed and unpacked differ", transB, m)
			})
		}
		wg.Wait()
	}
}

// TestSgemmPackedPanics checks that bad arguments fail with Sgemm's messages.
func TestSgemmPackedPanics(t *testing.T) {
	s := make([]float32, 6)
	pb := PackB(false, 3, 2, s, 2) // op(B) 3×2
	tests := []struct {
		want string
		call func()
	}{
		{msgKLT0, func() { PackB(false, -1, 2, s, 2) }},
		{msgNLT0, func() { PackB(true, 2, -1, s, 2) }},
		{msgBadLdB, func() { PackB(true, 3, 2, s, 2) }},
		{msgShortB, func() { PackB(false, 4, 2, s, 2) }},
		{msgMLT0, func() { SgemmPacked(false, -1, 1, s, 3, pb, 0, s, 2) }},
		{msgBadLdA, func() { SgemmPacked(false, 2, 1, s, 2, pb, 0, s, 2) }},
		{msgBadLdC, func() { SgemmPacked(false, 2, 1, s, 3, pb, 0, s, 1) }},
		{msgShortA, func() { SgemmPacked(false, 3, 1, s, 3, pb, 0, s, 2) }},
		{msgShortC, func() { SgemmPacked(false, 2, 1, s, 3, pb, 0, s[:3], 2) }},
		{msgBadLdB, func() { SgemmSerial(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
	}
	for _, tt := range tests {
		assert.PanicsWithValue(t, tt.want, tt.call)
	}
}

// TestSgemmPackedDegenerate: empty products and k = 0 scale C by beta only.
func TestSgemmPackedDegenerate(t *testing.T) {
	pb := PackB(false, 0, 2, nil, 2)
	c := []float32{1, -3}
	SgemmPacked(false, 1, 1, nil, 1, pb, 2, c, 2)
	assert.Equal(t, []float32{2, -6}, c, "k=0, beta=2")
	empty := PackB(true, 3, 0, nil, 3)
	SgemmPacked(false, 2, 1, make([]float32, 6), 3, empty, 0, c, 1) // n = 0: nothing to do
	assert.Equal(t, []float32{2, -6}, c, "n=0 wrote C")
}

// TestRepackB: repacking into a PackedB of a larger operand reuses its
// memory and gives what PackB gives, padding included (the old contents
// must not leak into the zero columns past n).
func TestRepackB(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, transB := range []bool{false, true} {
		big := gemmCase{transB: transB, m: 1, n: 300, k: 90}
		_, _, bb, ldbb, _, _ := big.operands(rng)
		old := PackB(transB, big.k, big.n, bb, ldbb)
		small := gemmCase{transB: transB, m: 1, n: 37, k: 61} // n not a multiple of nr
		_, _, b, ldb, _, _ := small.operands(rng)
		want := PackB(transB, small.k, small.n, b, ldb)
		first := &old.data[0]
		got := RepackB(old, transB, small.k, small.n, b, ldb)
		assert.Same(t, old, got, "transB=%v: RepackB allocated although the old PackedB was large enough", transB)
		assert.Same(t, first, &got.data[0], "transB=%v: RepackB allocated new data", transB)
		require.Equal(t, []int{small.k, small.n, len(want.data)}, []int{got.K(), got.N(), len(got.data)}, "transB=%v: repacked k, n, values", transB)
		n := len(want.data) - packSlack
		require.Equal(t, want.data[:n], got.data[:n], "transB=%v: repacked values vs PackB", transB)
		assert.NotSame(t, want, RepackB(want, transB, big.k, big.n, bb, ldbb), "transB=%v: RepackB reused a PackedB too small for the operand", transB)
	}
}
