package t5

import "math"

// RelativePositionBucket maps relativePosition = key position − query position
// to one of numBuckets buckets, as T5Attention._relative_position_bucket does:
// half of the buckets are exact offsets, the others grow logarithmically up to
// maxDistance, beyond which all offsets share the last bucket. Bidirectional
// (encoder) buckets give positive and negative offsets separate halves; causal
// (decoder) buckets treat future positions as offset 0.
//
// The logarithm is evaluated in float32 as PyTorch does, so buckets agree at
// the boundaries too.
func RelativePositionBucket(relativePosition int, bidirectional bool, numBuckets, maxDistance int) int {
	bucket := 0
	n := relativePosition
	if bidirectional {
		numBuckets /= 2
		if n > 0 {
			bucket += numBuckets
		}
		if n < 0 {
			n = -n
		}
	} else {
		if n > 0 {
			n = 0
		}
		n = -n
	}
	maxExact := numBuckets / 2
	if n < maxExact {
		return bucket + n
	}
	ratio := float32(n) / float32(maxExact)
	logRatio := float32(math.Log(float64(ratio)))
	scaled := logRatio / float32(math.Log(float64(maxDistance)/float64(maxExact))) * float32(numBuckets-maxExact)
	large := maxExact + int(scaled)
	if large > numBuckets-1 {
		large = numBuckets - 1
	}
	return bucket + large
}

// relativeBuckets returns the buckets of a [queries, keys] attention block
// whose query i sits at position qPos[i] and key j at kPos[j], row-major.
func relativeBuckets(qPos, kPos []int, bidirectional bool, cfg Config) []int {
	out := make([]int, len(qPos)*len(kPos))
	for i, q := range qPos {
		for j, k := range kPos {
			out[i*len(kPos)+j] = RelativePositionBucket(k-q, bidirectional, cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance)
		}
	}
	return out
}

func positions(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}
