package gemm

// Panic messages, the same strings gonum's BLAS uses, so that code written
// against gonum sees the same failures.
const (
	msgMLT0   = "blas: m < 0"
	msgNLT0   = "blas: n < 0"
	msgKLT0   = "blas: k < 0"
	msgBadLdA = "blas: bad leading dimension of A"
	msgBadLdB = "blas: bad leading dimension of B"
	msgBadLdC = "blas: bad leading dimension of C"
	msgShortA = "blas: insufficient length of a"
	msgShortB = "blas: insufficient length of b"
	msgShortC = "blas: insufficient length of c"
)

// Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// for row-major matrices, where op(A) is m×k (A itself is m×k, or k×m when
// transA is set), op(B) is k×n (B is k×n, or n×k when transB is set) and C
// is m×n. lda, ldb and ldc are the row strides of A, B and C and may exceed
// their row lengths. As in BLAS, when beta is zero the old contents of C are
// never read (NaN and Inf in C are overwritten, not propagated).
//
// The semantics, argument checks and panic messages are those of gonum's
// Implementation.Sgemm: invalid dimensions, leading dimensions or too-short
// slices are programming errors and panic, as in every BLAS.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm is Sgemm, on the calling goroutine alone when serial.
func sgemm(serial, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, true)
	if trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	p := &problem{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: a, lda: lda,
		b: b, ldb: ldb,
		c: c, ldc: ldc,
		serial: serial,
	}
	p.run(active)
}

// trivial computes the products that need no kernel (C empty, or C =
// beta·C when alpha or k is 0) and reports whether it did.
func trivial(m, n, k int, alpha, beta float32, c []float32, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return true
	}
	return false
}

// checkArgs panics, with gonum's message, on arguments gonum would reject.
// Without withB the B operand (already validated, as in SgemmPacked) is not
// checked.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, withB bool) {
	switch {
	case m < 0:
		panic(msgMLT0)
	case n < 0:
		panic(msgNLT0)
	case k < 0:
		panic(msgKLT0)
	}
	checkLd(transA, m, k, lda, msgBadLdA)
	if withB {
		checkLd(transB, k, n, ldb, msgBadLdB)
	}
	checkLd(false, m, n, ldc, msgBadLdC)
	if m == 0 || n == 0 {
		return
	}
	checkLen(transA, m, k, a, lda, msgShortA)
	if withB {
		checkLen(transB, k, n, b, ldb, msgShortB)
	}
	checkLen(false, m, n, c, ldc, msgShortC)
}

// checkLd panics with msg when ld is too small a leading dimension for an
// operand op(X) of rows×cols: X itself, or stored transposed (cols×rows)
// with trans.
func checkLd(trans bool, rows, cols, ld int, msg string) {
	if trans {
		rows, cols = cols, rows
	}
	if ld < max(1, cols) {
		panic(msg)
	}
}

// checkLen panics with msg when x is too short for an operand op(X) of
// rows×cols (non-empty) with leading dimension ld (see checkLd).
func checkLen(trans bool, rows, cols int, x []float32, ld int, msg string) {
	if trans {
		rows, cols = cols, rows
	}
	if len(x) < (rows-1)*ld+cols {
		panic(msg)
	}
}

// scaleC sets C = beta * C; beta == 0 clears C without reading it.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
