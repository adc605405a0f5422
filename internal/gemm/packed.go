package gemm

// PackedB is the B operand of a product, op(B) of k×n, packed once in the
// layout the micro-kernel reads (depth blocks of nr-wide micro-panels), so
// that many products with the same B skip the packing: the weights of a
// layer multiplied by a few rows of activations at every decoding step.
//
// A PackedB is read-only once built and may be used by any number of
// goroutines at once. It is tied to the micro-kernel active when it was
// packed.
type PackedB struct {
	k, n int
	kc   int       // depth of each packed block (the last may be shorter)
	np   int       // n rounded up to the kernel's nr
	kern *kernel   // the micro-kernel the layout is for
	data []float32 // block at depth pc starts at pc·np; its panel for columns j0.. at +j0·kb
}

// PackB packs op(B) — B itself (k×n) or, with transB, the transpose of B
// (n×k) — whose rows are ldb apart. Arguments are checked as Sgemm checks
// its B operand, with the same panics.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	return RepackB(nil, transB, k, n, b, ldb)
}

// RepackB is PackB into the memory of old (which may be nil) when it is
// large enough, for callers that pack operands of one shape again and again
// (the encoder's keys and values of every generation): it returns old,
// repacked, or a new PackedB. old must not be in use.
func RepackB(old *PackedB, transB bool, k, n int, b []float32, ldb int) *PackedB {
	switch {
	case k < 0:
		panic(msgKLT0)
	case n < 0:
		panic(msgNLT0)
	}
	checkLd(transB, k, n, ldb, msgBadLdB)
	kern := active
	pb := &PackedB{k: k, n: n, kern: kern, np: roundUp(n, kern.nr)}
	if k == 0 || n == 0 {
		return pb
	}
	checkLen(transB, k, n, b, ldb, msgShortB)
	pb.kc = depthBlock(kern, k)
	if size := k*pb.np + packSlack; old != nil && cap(old.data) >= size {
		data := old.data[:size]
		*old = *pb
		old.data = data
		pb = old
	} else {
		pb.data = make([]float32, size)
	}
	src := &problem{transB: transB, k: k, n: n, b: b, ldb: ldb}
	for pc := 0; pc < k; pc += pb.kc {
		kb := min(pb.kc, k-pc)
		src.packB(pb.data[pc*pb.np:], kern.nr, pc, kb, 0, n)
	}
	return pb
}

// K returns the depth of the packed op(B) (its rows).
func (pb *PackedB) K() int { return pb.k }

// N returns the width of the packed op(B) (its columns).
func (pb *PackedB) N() int { return pb.n }

// panels returns the packed kb×(n−j0) block at depth pc from column j0 (a
// multiple of nr) on, laid out as packB lays out a block.
func (pb *PackedB) panels(pc, kb, j0 int) []float32 {
	return pb.data[pc*pb.np+j0*kb:]
}

// SgemmPacked computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// as Sgemm does, with op(B) (k×n) taken from pb: op(A) is m×k (A is m×k, or
// k×m with transA) and C is m×n. The results are bit-for-bit those of Sgemm
// on the unpacked B. Invalid arguments panic with Sgemm's messages.
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	n, k := pb.n, pb.k
	// Check A and C as Sgemm does; B was checked when it was packed.
	checkArgs(transA, false, m, n, k, a, lda, nil, 0, c, ldc, false)
	if trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	p := &problem{
		transA: transA,
		m:      m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: a, lda: lda,
		c: c, ldc: ldc,
		packed: pb,
	}
	p.run(pb.kern)
}

// SgemmSerial is Sgemm computed on the calling goroutine alone, for callers
// that run many small independent products in parallel themselves (one
// attention head per goroutine, say). Arguments, results and panics are
// those of Sgemm.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
