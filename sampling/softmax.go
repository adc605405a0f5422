package sampling

import "math"

// Softmax writes softmax(scores) to dst and returns it; dst may be scores
// itself, and a dst shorter than scores is replaced by a new slice. The
// arithmetic follows torch's float32 CPU kernel: e = exp(x - max), then
// e * (1 / sum(e)). -Inf scores get probability 0; if no score is finite the
// result is NaN everywhere, as in torch.
func Softmax(dst, scores []float32) []float32 {
	dst = fit(dst, len(scores))
	if len(scores) == 0 {
		return dst
	}
	m := maxScore(scores)
	var sum float64
	for i, s := range scores {
		e := float32(math.Exp(float64(s - m)))
		dst[i] = e
		sum += float64(e)
	}
	inv := 1 / float32(sum)
	for i := range dst {
		dst[i] *= inv
	}
	return dst
}

// LogSoftmax writes log(softmax(scores)) to dst and returns it; dst may be
// scores itself, and a dst shorter than scores is replaced by a new slice. As
// torch's kernel: (x - max) - log(sum(exp(x - max))), in float32 with the sum
// accumulated in float64.
func LogSoftmax(dst, scores []float32) []float32 {
	dst = fit(dst, len(scores))
	if len(scores) == 0 {
		return dst
	}
	m := maxScore(scores)
	var sum float64
	for _, s := range scores {
		sum += float64(float32(math.Exp(float64(s - m))))
	}
	logSum := float32(math.Log(float64(float32(sum))))
	for i, s := range scores {
		dst[i] = (s - m) - logSum
	}
	return dst
}

// Argmax returns the index of the largest score, the first one when several
// are equal, as torch.argmax does; a NaN counts as the largest. It returns -1
// for an empty slice.
func Argmax(scores []float32) int {
	best := -1
	for i, s := range scores {
		if s != s {
			return i
		}
		if best < 0 || s > scores[best] {
			best = i
		}
	}
	return best
}

// maxScore returns the largest score (NaN if any score is NaN).
func maxScore(scores []float32) float32 {
	m := scores[0]
	for _, s := range scores[1:] {
		if s > m || s != s {
			m = s
		}
	}
	return m
}

func fit(dst []float32, n int) []float32 {
	if cap(dst) < n {
		return make([]float32, n)
	}
	return dst[:n]
}
