package t5

import (
	"fmt"
	"math"
)

// MaxSequenceLength is the longest token sequence, encoder input or decoder
// input, that the full-sequence passes (Encode, Logits, Loss, Score and the
// encoder pass of Generate) accept. Their memory grows with the square of
// the length (the relative-position bias, the attention masks and scores are
// length × length per head), so a longer row is refused before anything is
// allocated for it. T5 checkpoints were trained on 512 tokens, the
// model_max_length of their tokenizers; the cap leaves room eight times that.
// Generation's decoder grows its key/value cache with the tokens it emits and
// is bounded by MaxLength / MaxNewTokens instead.
const MaxSequenceLength = 4096

// checkSequenceLength refuses a row of n tokens longer than MaxSequenceLength.
func checkSequenceLength(what string, n int) error {
	if n > MaxSequenceLength {
		return fmt.Errorf("t5: %s of %d tokens is longer than the %d (MaxSequenceLength) a T5 pass accepts; truncate it (T5 was trained on 512)",
			what, n, MaxSequenceLength)
	}
	return nil
}

// RelativePositionBucket maps relativePosition = key position − query position
// to one of numBuckets buckets, as T5Attention._relative_position_bucket does:
// half of the buckets are exact offsets, the others grow logarithmically up to
// maxDistance, beyond which all offsets share the last bucket. Bidirectional
// (encoder) buckets give positive and negative offsets separate halves; causal
// (decoder) buckets treat future positions as offset 0.
//
// The logarithm is evaluated in float32 as PyTorch does, so buckets agree at
// the boundaries too.
//
// It returns -1 where transformers' formula gives no bucket of the table
// [0, numBuckets): when maxDistance is not above the exact half (num_buckets/4
// bidirectional, num_buckets/2 causal), the logarithmic branch divides by
// log(maxDistance/maxExact) ≤ 0, and beyond some offset its result is
// NaN, infinite or negative, an index that makes transformers fail (an
// IndexError on the CPU). Offsets below that one get exactly transformers'
// buckets, including the odd ones such configs give. It also returns -1 for
// numBuckets or maxDistance that leave no bucket at all (fewer than 2 buckets
// per direction, maxDistance ≤ 0: transformers raises there at every call).
func RelativePositionBucket(relativePosition int, bidirectional bool, numBuckets, maxDistance int) int {
	total := numBuckets
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
		n = -min(n, 0)
	}
	maxExact := numBuckets / 2
	if maxExact < 1 || maxDistance <= 0 || n < 0 { // n < 0: −MinInt
		return -1
	}
	if n < maxExact {
		return bucket + n
	}
	ratio := float32(n) / float32(maxExact)
	logRatio := float32(math.Log(float64(ratio)))
	scaled := logRatio / float32(math.Log(float64(maxDistance)/float64(maxExact))) * float32(numBuckets-maxExact)
	// .to(torch.long) truncates toward zero; NaN, ±Inf and values out of
	// int64's range have no defined conversion.
	if scaled != scaled || math.Abs(float64(scaled)) >= 1<<62 {
		return -1
	}
	large := min(maxExact+int(scaled), numBuckets-1)
	if b := bucket + large; b >= 0 && b < total {
		return b
	}
	return -1
}

// relativeBuckets returns the buckets [s·s], row-major, of an attention block
// whose queries and keys are positions 0..s-1 of which the first real ones
// are tokens of some row (the rest padding, masked or discarded). It fails
// when two real positions are at an offset without a valid bucket (see
// RelativePositionBucket); pairs that involve padding get bucket 0 there.
// Each offset's bucket is computed once.
func relativeBuckets(s, real int, bidirectional bool, cfg Config) ([]int, error) {
	nb, md := cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance
	byOffset := make([]int, 2*s-1) // offset k − q + s − 1
	for off := range byOffset {
		rel := off - (s - 1)
		bk := RelativePositionBucket(rel, bidirectional, nb, md)
		if bk < 0 {
			if abs(rel) < real {
				return nil, bucketError(rel, bidirectional, cfg)
			}
			bk = 0
		}
		byOffset[off] = bk
	}
	out := make([]int, s*s)
	for q := 0; q < s; q++ {
		copy(out[q*s:(q+1)*s], byOffset[s-1-q:])
	}
	return out, nil
}

// bucketError is the error for two positions at offset rel that have no
// valid relative-position bucket.
func bucketError(rel int, bidirectional bool, cfg Config) error {
	where := "decoder"
	if bidirectional {
		where = "encoder"
	}
	return fmt.Errorf("t5: relative_attention_max_distance=%d with relative_attention_num_buckets=%d gives %s positions %d apart no valid bucket (transformers fails with an index error there too); keep %s sequences to %d tokens or fewer, or fix config.json",
		cfg.RelativeAttentionMaxDistance, cfg.RelativeAttentionNumBuckets, where, abs(rel), where, abs(rel))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
