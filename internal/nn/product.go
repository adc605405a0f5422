package nn

// product marks an op that is one matrix product, out = op(A)·op(B) over its
// first two inputs, row-major, plus, with bias, its third input added to
// every row of out. A `cuda` build runs such float32 ops on cuBLAS when
// genq's graphs run on a GPU (device_cuda.go); everywhere else they run
// their kernel on the CPU like every other op.
type product struct {
	transA, transB bool // op(A) = Aᵀ, op(B) = Bᵀ
	bias           bool // a third input [cols] is added to each row
	batched        bool // [B, m, k]·[B, k, n]: one product per matrix
}

// dims returns the sizes of the product for output rows×cols and A holding
// rows·k values: m, n, k and the leading dimensions of A, B and out.
func (p *product) dims(outRows, outCols, sizeA int) (m, n, k, lda, ldb, ldc int) {
	m, n = outRows, outCols
	if m > 0 {
		k = sizeA / m
	}
	lda, ldb, ldc = k, n, n
	if p.transA {
		lda = m
	}
	if p.transB {
		ldb = k
	}
	return m, n, k, lda, ldb, ldc
}
