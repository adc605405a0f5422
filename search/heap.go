package search

import (
	"slices"

	"github.com/genq-go/genq/internal/kernel"
)

// better is the order of hits: higher score first, then lower corpus id.
func better(a, b Hit) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.CorpusID < b.CorpusID)
}

// best keeps the k best hits seen so far (kernel.TopK: a heap whose root
// is the worst of them).
type best struct{ *kernel.TopK[Hit] }

func newBest(k int) best { return best{kernel.NewTopK(k, better)} }

// offer considers the scores of corpus rows first, first+1, ...
func (b best) offer(scores []float32, first int) { b.offerScaled(scores, nil, first) }

// offerScaled is offer of the scores scores[r]·scale[r] (scores[r] for a
// nil scale). The k-th best score is kept in a local between pushes: most
// scores are worse, and cost one comparison.
func (b best) offerScaled(scores, scale []float32, first int) {
	if scale != nil {
		scale = scale[:len(scores)]
	}
	full, worst := b.bar()
	for r, s := range scores {
		if scale != nil {
			s *= scale[r]
		}
		if full && s < worst {
			continue // the common case: worse than the k-th best
		}
		b.Push(Hit{CorpusID: first + r, Score: s})
		full, worst = b.bar()
	}
}

// bar reports whether k hits are kept and, if so, the worst score.
func (b best) bar() (bool, float32) {
	if !b.Full() {
		return false, 0
	}
	return true, b.Worst().Score
}

// sortHits orders hits best first.
func sortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		switch {
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return 0
	})
}
