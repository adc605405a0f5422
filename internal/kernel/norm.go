package kernel

import "math"

// RMSNorm sets every row of dst (rows of width len(w)) to T5LayerNorm of the
// row of x: w ⊙ x / sqrt(mean(x²) + eps), with no mean subtraction and no
// bias; mean(x²) is accumulated in float64. dst may be x.
func RMSNorm[T Float](dst, x, w []T, eps float64) {
	d := len(w)
	eachRow(len(x)/d, d, func(r int) {
		row, out := x[r*d:(r+1)*d], dst[r*d:(r+1)*d]
		ri := rmsInv(row, eps)
		for j, wj := range w {
			out[j] = T(float64(wj) * (float64(row[j]) * ri))
		}
	})
}

// rmsInv returns 1/sqrt(mean(x²)+eps) of one row.
func rmsInv[T Float](x []T, eps float64) float64 {
	return 1 / math.Sqrt(Dot64(x, x)/float64(len(x))+eps)
}

// RMSNormBackward computes the gradients of RMSNorm from x, w and the
// output gradient dy: with r = 1/sqrt(mean(x²)+eps) and g = dy ⊙ w,
// dx = r·(g − x·r²·mean(g ⊙ x)) and dw = Σ_rows dy ⊙ x·r. Either of dx and
// dw may be nil to skip it.
func RMSNormBackward[T Float](dx, dw, x, w, dy []T, eps float64) {
	d := len(w)
	n := len(x) / d
	if dx != nil {
		eachRow(n, d, func(i int) {
			row, gr, out := x[i*d:(i+1)*d], dy[i*d:(i+1)*d], dx[i*d:(i+1)*d]
			ri := rmsInv(row, eps)
			var gx float64
			for j, wj := range w {
				gx += float64(gr[j]) * float64(wj) * float64(row[j])
			}
			c := ri * ri * gx / float64(d)
			for j, wj := range w {
				out[j] = T(ri * (float64(gr[j])*float64(wj) - float64(row[j])*c))
			}
		})
	}
	if dw != nil {
		r := make([]float64, n)
		eachRow(n, d, func(i int) {
			r[i] = rmsInv(x[i*d:(i+1)*d], eps)
		})
		sumColumns(dw, n, func(i, j int) float64 { return float64(dy[i*d+j]) * float64(x[i*d+j]) * r[i] })
	}
}

// sumColumns sets dst[j] = Σ_i f(i, j) over n rows, summing each column in
// row order (in parallel over columns).
func sumColumns[T Float](dst []T, n int, f func(i, j int) float64) {
	ParallelFor(len(dst), 64, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for i := 0; i < n; i++ {
			for j := range acc {
				acc[j] += f(i, lo+j)
			}
		}
		for j, v := range acc {
			dst[lo+j] = T(v)
		}
	})
}

// SumRows sets dst [d] to the sum of the rows of x (rows of width len(dst)):
// the gradient of a bias added to every row.
func SumRows[T Float](dst, x []T) {
	d := len(dst)
	n := len(x) / max(d, 1)
	ParallelFor(d, 64, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for r := 0; r < n; r++ {
			for i, v := range x[r*d+lo : r*d+hi] {
				acc[i] += float64(v)
			}
		}
		for i, v := range acc {
			dst[lo+i] = T(v)
		}
	})
}

// moments returns the mean and 1/sqrt(var + eps) of one row (the biased
// variance). The sums run in four interleaved partial sums (independent
// chains of additions, four times the throughput of one).
func moments[T Float](row []T, eps float64) (mean, rstd float64) {
	n := len(row)
	var s [4]float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s[0] += float64(row[i])
		s[1] += float64(row[i+1])
		s[2] += float64(row[i+2])
		s[3] += float64(row[i+3])
	}
	for ; i < n; i++ {
		s[0] += float64(row[i])
	}
	mean = (s[0] + s[1] + s[2] + s[3]) / float64(n)
	s = [4]float64{}
	i = 0
	for ; i+4 <= n; i += 4 {
		d0, d1, d2, d3 := float64(row[i])-mean, float64(row[i+1])-mean, float64(row[i+2])-mean, float64(row[i+3])-mean
		s[0] += d0 * d0
		s[1] += d1 * d1
		s[2] += d2 * d2
		s[3] += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(row[i]) - mean
		s[0] += d * d
	}
	return mean, 1 / math.Sqrt((s[0]+s[1]+s[2]+s[3])/float64(n)+eps)
}

// sumRow returns row r (of width d) of x + res, in buf; of x alone when res
// is nil.
func sumRow[T Float](x, res []T, r, d int, buf []T) []T {
	if res == nil {
		return x[r*d : (r+1)*d]
	}
	for i, v := range x[r*d : (r+1)*d] {
		buf[i] = v + res[r*d+i]
	}
	return buf
}

// LayerNorm sets every row of dst (rows of width len(w)) to torch's
// LayerNorm of the row of x + res (x alone for res nil): (z − mean) /
// sqrt(var + eps) · w + b with the biased variance, in float64. res, the
// residual of a post-LN block, saves materializing the sum. dst may be x.
func LayerNorm[T Float](dst, x, res, w, b []T, eps float64) {
	d := len(w)
	eachRow(len(x)/d, d, func(r int) {
		out := dst[r*d : (r+1)*d]
		row := sumRow(x, res, r, d, out) // the sum goes to out, then is normalized in place
		mean, rstd := moments(row, eps)
		for i, v := range row {
			out[i] = T((float64(v)-mean)*rstd*float64(w[i]) + float64(b[i]))
		}
	})
}

// LayerNormBackward computes the gradients of LayerNorm at z = x + res (x
// alone for res nil) from w and the output gradient dy: with x̂ the
// normalized z and ĝ = dy ⊙ w, dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))
// (also the gradient of res), dw = Σ_rows dy ⊙ x̂ and db = Σ_rows dy. Any of
// dx, dw, db may be nil to skip it.
func LayerNormBackward[T Float](dx, dw, db, x, res, w, dy []T, eps float64) {
	d := len(w)
	nr := len(x) / d
	if dx != nil {
		ParallelFor(nr, RowGrain(d), func(lo, hi int) {
			var buf []T
			if res != nil {
				buf = make([]T, d)
			}
			for r := lo; r < hi; r++ {
				row, gr, dst := sumRow(x, res, r, d, buf), dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
				mean, rstd := moments(row, eps)
				var sg, sgx [2]float64 // Σ ĝ and Σ ĝ·x̂, in two partial sums each
				i := 0
				for ; i+2 <= d; i += 2 {
					g0, g1 := float64(gr[i])*float64(w[i]), float64(gr[i+1])*float64(w[i+1])
					sg[0] += g0
					sg[1] += g1
					sgx[0] += g0 * (float64(row[i]) - mean) * rstd
					sgx[1] += g1 * (float64(row[i+1]) - mean) * rstd
				}
				if i < d {
					gh := float64(gr[i]) * float64(w[i])
					sg[0] += gh
					sgx[0] += gh * (float64(row[i]) - mean) * rstd
				}
				mg, mgx := (sg[0]+sg[1])/float64(d), (sgx[0]+sgx[1])/float64(d)
				for i, v := range row {
					xh := (float64(v) - mean) * rstd
					gh := float64(gr[i]) * float64(w[i])
					dst[i] = T(rstd * (gh - mg - xh*mgx))
				}
			}
		})
	}
	if dw != nil {
		mom := make([]float64, 2*nr)
		ParallelFor(nr, RowGrain(d), func(lo, hi int) {
			var buf []T
			if res != nil {
				buf = make([]T, d)
			}
			for r := lo; r < hi; r++ {
				mom[2*r], mom[2*r+1] = moments(sumRow(x, res, r, d, buf), eps)
			}
		})
		sumColumns(dw, nr, func(r, j int) float64 {
			z := float64(x[r*d+j])
			if res != nil {
				z = float64(x[r*d+j] + res[r*d+j])
			}
			return float64(dy[r*d+j]) * (z - mom[2*r]) * mom[2*r+1]
		})
	}
	if db != nil {
		SumRows(db, dy)
	}
}
