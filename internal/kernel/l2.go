package kernel

import "math"

// NormEps is torch.nn.functional.normalize's default eps.
const NormEps = 1e-12

// L2Normalize sets every row of dst (rows of width d) to the row of x over
// max(‖row‖₂, NormEps), as torch.nn.functional.normalize(x, p=2, dim=-1)
// and sentence-transformers' Normalize: the norm accumulated in float64
// and rounded to T (Norm2), each element divided by it in T, as torch
// divides a float32 tensor by its float32 norm. dst may be x.
func L2Normalize[T Float](dst, x []T, d int) {
	eachRow(len(x)/d, d, func(r int) {
		row, out := x[r*d:(r+1)*d], dst[r*d:(r+1)*d]
		n := Norm2(row)
		for i, v := range row {
			out[i] = v / n
		}
	})
}

// L2NormalizeBackward sets dx to the gradient of L2Normalize from x and the
// output gradient dy: (dy − y·⟨y, dy⟩)/‖x‖ with y = x/‖x‖, and dy/NormEps
// on rows whose norm is below NormEps (where the clamp holds). dx may alias
// dy.
func L2NormalizeBackward[T Float](dx, x, dy []T, d int) {
	eachRow(len(x)/d, d, func(r int) {
		row, g, out := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		n := math.Sqrt(SumSquares(row))
		if n < NormEps {
			for i, v := range g {
				out[i] = T(float64(v) / NormEps)
			}
			return
		}
		yg := Dot64(row, g) / n
		for i, v := range row {
			out[i] = T((float64(g[i]) - float64(v)/n*yg) / n)
		}
	})
}
