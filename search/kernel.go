package search

// scoreTile writes out[i*rows+r] = q_i · c_r for the nq queries of q and the
// rows corpus rows of c (both row-major with dim columns). It is scoreTileGo
// unless an assembly kernel for the CPU replaces it at init.
var scoreTile = scoreTileGo

// kernelName names the kernels in use (for test and benchmark logs).
var kernelName = "go"

// scoreTileGo is the portable scoreTile: blocks of two queries × four rows.
// Every score is the same sequential float32 sum of rounded products (the
// explicit float32 conversions forbid fusing into FMA, which some
// architectures would do), whichever block it falls in.
func scoreTileGo(out, q []float32, nq int, c []float32, rows, dim int) {
	i := 0
	for ; i+2 <= nq; i += 2 {
		q0, q1 := q[i*dim:(i+1)*dim], q[(i+1)*dim:(i+2)*dim]
		o0, o1 := out[i*rows:(i+1)*rows], out[(i+1)*rows:(i+2)*rows]
		r := 0
		for ; r+4 <= rows; r += 4 {
			c4 := c[r*dim : (r+4)*dim]
			dot2x4(q0, q1, c4[:dim], c4[dim:2*dim], c4[2*dim:3*dim], c4[3*dim:], o0[r:r+4], o1[r:r+4])
		}
		for ; r < rows; r++ {
			cr := c[r*dim : (r+1)*dim]
			o0[r], o1[r] = dot(q0, cr), dot(q1, cr)
		}
	}
	for ; i < nq; i++ {
		qi, oi := q[i*dim:(i+1)*dim], out[i*rows:(i+1)*rows]
		for r := range rows {
			oi[r] = dot(qi, c[r*dim:(r+1)*dim])
		}
	}
}

// dot2x4 computes the eight dot products of two queries with four corpus
// rows in one pass, so that each loaded value is used several times.
func dot2x4(q0, q1, c0, c1, c2, c3, o0, o1 []float32) {
	n := len(q0)
	q1, c0, c1, c2, c3 = q1[:n], c0[:n], c1[:n], c2[:n], c3[:n]
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	for j, a := range q0 {
		b := q1[j]
		x0, x1, x2, x3 := c0[j], c1[j], c2[j], c3[j]
		s00 += float32(a * x0)
		s01 += float32(a * x1)
		s02 += float32(a * x2)
		s03 += float32(a * x3)
		s10 += float32(b * x0)
		s11 += float32(b * x1)
		s12 += float32(b * x2)
		s13 += float32(b * x3)
	}
	o0[0], o0[1], o0[2], o0[3] = s00, s01, s02, s03
	o1[0], o1[1], o1[2], o1[3] = s10, s11, s12, s13
}

// dot returns a · b as a sequential float32 sum of rounded products.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for j, x := range a {
		s += float32(x * b[j])
	}
	return s
}
