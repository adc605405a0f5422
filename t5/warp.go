package t5

// A fast path for sampling.Config.Warp followed by Sampler.Sample. Top-k
// leaves about k of the 32128 logits, so the fast path finds the k-th largest
// score in one pass, keeps the candidates at or above it (in token order)
// and runs top-p and the draw on those alone. Whenever its result could
// differ from the reference's (NaN or +Inf scores, fewer than k finite
// scores, equal candidate scores, whose top-p order depends on every element
// through torch.sort's introsort), it takes the reference path instead.

import (
	"math"
	"slices"

	"github.com/genq-go/genq/sampling"
)

// rowSampler draws one row's tokens; it keeps its buffers between steps. A
// rowSampler is not safe for concurrent use; give each row its own.
type rowSampler struct {
	warp  sampling.Config
	rng   *sampling.Sampler
	heap  []float32 // the k largest scores seen (a min-heap)
	cand  []float32 // candidate scores in token order
	ids   []int     // their tokens
	tmp   []float32 // candidates sorted, for the tie check
	copyv []float32 // the row after the temperature, or the reference path's copy
}

func newRowSampler(warp sampling.Config, rng *sampling.Sampler) *rowSampler {
	return &rowSampler{warp: warp, rng: rng}
}

// sample returns the token that warp.Warp and rng.Sample would draw from a
// copy of logits (logits is left as it is), or -1 where Sample gives -1.
func (s *rowSampler) sample(logits []float32) int {
	k := s.warp.TopK
	if s.warp.MinTokensToKeep > k {
		k = s.warp.MinTokensToKeep
	}
	if s.warp.TopK <= 0 || k >= len(logits) {
		return s.reference(logits)
	}
	row := logits
	if t := s.warp.Temperature; t > 0 && t != 1 && !math.IsInf(float64(t), 0) {
		s.copyv = append(s.copyv[:0], logits...)
		sampling.Temperature(s.copyv, t)
		row = s.copyv
	}
	kth, ok := s.kthLargest(row, k)
	if !ok || math.IsInf(float64(kth), -1) {
		return s.reference(logits)
	}
	s.cand, s.ids = s.cand[:0], s.ids[:0]
	for i, v := range row {
		if v >= kth {
			s.cand = append(s.cand, v)
			s.ids = append(s.ids, i)
		}
	}
	if s.warp.TopP >= 0 && s.warp.TopP < 1 { // as sampling.Config.Warp: 0 keeps the most likely tokens
		s.tmp = append(s.tmp[:0], s.cand...)
		slices.Sort(s.tmp)
		for j := 1; j < len(s.tmp); j++ {
			if s.tmp[j] == s.tmp[j-1] {
				return s.reference(logits)
			}
		}
		sampling.TopP(s.cand, s.warp.TopP, max(s.warp.MinTokensToKeep, 1))
	}
	j := s.rng.Sample(s.cand)
	if j < 0 {
		return -1
	}
	return s.ids[j]
}

// reference is the plain path: Warp on a copy of the whole row, then Sample.
func (s *rowSampler) reference(logits []float32) int {
	s.copyv = append(s.copyv[:0], logits...)
	s.warp.Warp(s.copyv)
	return s.rng.Sample(s.copyv)
}

// kthLargest returns the k-th largest value of row with a size-k min-heap;
// ok is false when row holds a NaN or +Inf (the reference path handles those).
func (s *rowSampler) kthLargest(row []float32, k int) (kth float32, ok bool) {
	h := s.heap[:0]
	for _, v := range row {
		if v != v || v > math.MaxFloat32 {
			return 0, false
		}
		if len(h) < k {
			h = append(h, v)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if h[p] <= h[i] {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			continue
		}
		if v <= h[0] {
			continue
		}
		h[0] = v
		for i := 0; ; {
			m, l, r := i, 2*i+1, 2*i+2
			if l < k && h[l] < h[m] {
				m = l
			}
			if r < k && h[r] < h[m] {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	s.heap = h
	return h[0], true
}
