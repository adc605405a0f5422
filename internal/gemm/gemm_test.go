package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tolerance for every element: the float32 rounding error of a length-k
// dot product grows like √k·ε, so
//
//	|got - want| ≤ 4·(√k + 1)·ε·(|α|·Σ_q |a_iq||b_qj| + |β|·|c_ij|)
//
// with ε = 2⁻²⁴ and want computed in float64. A dropped or doubled term is
// about Σ|a||b|/k, far above this bound for every k tested here.
const tolFactor = 4

const eps32 = 1.0 / (1 << 24)

// gemmCase is one Sgemm call; extra pads each leading dimension.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	extra          int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.extra)
}

// operands builds A, B and C for tc. Padding past each row is NaN in A and
// B (so reading it would poison the result) and a sentinel in C (so writing
// it is detected). With beta == 0, C itself is NaN: it must not be read.
func (tc gemmCase) operands(rng *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	fill := func(rows, cols, ld int, pad float32, val func() float32) []float32 {
		s := make([]float32, max(rows*ld, 1))
		for i := range s {
			if i%ld < cols {
				s[i] = val()
			} else {
				s[i] = pad
			}
		}
		return s
	}
	rnd := func() float32 { return float32(rng.NormFloat64()) }
	nan := float32(math.NaN())
	lda, ldb, ldc = max(ac, 1)+tc.extra, max(bc, 1)+tc.extra, max(tc.n, 1)+tc.extra
	a = fill(ar, ac, lda, nan, rnd)
	b = fill(br, bc, ldb, nan, rnd)
	cval := rnd
	if tc.beta == 0 {
		cval = func() float32 { return nan }
	}
	c = fill(tc.m, tc.n, ldc, sentinel, cval)
	return a, lda, b, ldb, c, ldc
}

const sentinel = -12345.5

// reference returns alpha·op(A)·op(B) + beta·C in float64, with the error
// bound of each element.
func (tc gemmCase) reference(a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (want, tol []float64) {
	want = make([]float64, tc.m*tc.n)
	tol = make([]float64, tc.m*tc.n)
	at := func(i, q int) float64 {
		if tc.transA {
			return float64(a[q*lda+i])
		}
		return float64(a[i*lda+q])
	}
	bt := func(q, j int) float64 {
		if tc.transB {
			return float64(b[j*ldb+q])
		}
		return float64(b[q*ldb+j])
	}
	alpha, beta := float64(tc.alpha), float64(tc.beta)
	for i := range tc.m {
		for j := range tc.n {
			var sum, abs float64
			for q := range tc.k {
				x := at(i, q) * bt(q, j)
				sum += x
				abs += math.Abs(x)
			}
			w, bound := alpha*sum, math.Abs(alpha)*abs
			if beta != 0 {
				w += beta * float64(c[i*ldc+j])
				bound += math.Abs(beta * float64(c[i*ldc+j]))
			}
			want[i*tc.n+j] = w
			tol[i*tc.n+j] = tolFactor*(math.Sqrt(float64(tc.k))+1)*eps32*bound + 1e-30
		}
	}
	return want, tol
}

// check runs tc through Sgemm and compares with the reference; it returns
// the largest error relative to the element's bound.
func (tc gemmCase) check(t *testing.T, rng *rand.Rand) float64 {
	t.Helper()
	return tc.checkWith(t, rng, callSgemm)
}

// multiply is one way of computing tc's product into c.
type multiply func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)

func callSgemm(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
}

// checkWith is check with the product computed by mul.
func (tc gemmCase) checkWith(t *testing.T, rng *rand.Rand, mul multiply) float64 {
	t.Helper()
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	want, tol := tc.reference(a, lda, b, ldb, c, ldc)
	mul(tc, a, lda, b, ldb, c, ldc)
	worst := 0.0
	for i := range tc.m {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				require.EqualValuesf(t, sentinel, got, "%v: wrote C[%d][%d] past the row (ldc=%d)", tc, i, j, ldc)
				continue
			}
			w, bound := want[i*tc.n+j], tol[i*tc.n+j]
			d := math.Abs(float64(got) - w)
			require.InDeltaf(t, w, got, bound, "%v: C[%d][%d]", tc, i, j)
			worst = max(worst, d/bound)
		}
	}
	return worst
}

// config is one way Sgemm can run: a micro-kernel and a packing method.
type config struct {
	kern       *kernel
	transpose8 bool // pack with the assembly transpose
}

func (c config) name() string {
	if c.transpose8 {
		return c.kern.name + "/transpose8"
	}
	return c.kern.name + "/scalar-pack"
}

// configs lists every configuration this CPU can run, the fully portable
// one (Go kernel, element-by-element packing) included.
func configs() []config {
	cs := []config{{goKernel, false}}
	if hasTranspose8 {
		cs = append(cs, config{goKernel, true})
	}
	for _, k := range append([]*kernel{active}, extraKernels()...) {
		if k != goKernel {
			cs = append(cs, config{k, hasTranspose8})
		}
	}
	return cs
}

// with runs f with the configuration installed.
func (c config) with(f func()) {
	savedKern, savedT := active, useTranspose8
	active, useTranspose8 = c.kern, c.transpose8
	defer func() { active, useTranspose8 = savedKern, savedT }()
	f()
}

var scalarVariants = [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {1.5, -1}}

// TestSgemmSmallShapes sweeps each of m, n and k over 1..70 with the other
// two drawn at random, for all four transpose combinations, several
// alpha/beta pairs and padded leading dimensions, on every kernel.
func TestSgemmSmallShapes(t *testing.T) {
	for _, cfg := range configs() {
		t.Run(cfg.name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var worst float64
			cfg.with(func() { worst = sweepSmallShapes(t, rng, callSgemm) })
			t.Logf("%s: max |Δ| / tol = %.3f", cfg.name(), worst)
		})
	}
}

// sweepSmallShapes checks mul on the shapes of TestSgemmSmallShapes and
// returns the largest error relative to its bound.
func sweepSmallShapes(t *testing.T, rng *rand.Rand, mul multiply) float64 {
	t.Helper()
	worst := 0.0
	for dim := range 3 {
		for v := 1; v <= 70; v++ {
			tc := gemmCase{
				transA: rng.IntN(2) == 1, transB: rng.IntN(2) == 1,
				m: 1 + rng.IntN(70), n: 1 + rng.IntN(70), k: 1 + rng.IntN(70),
				extra: rng.IntN(3) * 3,
			}
			s := scalarVariants[rng.IntN(len(scalarVariants))]
			tc.alpha, tc.beta = s[0], s[1]
			switch dim {
			case 0:
				tc.m = v
			case 1:
				tc.n = v
			case 2:
				tc.k = v
			}
			worst = max(worst, tc.checkWith(t, rng, mul))
		}
	}
	// Every transpose and scalar combination on an edge-heavy shape.
	for _, s := range scalarVariants {
		for tr := range 4 {
			tc := gemmCase{transA: tr&1 == 1, transB: tr&2 == 2, m: 37, n: 45, k: 29, alpha: s[0], beta: s[1], extra: 5}
			worst = max(worst, tc.checkWith(t, rng, mul))
		}
	}
	return worst
}

// TestSgemmLarge runs largeCases on every kernel.
func TestSgemmLarge(t *testing.T) {
	for _, cfg := range configs() {
		t.Run(cfg.name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			cfg.with(func() {
				for _, tc := range largeCases {
					t.Logf("%v: max |Δ| / tol = %.3f", tc, tc.check(t, rng))
				}
			})
		})
	}
}

// largeCases cross every blocking boundary (mc, kc, nc), the edges of each,
// and the two ways of splitting work across goroutines.
var largeCases = []gemmCase{
	{m: 300, n: 200, k: 600, alpha: 1, beta: 0},                               // rows split, 3 depth blocks
	{transB: true, m: 13, n: 3100, k: 300, alpha: 1, beta: 1, extra: 1},       // columns split, crosses nc
	{transA: true, transB: true, m: 150, n: 97, k: 513, alpha: -1, beta: 0.5}, // odd k past 2 blocks
	{transA: true, m: 401, n: 64, k: 100, alpha: 0.25, beta: 0, extra: 2},
}

// TestSgemmThreadsAgree checks that 1 and several goroutines give identical
// bits: the split never changes the order of any element's sum.
func TestSgemmThreadsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][3]int{{260, 130, 300}, {20, 700, 300}} {
		tc := gemmCase{m: shape[0], n: shape[1], k: shape[2], alpha: 1, beta: 0, transB: true}
		a, lda, b, ldb, _, ldc := tc.operands(rng)
		c1 := make([]float32, tc.m*ldc)
		c4 := make([]float32, tc.m*ldc)
		prev := SetMaxThreads(1)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c1, ldc)
		SetMaxThreads(4)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c4, ldc)
		SetMaxThreads(prev)
		require.Equal(t, c1, c4, "%v: 1 and 4 threads differ", tc)
	}
}

// TestSgemmDegenerate covers m, n or k of zero and alpha of zero, where C
// is only scaled by beta (and, with beta == 0, cleared even if it was NaN).
func TestSgemmDegenerate(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name        string
		m, n, k     int
		alpha, beta float32
		c, want     []float32
	}{
		{"m=0", 0, 2, 3, 1, 0, []float32{nan, nan}, []float32{nan, nan}},
		{"n=0", 2, 0, 3, 1, 0, []float32{nan}, []float32{nan}},
		{"k=0,beta=0", 1, 2, 0, 1, 0, []float32{nan, nan}, []float32{0, 0}},
		{"k=0,beta=2", 1, 2, 0, 1, 2, []float32{1, -3}, []float32{2, -6}},
		{"alpha=0,beta=1", 1, 2, 3, 0, 1, []float32{1, nan}, []float32{1, nan}},
		{"alpha=0,beta=0", 1, 2, 3, 0, 0, []float32{nan, 4}, []float32{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := make([]float32, max(tt.m*tt.k, 1))
			b := make([]float32, max(tt.k*tt.n, 1))
			Sgemm(false, false, tt.m, tt.n, tt.k, tt.alpha, a, max(tt.k, 1), b, max(tt.n, 1), tt.beta, tt.c, max(tt.n, 1))
			require.Equal(t, bitsOf(tt.want), bitsOf(tt.c)) // NaN where NaN is wanted
		})
	}
}

// bitsOf returns the bits of x, so that equal NaNs compare equal.
func bitsOf(x []float32) []uint32 {
	b := make([]uint32, len(x))
	for i, v := range x {
		b[i] = math.Float32bits(v)
	}
	return b
}

// TestSgemmPanics checks that bad arguments fail with gonum's messages.
func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 6)
	tests := []struct {
		want string
		call func()
	}{
		{msgMLT0, func() { Sgemm(false, false, -1, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{msgBadLdA, func() { Sgemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{msgBadLdB, func() { Sgemm(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{msgBadLdC, func() { Sgemm(false, false, 2, 2, 3, 1, s, 3, s, 2, 0, s, 1) }},
		{msgShortA, func() { Sgemm(false, false, 3, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{msgShortC, func() { Sgemm(false, false, 2, 4, 1, 1, s, 1, s, 4, 0, s[:5], 4) }},
	}
	for _, tt := range tests {
		require.PanicsWithValue(t, tt.want, tt.call)
	}
}

// TestBlockingFitsBuffers checks every kernel's blocking against the limits
// packing relies on.
func TestBlockingFitsBuffers(t *testing.T) {
	t.Logf("active kernel: %s", KernelName())
	for _, cfg := range configs() {
		k := cfg.kern
		require.Truef(t, k.kc <= maxKC && k.kc%4 == 0 && k.mc%k.mr == 0 && k.nc%k.nr == 0,
			"%s: blocking mc=%d kc=%d nc=%d does not fit mr=%d nr=%d maxKC=%d", k.name, k.mc, k.kc, k.nc, k.mr, k.nr, maxKC)
	}
}
