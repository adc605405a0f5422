package kernel

import (
	"github.com/genq-go/genq/internal/gemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gemm computes c = alpha·op(a)·op(b) + beta·c with op(x) = x or xᵀ; op(a)
// is m×k, op(b) k×n, c m×n, all row-major with leading dimensions lda, ldb,
// ldc. float32 products run on internal/gemm's multi-threaded kernels,
// float64 ones (the gradient checks) on gonum's BLAS.
func Gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmOn(false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSerial is Gemm on the calling goroutine alone, for products that
// already run one per goroutine (the attention heads).
func GemmSerial[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmOn(true, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gemmOn[T Float](serial, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	switch a := any(a).(type) {
	case []float32:
		f := gemm.Sgemm
		if serial {
			f = gemm.SgemmSerial
		}
		f(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gonum.Implementation{}.Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
