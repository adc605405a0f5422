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
