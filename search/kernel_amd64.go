//go:build amd64 && !purego

package search

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		scoreTile = scoreTileAVX2
		kernelName = "avx2-fma"
	}
}

// dot4x3 computes the 12 dot products of four queries (rows qstride bytes
// apart) with three corpus rows (cstride bytes apart) over their first n
// floats, n a positive multiple of 8. Implemented in kernel_amd64.s.
//
//go:noescape
func dot4x3(q *float32, qstride int, c *float32, cstride int, n int, out *[12]float32)

// dot1x3 computes the 3 dot products of one query with three corpus rows over
// their first n floats, n a positive multiple of 8.
//
//go:noescape
func dot1x3(q *float32, c *float32, cstride int, n int, out *[3]float32)

// scoreTileAVX2 is scoreTile with the assembly kernels: blocks of three
// corpus rows against four queries at a time (one for the last nq%4), the
// last dim%8 columns added in Go. Every score goes through the same
// arithmetic (eight float32 FMA lanes, the same lane reduction, the same
// tail), whichever block it falls in: a final block of fewer than three rows
// is padded with zero rows. So a score does not depend on chunking, worker
// count or the other queries of the batch.
func scoreTileAVX2(out, q []float32, nq int, c []float32, rows, dim int) {
	n8 := dim &^ 7
	if n8 == 0 {
		scoreTileGo(out, q, nq, c, rows, dim)
		return
	}
	stride := dim * int(unsafe.Sizeof(float32(0)))
	// Nine corpus rows and four queries are scored together: for dim 768
	// that is 39 KB, inside a 48 KB L1 cache, so each query row fetched from
	// L2 serves three kernel calls.
	const group = 9
	var acc [12]float32
	var acc3 [3]float32
	for g := 0; g < rows; g += group {
		ge := min(g+group, rows)
		i := 0
		for ; i+4 <= nq; i += 4 {
			for r := g; r < ge; r += 3 {
				cb, nb := block3(c, r, ge, dim)
				dot4x3(&q[i*dim], stride, &cb[0], stride, n8, &acc)
				if nb == 3 && n8 == dim { // the common case, without the tail
					for a := range 4 {
						o := out[(i+a)*rows+r : (i+a)*rows+r+3]
						o[0], o[1], o[2] = acc[3*a], acc[3*a+1], acc[3*a+2]
					}
					continue
				}
				for a := range 4 {
					for b := range nb {
						out[(i+a)*rows+r+b] = acc[3*a+b] + tailDot(q[(i+a)*dim:(i+a+1)*dim], cb[b*dim:(b+1)*dim], n8)
					}
				}
			}
		}
		for ; i < nq; i++ {
			for r := g; r < ge; r += 3 {
				cb, nb := block3(c, r, ge, dim)
				dot1x3(&q[i*dim], &cb[0], stride, n8, &acc3)
				for b := range nb {
					out[i*rows+r+b] = acc3[b] + tailDot(q[i*dim:(i+1)*dim], cb[b*dim:(b+1)*dim], n8)
				}
			}
		}
	}
}

// block3 returns the three corpus rows starting at row r (of the rows before
// end) for a kernel call, and how many of them are real: a block cut short
// by end is copied and padded with zero rows.
func block3(c []float32, r, end, dim int) ([]float32, int) {
	if r+3 <= end {
		return c[r*dim:], 3
	}
	cb := make([]float32, 3*dim)
	copy(cb, c[r*dim:end*dim])
	return cb, end - r
}

// tailDot returns the dot product of a[from:] and b[from:] (0 when from is
// the full length).
func tailDot(a, b []float32, from int) float32 {
	if from == len(a) {
		return 0
	}
	return dot(a[from:], b[from:])
}
