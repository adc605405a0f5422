package kernel

import "math"

// MaskedValue is what an additive mask holds where a key is masked out: the
// most negative float32, as Hugging Face uses (torch.finfo(float32).min).
const MaskedValue = -math.MaxFloat32

// SoftmaxRow sets row to softmax(row + mask) in place; mask (as long as
// row) may be nil. From the row maximum on it computes in float64: e^(x −
// max) by the fast exponential, the sum, and one multiplication by the
// reciprocal of the sum, rounded once to T. A row of all −Inf gives NaN, as
// in torch.
func SoftmaxRow[T Float](row, mask []T) {
	if mask != nil {
		mask = mask[:len(row)]
	}
	hi := T(math.Inf(-1))
	lo := 0
	if r32, ok := any(row).([]float32); ok && haveAVX2 {
		var m32 []float32
		switch {
		case mask != nil:
			m32 = any(mask).([]float32)
		case len(row) <= len(zeros):
			m32 = zeros[:len(row)] // the vector maximum, adding zeros
		}
		if m32 != nil {
			hi = T(addMaxAVX2(r32, m32))
			lo = len(row) &^ 7
		}
	}
	for j := lo; j < len(row); j++ {
		if mask != nil {
			row[j] += mask[j]
		}
		if row[j] > hi {
			hi = row[j]
		}
	}
	inv := 1 / expShift(row, float64(hi))
	lo = 0
	if r32, ok := any(row).([]float32); ok && haveAVX2 {
		scaleAVX2(r32, inv)
		lo = len(row) &^ 3
	}
	for j := lo; j < len(row); j++ {
		row[j] = T(float64(row[j]) * inv)
	}
}

// zeros is the mask of unmasked float32 rows up to its length: read, never
// written.
var zeros [1 << 12]float32

// expShift sets row[j] = e^(row[j] − hi) and returns the sum of the
// exponentials (before rounding to T).
func expShift[T Float](row []T, hi float64) float64 {
	var sum float64
	lo := 0
	if r32, ok := any(row).([]float32); ok && haveAVX2 {
		var lanes [4]float64
		expShiftAVX2(r32, hi, &lanes)
		sum = lanes[0] + lanes[1] + lanes[2] + lanes[3]
		lo = len(row) &^ 3
	}
	for j, v := range row[lo:] {
		e := exp(float64(v) - hi)
		row[lo+j] = T(e)
		sum += e
	}
	return sum
}

// Softmax sets dst to the softmax of every row of width d of x (dst may be
// x), as SoftmaxRow does.
func Softmax[T Float](dst, x []T, d int) {
	if len(x) == 0 {
		return
	}
	if &dst[0] != &x[0] {
		copy(dst, x)
	}
	eachRow(len(x)/d, d, func(r int) {
		SoftmaxRow(dst[r*d:(r+1)*d], nil)
	})
}

// SoftmaxBackward sets dx = y ⊙ (dy − Σ dy⊙y) row by row, the gradient of
// Softmax from its output y and output gradient dy (dx may alias dy).
func SoftmaxBackward[T Float](dx, y, dy []T, d int) {
	eachRow(len(y)/d, d, func(r int) {
		yr, gr, dr := y[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		dot := Dot64(gr, yr)
		for j := range dr {
			dr[j] = T(float64(yr[j]) * (float64(gr[j]) - dot))
		}
	})
}

// LogSumExp returns log Σ e^row[j], from the maximum in float64 (−Inf for
// an empty or all −Inf row, NaN if any value is NaN).
func LogSumExp[T Float](row []T) float64 {
	hi := math.Inf(-1)
	for _, v := range row {
		f := float64(v)
		if f > hi || f != f {
			hi = f
		}
	}
	if math.IsInf(hi, -1) || hi != hi {
		return hi
	}
	var sum float64
	for _, v := range row {
		sum += exp(float64(v) - hi)
	}
	return hi + math.Log(sum)
}

// LogSoftmax sets dst to log(softmax(x)) of every row of width d of x (dst
// may be x): x − logΣe^x, in float64.
func LogSoftmax[T Float](dst, x []T, d int) {
	eachRow(len(x)/d, d, func(r int) {
		row, out := x[r*d:(r+1)*d], dst[r*d:(r+1)*d]
		lse := LogSumExp(row)
		for j, v := range row {
			out[j] = T(float64(v) - lse)
		}
	})
}

// LogSoftmaxBackward sets dx = dy − softmax·Σdy row by row, the gradient of
// LogSoftmax from its output y and output gradient dy (dx may alias dy).
func LogSoftmaxBackward[T Float](dx, y, dy []T, d int) {
	eachRow(len(y)/d, d, func(r int) {
		yr, gr, dr := y[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		var sum float64
		for _, g := range gr {
			sum += float64(g)
		}
		for j := range dr {
			dr[j] = T(float64(gr[j]) - math.Exp(float64(yr[j]))*sum)
		}
	})
}

// Dot64 is Σ x[i]·y[i] in float64, in two interleaved partial sums.
func Dot64[T Float](x, y []T) float64 {
	y = y[:len(x)]
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
	}
	if i < len(x) {
		s0 += float64(x[i]) * float64(y[i])
	}
	return s0 + s1
}
