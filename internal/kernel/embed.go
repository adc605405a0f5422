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

// Permute4 views x as a 4-D row-major array of dims and sets dst to it with
// its axes permuted: axis i of dst is axis perm[i] of x (perm {0, 2, 1, 3}
// splits [B·S, H·D] into heads [B·H, S, D] and merges them back).
// Permute4(dst, x, dims, perm) is undone by Permute4 with the inverse
// permutation of the permuted dims.
func Permute4[T Float](dst, x []T, dims, perm [4]int) {
	var od, stride [4]int
	for i, p := range perm {
		od[i] = dims[p]
	}
	stride[3] = 1
	for i := 2; i >= 0; i-- {
		stride[i] = stride[i+1] * dims[i+1]
	}
	s0, s1, s2, s3 := stride[perm[0]], stride[perm[1]], stride[perm[2]], stride[perm[3]]
	k := 0
	for a := 0; a < od[0]; a++ {
		for b := 0; b < od[1]; b++ {
			for c := 0; c < od[2]; c++ {
				base := a*s0 + b*s1 + c*s2
				if s3 == 1 {
					k += copy(dst[k:k+od[3]], x[base:base+od[3]])
					continue
				}
				for d := 0; d < od[3]; d++ {
					dst[k] = x[base+d*s3]
					k++
				}
			}
		}
	}
}
