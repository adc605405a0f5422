package kernel

import "math"

// SumSquares returns Σ x[i]² accumulated in float64 (the products of float32
// values are exact in float64; only the order of the additions differs
// between the portable and the AVX2 code). It is finite exactly when every
// value is: the float64 sum of squares of float32 values cannot overflow.
func SumSquares[T Float](x []T) float64 {
	if x32, ok := any(x).([]float32); ok && haveAVX2 {
		if n16 := len(x32) &^ 15; n16 > 0 {
			return sumSquares16(&x32[0], n16) + sumSquaresGo(x32[n16:])
		}
	}
	return sumSquaresGo(x)
}

// sumSquaresGo is the portable SumSquares: four interleaved partial sums
// so that the additions pipeline.
func sumSquaresGo[T Float](row []T) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(row); j += 4 {
		x := row[j : j+4 : j+4]
		s0 += float64(x[0]) * float64(x[0])
		s1 += float64(x[1]) * float64(x[1])
		s2 += float64(x[2]) * float64(x[2])
		s3 += float64(x[3]) * float64(x[3])
	}
	for ; j < len(row); j++ {
		s0 += float64(row[j]) * float64(row[j])
	}
	return (s0 + s1) + (s2 + s3)
}

// Norm2 returns max(‖x‖₂, NormEps) rounded to T: the divisor of
// torch.nn.functional.normalize, the norm accumulated in float64.
func Norm2[T Float](x []T) T { return T(math.Max(math.Sqrt(SumSquares(x)), NormEps)) }
