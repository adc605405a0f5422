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

// UseBLAS installs BLAS as the BLAS of gorgonia and of gorgonia.org/tensor
// (gorgonia.Use, which forwards to tensor.Use), so that every float32
// MatMul, BatchedMatMul and Mul of matrices in any gorgonia graph of the
// process runs through gemm.Sgemm. It is process-wide state, so genq never
// calls it, at init or when loading a model: genq's own ops call
// internal/gemm directly (see MatMul), and a graph of gorgonia's own ops
// keeps whatever BLAS its program chose. A program that wants the fast
// kernel for gorgonia's ops calls it once, before building graphs; it is
// safe to call more than once. Restore the default with
// gorgonia.Use(gonum.Implementation{}).
func UseBLAS() { gorgonia.Use(BLAS{}) }
