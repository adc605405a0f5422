package sampling

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTorchSortSorts checks that the libstdc++ emulation is a sort (ordered,
// a permutation) on inputs with many ties, for sizes around the insertion-sort
// threshold, and that its heapsort fallback sorts too. The exact tie order is
// checked against torch by TestTopPInternals.
func TestTorchSortSorts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 0))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 33, 50, 1000} {
		for _, sortFn := range []func([]entry){torchSort, heapSort} {
			es := make([]entry, n)
			for i := range es {
				es[i] = entry{float32(r.IntN(7)), int32(i)}
			}
			sortFn(es)
			seen := make([]bool, n)
			for i, e := range es {
				if i > 0 {
					require.LessOrEqual(t, es[i-1].v, e.v, "n=%d: position %d", n, i)
				}
				require.False(t, seen[e.id], "n=%d: token %d appears twice", n, e.id)
				seen[e.id] = true
			}
		}
	}
}

// TestAscendingMatchesFullSort checks the fast path of top-p (sorting only the
// finite scores) against torch's order of the whole vector.
func TestAscendingMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 0))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(120)
		scores := make([]float32, n)
		for i := range scores {
			switch {
			case r.IntN(4) == 0:
				scores[i] = negInf
			case trial%2 == 0:
				scores[i] = float32(r.IntN(5)) // many ties
			default:
				scores[i] = float32(r.NormFloat64())
			}
		}
		live, ok := ascending(scores)
		require.True(t, ok, "ascending refused finite scores")
		all := make([]entry, n)
		for i, s := range scores {
			all[i] = entry{s, int32(i)}
		}
		torchSort(all)
		require.Equal(t, all[n-len(live):], live, "trial %d: the finite scores in torch's order", trial)
	}
}
