package gemm

// packA copies rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into dst as
// ⌈mc/mr⌉ micro-panels, each kc steps of mr consecutive row elements; rows
// past mc in the last panel are zero.
func (p *problem) packA(dst []float32, mr, i0, mc, p0, kc int) {
	for ir := 0; ir < mc; ir += mr {
		panel := dst[ir*kc : (ir+mr)*kc]
		rows := min(mr, mc-ir)
		if p.transA {
			// op(A)[i][q] = a[q*lda+i]: each step is a contiguous run of A.
			for q := range kc {
				src := p.a[(p0+q)*p.lda+i0+ir:][:rows]
				d := panel[q*mr : q*mr+mr]
				for r, v := range src {
					d[r] = v
				}
				clear(d[rows:])
			}
			continue
		}
		// op(A)[i][q] = a[i*lda+q]: each row of the panel is a row of A.
		packTransposed(panel, mr, p.a, p.lda, i0+ir, rows, p0, kc)
	}
}

// packB copies rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into dst as
// ⌈nc/nr⌉ micro-panels, each kc steps of nr consecutive column elements;
// columns past nc in the last panel are zero.
func (p *problem) packB(dst []float32, nr, p0, kc, j0, nc int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : (jr+nr)*kc]
		cols := min(nr, nc-jr)
		if !p.transB {
			// op(B)[q][j] = b[q*ldb+j]: each step is a contiguous run of B.
			for q := range kc {
				src := p.b[(p0+q)*p.ldb+j0+jr:][:cols]
				d := panel[q*nr : q*nr+nr]
				copy(d, src)
				clear(d[cols:])
			}
			continue
		}
		// op(B)[q][j] = b[j*ldb+q]: each column of the panel is a row of B.
		packTransposed(panel, nr, p.b, p.ldb, j0+jr, cols, p0, kc)
	}
}

// packSlack is how far past a packed block transpose8 may write; every
// pack buffer is this much longer than its block.
const packSlack = 8

// useTranspose8 selects the assembly transpose for packing; tests clear it
// to cover the element-by-element path.
var useTranspose8 = hasTranspose8

// zeros stands in for the rows past the edge of a matrix while packing.
var zeros [maxKC]float32

// maxKC bounds the depth of a packed block (kernel.kc).
const maxKC = 512

// packTransposed fills a micro-panel of kc steps of width elements, where
// element r of step q is src[(first+r)*ld + p0 + q] for r < count and zero
// for count ≤ r < width. Source rows become panel columns, so the work is a
// transpose: eight rows at a time in assembly, element by element for the
// last kc%8 steps or without it.
func packTransposed(panel []float32, width int, src []float32, ld, first, count, p0, kc int) {
	done := 0
	if useTranspose8 && kc >= 8 {
		done = kc &^ 7
		// transpose8's stores spill up to 8 floats past each step; going from
		// the last group of rows to the first lets the earlier groups
		// overwrite the spill, and the last step's spill lands in the slack.
		if cap(panel) < (done-1)*width+roundUp(width, 8) {
			panic("gemm: pack buffer lacks slack") // an internal sizing bug
		}
		for g := roundUp(width, 8) - 8; g >= 0; g -= 8 {
			var rows [8]*float32
			for r := range rows {
				if g+r < count {
					row := src[(first+g+r)*ld+p0:][:done]
					rows[r] = &row[0]
				} else {
					rows[r] = &zeros[0]
				}
			}
			transpose8(&panel[g], width, &rows, done)
		}
	}
	if done == kc {
		return
	}
	for r := range width {
		if r >= count {
			for q := done; q < kc; q++ {
				panel[q*width+r] = 0
			}
			continue
		}
		row := src[(first+r)*ld+p0:][:kc]
		for q := done; q < kc; q++ {
			panel[q*width+r] = row[q]
		}
	}
}
