package train

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPermutation(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100} {
		p := Permutation(n, 42)
		assert.Equal(t, p, Permutation(n, 42), "n=%d: the same seed gives the same order", n)
		sorted := slices.Sorted(slices.Values(p))
		for i, v := range sorted {
			assert.Equal(t, i, v, "n=%d: a permutation of 0..n-1", n)
		}
	}
	assert.NotEqual(t, Permutation(100, 1), Permutation(100, 2), "different seeds give different orders")
}
