package sampling

import (
	"cmp"
	"math"
	"slices"

	"github.com/genq-go/genq/internal/kernel"
)

// Temperature divides every score by t in float32, as
// TemperatureLogitsWarper does. It does nothing for t <= 0, t == 1 or a
// non-finite t.
func Temperature(scores []float32, t float32) {
	if !(Config{Temperature: t}).temperatureOn() {
		return
	}
	for i, s := range scores {
		scores[i] = s / t
	}
}

// TopK sets to -Inf every score strictly below the k-th largest score, as
// TopKLogitsWarper does: k is raised to minKeep and capped at len(scores),
// and every token tied with the k-th value survives. It does nothing for
// k <= 0.
func TopK(scores []float32, k, minKeep int) {
	if k <= 0 {
		return
	}
	k = max(k, minKeep)
	if k >= len(scores) {
		return // the k-th largest is the minimum: nothing lies below it
	}
	kth := kthLargest(scores, k)
	if math.IsNaN(float64(kth)) {
		return // torch ranks NaN above everything; x < NaN is false for all x
	}
	for i, s := range scores {
		if s < kth {
			scores[i] = negInf
		}
	}
}

// kthLargest returns the k-th largest score (1 <= k <= len(scores)) with a
// size-k heap, ranking NaN above every number as torch.topk does.
func kthLargest(scores []float32, k int) float32 {
	h := kernel.NewTopK(k, greater)
	for _, s := range scores {
		h.Push(s)
	}
	return h.Worst()
}

// greater orders scores as torch.topk does: NaN above every number.
func greater(a, b float32) bool {
	if a != a {
		return b == b
	}
	return a > b
}

// TopP applies nucleus filtering as TopPLogitsWarper does: the scores are
// sorted ascending in torch.sort's order (see torchSort: ties are not broken
// by token id), turned into probabilities with a float32 softmax, and
// accumulated; every token whose cumulative probability is <= 1 - p becomes
// -Inf, except the last minKeep of the sorted order (the most likely ones).
// p = 0 thus keeps the minKeep most likely tokens (and any whose float32
// cumulative sum already exceeds 1, as in torch). It does nothing for p >= 1
// or a negative or NaN p (which Validate rejects), and, as torch, nothing
// when a score is NaN or +Inf (the softmax is then NaN everywhere).
func TopP(scores []float32, p float32, minKeep int) {
	if !(Config{TopP: p}).topPOn() {
		return
	}
	minKeep = max(minKeep, 1)
	live, ok := ascending(scores)
	if !ok || len(live) == 0 {
		return
	}
	sorted := make([]float32, len(live))
	for j, e := range live {
		sorted[j] = e.v
	}
	threshold := float32(1 - decimal(p))
	cum := cumulativeProbs(sorted)
	for j, e := range live[:len(live)-min(minKeep, len(live))] {
		if cum[j] > threshold {
			break // the sum only grows: everything after is kept
		}
		scores[e.id] = negInf
	}
}

// ascending returns the scores other than -Inf in torch.sort's ascending
// order. -Inf scores have probability 0 and sort first: their cumulative sum
// is 0 <= 1-p and they are already removed, so they need no place. Sorting by
// (score, id) gives torch's order whenever no two live scores are equal; with
// ties the whole vector goes through torchSort, since torch's order among
// equal scores depends on every element. ok is false when a score is NaN or
// +Inf.
func ascending(scores []float32) (live []entry, ok bool) {
	live = make([]entry, 0, len(scores))
	for i, s := range scores {
		switch {
		case s != s || math.IsInf(float64(s), 1):
			return nil, false
		case math.IsInf(float64(s), -1):
			continue
		}
		live = append(live, entry{s, int32(i)})
	}
	slices.SortFunc(live, func(a, b entry) int {
		if c := cmp.Compare(a.v, b.v); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	tied := false
	for j := 1; j < len(live); j++ {
		if live[j].v == live[j-1].v {
			tied = true
			break
		}
	}
	if !tied {
		return live, true
	}
	all := make([]entry, len(scores))
	for i, s := range scores {
		all[i] = entry{s, int32(i)}
	}
	torchSort(all)
	return all[len(all)-len(live):], true
}

// entry is a score and its token id.
type entry struct {
	v  float32
	id int32
}

// cumulativeProbs returns softmax(sorted).cumsum() as torch computes it on the
// CPU: a float32 softmax, then a cumulative sum accumulated in float64 and
// rounded to float32 at every position.
func cumulativeProbs(sorted []float32) []float32 {
	probs := Softmax(nil, sorted)
	var acc float64
	for j, q := range probs {
		acc += float64(q)
		probs[j] = float32(acc)
	}
	return probs
}

var negInf = float32(math.Inf(-1))
