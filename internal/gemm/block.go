package gemm

import (
	"runtime"
	"sync/atomic"

	"github.com/genq-go/genq/internal/parallel"
)

// problem is one validated Sgemm call with alpha ≠ 0 and m, n, k ≥ 1.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	packed         *PackedB // op(B) packed in advance (b, ldb and transB unused), or nil
	serial         bool     // stay on the calling goroutine
}

// parallelMinFlops is the size (2·m·n·k) below which a product runs on the
// calling goroutine alone: smaller ones finish before helpers would start.
const parallelMinFlops = 4 << 20

// maxThreads caps the goroutines of one Sgemm call; 0 means GOMAXPROCS.
var maxThreads atomic.Int64

// SetMaxThreads caps the number of goroutines one Sgemm call may use and
// returns the previous cap. n ≤ 0 restores the default, GOMAXPROCS.
func SetMaxThreads(n int) int {
	return int(maxThreads.Swap(int64(max(n, 0))))
}

func threads() int {
	if n := int(maxThreads.Load()); n > 0 {
		return min(n, runtime.GOMAXPROCS(0))
	}
	return runtime.GOMAXPROCS(0)
}

// run computes the product with kern, splitting C into bands of rows or of
// columns (whichever dimension is longer) when several goroutines pay off.
func (p *problem) run(kern *kernel) {
	workers := threads()
	if p.serial || 2*float64(p.m)*float64(p.n)*float64(p.k) < parallelMinFlops {
		workers = 1
	}
	// Bands of whole micro-tiles of rows or of columns, whichever dimension
	// is longer.
	if p.m >= p.n {
		parallel.ForOn(workers, ceilDiv(p.m, kern.mr), 1, func(lo, hi int) {
			p.block(kern, lo*kern.mr, min(hi*kern.mr, p.m), 0, p.n)
		})
		return
	}
	parallel.ForOn(workers, ceilDiv(p.n, kern.nr), 1, func(lo, hi int) {
		p.block(kern, 0, p.m, lo*kern.nr, min(hi*kern.nr, p.n))
	})
}

// block computes rows [i0, i1) × columns [j0, j1) of C on one goroutine.
func (p *problem) block(kern *kernel, i0, i1, j0, j1 int) {
	buf := kern.getBuffers()
	defer kern.putBuffers(buf)

	kc := depthBlock(kern, p.k)
	if p.packed != nil {
		kc = p.packed.kc
	}
	for jc := j0; jc < j1; jc += kern.nc {
		nc := min(kern.nc, j1-jc)
		for pc := 0; pc < p.k; pc += kc {
			kb := min(kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1 // later depth blocks accumulate onto the first
			}
			bp := buf.b
			if p.packed != nil {
				bp = p.packed.panels(pc, kb, jc)
			} else {
				p.packB(buf.b, kern.nr, pc, kb, jc, nc)
			}
			for ic := i0; ic < i1; ic += kern.mc {
				mc := min(kern.mc, i1-ic)
				p.packA(buf.a, kern.mr, ic, mc, pc, kb)
				p.macro(kern, buf, bp, ic, mc, jc, nc, kb, beta)
			}
		}
	}
}

// depthBlock is the depth of the packed blocks of a product of depth k:
// equal-sized blocks of at most kern.kc, so k = 768 becomes 3×256 and
// k = 300 becomes 2×152.
func depthBlock(kern *kernel, k int) int {
	return roundUp(ceilDiv(k, ceilDiv(k, kern.kc)), 4)
}

// macro multiplies the packed mc×kb block of A (in buf.a) by the packed kb×nc
// block of B (bpack, micro-panels of nr columns) into C[ic:ic+mc, jc:jc+nc],
// one mr×nr tile at a time. The B micro-panel stays in L1 while the loop
// walks down the A block.
func (p *problem) macro(kern *kernel, buf *buffers, bpack []float32, ic, mc, jc, nc, kb int, beta float32) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < nc; jr += nr {
		bp := bpack[jr*kb : (jr+nr)*kb]
		cols := min(nr, nc-jr)
		for ir := 0; ir < mc; ir += mr {
			ap := buf.a[ir*kb : (ir+mr)*kb]
			rows := min(mr, mc-ir)
			c := p.c[(ic+ir)*p.ldc+jc+jr:]
			if rows == mr && cols == nr {
				kern.tile(kb, ap, bp, c, p.ldc, p.alpha, beta)
				continue
			}
			kern.tile(kb, ap, bp, buf.edge, nr, p.alpha, 0)
			mergeEdge(c, p.ldc, buf.edge, nr, rows, cols, beta)
		}
	}
}

// mergeEdge sets C = T + beta*C on the rows×cols corner of an edge tile T.
func mergeEdge(c []float32, ldc int, t []float32, ldt, rows, cols int, beta float32) {
	for i := range rows {
		src := t[i*ldt : i*ldt+cols]
		dst := c[i*ldc : i*ldc+cols]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
