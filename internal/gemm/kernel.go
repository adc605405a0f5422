package gemm

import "sync"

// tileFunc computes one mr×nr tile of C:
//
//	C[i][j] = alpha * Σ_q a[q*mr+i] * b[q*nr+j] + beta * C[i][j]
//
// for i < mr, j < nr, where a and b are packed micro-panels of k ≥ 1 steps
// and C[i][j] is c[i*ldc+j]. When beta is zero C is only written.
type tileFunc func(k int, a, b, c []float32, ldc int, alpha, beta float32)

// kernel is a micro-kernel together with the cache blocking tuned for it.
type kernel struct {
	name   string
	mr, nr int // register tile: mr rows × nr columns of C
	mc     int // rows of A packed per block (sized for L2), a multiple of mr
	kc     int // depth of a packed block (a B micro-panel fills about half of L1)
	nc     int // columns of B packed per block (sized for L3), a multiple of nr
	tile   tileFunc

	pool sync.Pool // *buffers sized for this kernel
}

// buffers are one worker's packing space.
type buffers struct {
	a    []float32 // mc×kc packed A block
	b    []float32 // kc×nc packed B block
	edge []float32 // mr×nr tile for the ragged edges of C
}

func (kern *kernel) getBuffers() *buffers {
	if v, ok := kern.pool.Get().(*buffers); ok {
		return v
	}
	return &buffers{
		a:    make([]float32, kern.mc*kern.kc+packSlack),
		b:    make([]float32, kern.kc*kern.nc+packSlack),
		edge: make([]float32, kern.mr*kern.nr),
	}
}

func (kern *kernel) putBuffers(v *buffers) { kern.pool.Put(v) }

// goKernel is the portable fallback: a 4×4 register tile in plain Go.
var goKernel = &kernel{
	name: "go4x4",
	mr:   4, nr: 4,
	mc: 128, kc: 256, nc: 1024,
	tile: tileGo4x4,
}

// active is the kernel Sgemm uses; chosen in init from the CPU's features.
var active = goKernel

// KernelName reports which micro-kernel Sgemm runs on this CPU:
// "avx512-12x32", "avx2-6x16" or "go4x4".
func KernelName() string { return active.name }

// tileGo4x4 is the tileFunc of goKernel.
func tileGo4x4(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a, b = a[:4*k], b[:4*k]
	for q := 0; q+4 <= len(a); q += 4 {
		av := a[q : q+4 : q+4]
		bv := b[q : q+4 : q+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0*ldc:], c00, c01, c02, c03, alpha, beta)
	storeRow4(c[1*ldc:], c10, c11, c12, c13, alpha, beta)
	storeRow4(c[2*ldc:], c20, c21, c22, c23, alpha, beta)
	storeRow4(c[3*ldc:], c30, c31, c32, c33, alpha, beta)
}

// storeRow4 writes alpha*(x0..x3) + beta*row[0:4] to row[0:4].
func storeRow4(row []float32, x0, x1, x2, x3, alpha, beta float32) {
	row = row[:4:4]
	if beta == 0 {
		row[0], row[1], row[2], row[3] = alpha*x0, alpha*x1, alpha*x2, alpha*x3
		return
	}
	row[0] = alpha*x0 + beta*row[0]
	row[1] = alpha*x1 + beta*row[1]
	row[2] = alpha*x2 + beta*row[2]
	row[3] = alpha*x3 + beta*row[3]
}
