package nn

import (
	"github.com/genq-go/genq/internal/gemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BLAS is gonum's pure-Go BLAS with Sgemm replaced by internal/gemm's
// kernel. It satisfies gorgonia.BLAS and tensor.BLAS.
type BLAS struct {
	gonum.Implementation
}

var (
	_ gorgonia.BLAS = BLAS{}
	_ tensor.BLAS   = BLAS{}
)

// Sgemm computes C = alpha * op(A) * op(B) + beta * C like gonum's
// Implementation.Sgemm (same argument checks and panics), using gemm.Sgemm.
func (BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.Sgemm(isTrans(tA), isTrans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// isTrans maps a BLAS transpose flag to a bool; for real matrices ConjTrans
// is Trans. Any other value panics with gonum's message.
func isTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("blas: illegal transpose")
}

// The BLAS of every genq graph is installed once, here, when the first
// package building graphs (t5, encoder, loss: all import this one) is
// initialized, before any of their code runs: every float32 MatMul,
// BatchedMatMul and Mul of matrices in a gorgonia graph then runs through
// gemm.Sgemm, whichever model is loaded and in whatever order. It is
// gorgonia's process-wide setting (gorgonia.Use, which forwards to
// tensor.Use); loading a model never changes it. A program that wants
// another BLAS calls gorgonia.Use itself after importing genq, before
// building any graph.
func init() { gorgonia.Use(BLAS{}) }
