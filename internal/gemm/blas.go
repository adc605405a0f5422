package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Implementation is gonum's pure-Go BLAS with Sgemm replaced by this
// package's kernel. It satisfies gorgonia.BLAS and tensor.BLAS.
type Implementation struct {
	gonum.Implementation
}

var (
	_ gorgonia.BLAS = Implementation{}
	_ tensor.BLAS   = Implementation{}
)

// Sgemm computes C = alpha * op(A) * op(B) + beta * C like gonum's
// Implementation.Sgemm (same argument checks and panics), using the fast
// kernel of the package-level Sgemm.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(isTrans(tA), isTrans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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

// Use installs Implementation as the BLAS of gorgonia and of
// gorgonia.org/tensor (gorgonia.Use forwards to tensor.Use), so that every
// float32 MatMul, BatchedMatMul and Mul of matrices runs through Sgemm.
// It is safe to call more than once. Restore the default with
// gorgonia.Use(gonum.Implementation{}).
func Use() {
	gorgonia.Use(Implementation{})
}
