package search

import "slices"

// better is the order of hits: higher score first, then lower corpus id.
func better(a, b Hit) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.CorpusID < b.CorpusID)
}

// best keeps the k best hits seen so far in a heap whose root is the worst
// of them.
type best struct {
	k    int
	hits []Hit
}

func newBest(k int) best { return best{k: k, hits: make([]Hit, 0, k)} }

// offer considers the scores of corpus rows first, first+1, ...
func (b *best) offer(scores []float32, first int) {
	for r, s := range scores {
		if len(b.hits) == b.k && s < b.hits[0].Score {
			continue // the common case: worse than the k-th best
		}
		b.push(Hit{CorpusID: first + r, Score: s})
	}
}

// offerScaled is offer of the scores scores[r]·scale[r].
func (b *best) offerScaled(scores, scale []float32, first int) {
	scale = scale[:len(scores)]
	for r, s := range scores {
		s *= scale[r]
		if len(b.hits) == b.k && s < b.hits[0].Score {
			continue
		}
		b.push(Hit{CorpusID: first + r, Score: s})
	}
}

func (b *best) push(h Hit) {
	if len(b.hits) < b.k {
		b.hits = append(b.hits, h)
		b.up(len(b.hits) - 1)
		return
	}
	if !better(h, b.hits[0]) {
		return
	}
	b.hits[0] = h
	b.down(0)
}

func (b *best) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(b.hits[p], b.hits[i]) {
			return
		}
		b.hits[p], b.hits[i] = b.hits[i], b.hits[p]
		i = p
	}
}

func (b *best) down(i int) {
	n := len(b.hits)
	for {
		w, l, r := i, 2*i+1, 2*i+2
		if l < n && better(b.hits[w], b.hits[l]) {
			w = l
		}
		if r < n && better(b.hits[w], b.hits[r]) {
			w = r
		}
		if w == i {
			return
		}
		b.hits[i], b.hits[w] = b.hits[w], b.hits[i]
		i = w
	}
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
