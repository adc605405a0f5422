package sampling

import "github.com/genq-go/genq/internal/kernel"

// Softmax writes softmax(scores) to dst and returns it; dst may be scores
// itself, and a dst shorter than scores is replaced by a new slice. From the
// maximum on it computes in float64 (e^(x − max), their sum, one
// multiplication by its reciprocal) and rounds once to float32, within one
// float32 rounding of torch's float32 CPU kernel. -Inf scores get
// probability 0; if no score is finite, or one is NaN, the result is NaN
// everywhere, as in torch.
func Softmax(dst, scores []float32) []float32 {
	dst = fit(dst, len(scores))
	copy(dst, scores)
	kernel.SoftmaxRow(dst, nil)
	return dst
}

// LogSoftmax writes log(softmax(scores)) to dst and returns it; dst may be
// scores itself, and a dst shorter than scores is replaced by a new slice:
// x − log Σ e^x, from the maximum in float64, rounded once to float32.
func LogSoftmax(dst, scores []float32) []float32 {
	dst = fit(dst, len(scores))
	if len(scores) > 0 {
		kernel.LogSoftmax(dst, scores, len(scores))
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

func fit(dst []float32, n int) []float32 {
	if cap(dst) < n {
		return make([]float32, n)
	}
	return dst[:n]
}
