package kernel

import "fmt"

// Gather copies row ids[i] of table (rows of width d) to row i of dst: an
// embedding lookup. An id outside the table is an error naming it.
func Gather[T Float](dst, table []T, ids []int, d int) error {
	v := len(table) / d
	for i, id := range ids {
		if id < 0 || id >= v {
			return fmt.Errorf("token id %d at position %d is outside the vocabulary [0, %d)", id, i, v)
		}
		copy(dst[i*d:(i+1)*d], table[id*d:(id+1)*d])
	}
	return nil
}

// ScatterAdd adds row i of dy (rows of width d) to row ids[i] of dtable: the
// gradient of Gather, accumulated (repeated ids add up, as in PyTorch).
// Clear dtable first for the gradient alone. ids must be valid.
func ScatterAdd[T Float](dtable, dy []T, ids []int, d int) {
	for i, id := range ids {
		dst, src := dtable[id*d:(id+1)*d], dy[i*d:(i+1)*d]
		for j, g := range src {
			dst[j] += g
		}
	}
}

// PositionBias sets dst [batch, heads, S, T] to T5's attention bias:
// dst[b,h,s,t] = table[buckets[s·T+t], h] + mask[b,s,t], the relative
// position bias looked up by bucket in table [buckets, heads] plus the
// additive mask [batch, S, T], added in that order as T5Attention does.
func PositionBias[T Float](dst, table []T, buckets []int, mask []T, batch, heads int) {
	st := len(buckets)
	ForEach(batch*heads, func(_, bh int) {
		b, h := bh/heads, bh%heads
		m, out := mask[b*st:(b+1)*st], dst[bh*st:(bh+1)*st]
		for i, k := range buckets {
			out[i] = table[k*heads+h] + m[i]
		}
	})
}

// PositionBiasBackward sets dtable [buckets, heads] to the gradient of
// PositionBias with respect to its table, from dy [batch, heads, S, T]: the
// sum of dy over the positions of each bucket.
func PositionBiasBackward[T Float](dtable, dy []T, buckets []int, batch, heads int) {
	clear(dtable)
	st := len(buckets)
	for bh := range batch * heads {
		h, src := bh%heads, dy[bh*st:(bh+1)*st]
		for i, k := range buckets {
			dtable[k*heads+h] += src[i]
		}
	}
}
