package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is a product C[m×n] = A[m×k]·op(B) as genq's models issue it.
type benchShape struct {
	name    string
	m, n, k int
	transB  bool // B stored n×k, as PyTorch stores Linear weights (out, in)
}

var benchShapes = []benchShape{
	{"square1024", 1024, 1024, 1024, false},
	{"square2048", 2048, 2048, 2048, false},
	{"linear_M2048_K768_N768", 2048, 768, 768, true},
	{"linear_M4096_K768_N3072", 4096, 3072, 768, true},
	{"linear_M4096_K3072_N768", 4096, 768, 3072, true},
	{"linear_M2048_K768_N2304", 2048, 2304, 768, true},
	{"lmhead_M8_K768_N32128", 8, 32128, 768, true},
	{"lmhead_M40_K768_N32128", 40, 32128, 768, true},
	{"attnQK_M128_K64_N128", 128, 128, 64, true},
	{"attnPV_M128_K128_N64", 128, 64, 128, false},
}

func benchOperands(s benchShape) (a, b, c []float32, ldb int) {
	rng := rand.New(rand.NewPCG(7, 8))
	a = make([]float32, s.m*s.k)
	b = make([]float32, s.k*s.n)
	c = make([]float32, s.m*s.n)
	for i := range a {
		a[i] = rng.Float32() - 0.5
	}
	for i := range b {
		b[i] = rng.Float32() - 0.5
	}
	ldb = s.n
	if s.transB {
		ldb = s.k
	}
	return a, b, c, ldb
}

func reportGFLOPs(b *testing.B, s benchShape) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures this package with 1 and 2 goroutines.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, th), func(b *testing.B) {
				a, bm, c, ldb := benchOperands(s)
				defer SetMaxThreads(SetMaxThreads(th))
				for b.Loop() {
					Sgemm(false, s.transB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, 0, c, s.n)
				}
				reportGFLOPs(b, s)
			})
		}
	}
}

// BenchmarkGonumSgemm measures gonum's Sgemm (the default BLAS of gorgonia)
// on the same shapes for comparison; it uses all of GOMAXPROCS.
func BenchmarkGonumSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			a, bm, c, ldb := benchOperands(s)
			tB := blas.NoTrans
			if s.transB {
				tB = blas.Trans
			}
			for b.Loop() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, tB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, 0, c, s.n)
			}
			reportGFLOPs(b, s)
		})
	}
}

// BenchmarkSgemmPacked compares Sgemm with SgemmPacked (B packed once,
// outside the loop) on a decoding step's products: 24 rows against
// weights stored (out, in).
func BenchmarkSgemmPacked(b *testing.B) {
	for _, s := range []benchShape{
		{"step_M24_K768_N768", 24, 768, 768, true},
		{"step_M24_K768_N3072", 24, 3072, 768, true},
		{"step_M24_K3072_N768", 24, 768, 3072, true},
		{"lmhead_M24_K768_N32128", 24, 32128, 768, true},
	} {
		a, bm, c, ldb := benchOperands(s)
		b.Run(s.name+"/unpacked", func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, s.transB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, 0, c, s.n)
			}
			reportGFLOPs(b, s)
		})
		b.Run(s.name+"/packed", func(b *testing.B) {
			pb := PackB(s.transB, s.k, s.n, bm, ldb)
			for b.Loop() {
				SgemmPacked(false, s.m, 1, a, s.k, pb, 0, c, s.n)
			}
			reportGFLOPs(b, s)
		})
	}
}
