package t5

// Beam search as transformers 4.40's _beam_search with BeamSearchScorer
// (early_stopping=False): 2·num_beams candidates per passage and step, </s>
// candidates among the best num_beams become finished hypotheses scored
// sum_logprobs / generated_len^length_penalty, and a passage is done once
// no live beam can beat its worst kept hypothesis.

import (
	"context"
	"math"
	"sort"

	"github.com/genq-go/genq/internal/kernel"
)

// hypothesis is a finished (or, at the end, live) beam.
type hypothesis struct {
	score float64
	ids   []int
	lps   []float32
}

// hypotheses is BeamHypotheses: the numBeams best finished sequences of one passage.
type hypotheses struct {
	beams         []hypothesis
	worst         float64
	numBeams      int
	lengthPenalty float64
}

func newHypotheses(numBeams int, lengthPenalty float64) *hypotheses {
	return &hypotheses{worst: 1e9, numBeams: numBeams, lengthPenalty: lengthPenalty}
}

// add keeps a sequence whose log-probabilities sum to sumLogprobs and that
// generated genLen tokens, if it is among the numBeams best.
func (h *hypotheses) add(ids []int, lps []float32, sumLogprobs float64, genLen int) {
	score := sumLogprobs / math.Pow(float64(genLen), h.lengthPenalty)
	if len(h.beams) < h.numBeams || score > h.worst {
		h.beams = append(h.beams, hypothesis{score, ids, lps})
		if len(h.beams) > h.numBeams {
			idx := make([]int, len(h.beams))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return h.beams[idx[a]].score < h.beams[idx[b]].score })
			h.worst = h.beams[idx[1]].score
			h.beams = append(h.beams[:idx[0]], h.beams[idx[0]+1:]...)
		} else {
			h.worst = math.Min(score, h.worst)
		}
	}
}

// done reports whether no live beam can still beat the worst kept hypothesis:
// the best candidate score bestSum over curLen−1 generated tokens.
func (h *hypotheses) done(bestSum float64, curLen int) bool {
	if len(h.beams) < h.numBeams {
		return false
	}
	return h.worst >= bestSum/math.Pow(float64(curLen-1), h.lengthPenalty)
}

// best returns the k highest-scoring hypotheses, best first (ties: the later added first, as Python's sorted + pop).
func (h *hypotheses) best(k int) []hypothesis {
	s := append([]hypothesis(nil), h.beams...)
	sort.SliceStable(s, func(a, b int) bool { return s[a].score < s[b].score })
	var out []hypothesis
	for i := 0; i < k && len(s) > 0; i++ {
		out = append(out, s[len(s)-1])
		s = s[:len(s)-1]
	}
	return out
}

// candidate is one (beam, token) continuation.
type candidate struct {
	score float32 // cumulative log-probability
	lp    float32 // this token's log-probability
	beam  int     // beam within the passage
	tok   int
}

// beamSearch decodes n passages, the first of which has index first among
// all passages, with k = NumBeams rows each in st.
func (m *Model) beamSearch(ctx context.Context, st *stepper, n, first int, opts GenerateOptions) ([]Sequence, error) {
	k, v := opts.NumBeams, m.cfg.VocabSize
	eos := m.cfg.EOSTokenID
	ids := make([][]int, n*k)
	lps := make([][]float32, n*k)
	scores := make([]float32, n*k) // beam_scores
	last := make([]int, n*k)
	for r := range ids {
		ids[r] = []int{m.cfg.DecoderStartTokenID}
		last[r] = m.cfg.DecoderStartTokenID
		if r%k != 0 {
			scores[r] = -1e9 // only the first beam is live at the start
		}
	}
	hyps := make([]*hypotheses, n)
	done := make([]bool, n)
	for i := range hyps {
		hyps[i] = newHypotheses(k, opts.LengthPenalty)
	}
	logp := make([]float32, v)
	for curLen := 1; curLen < opts.maxLength(); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logits, err := st.step(last)
		if err != nil {
			return nil, err
		}
		from := make([]int, n*k)
		nextIDs := make([][]int, n*k)
		nextLps := make([][]float32, n*k)
		for p := 0; p < n; p++ {
			if done[p] {
				for j := 0; j < k; j++ {
					r := p*k + j
					from[r], nextIDs[r], nextLps[r], last[r] = r, ids[r], lps[r], m.cfg.PadTokenID
				}
				continue
			}
			top := make([]candidate, 0, 2*k+1)
			for j := 0; j < k; j++ {
				r := p*k + j
				row := logits[r*v : (r+1)*v]
				if !finiteLogits(row) {
					return nil, nonFiniteError(first+p, curLen)
				}
				// As _beam_search: log_softmax, then the logits processors.
				kernel.LogSoftmax(logp, row, v)
				if opts.suppressEOS(curLen - 1) {
					logp[eos] = float32(math.Inf(-1))
				}
				for t, lp := range logp {
					c := candidate{score: lp + scores[r], lp: lp, beam: j, tok: t}
					top = pushTop(top, c, 2*k)
				}
			}
			// BeamSearchScorer.process: curLen+1 is the length including the new token.
			j := 0
			for rank, c := range top {
				src := p*k + c.beam
				if c.tok == eos {
					if rank >= k {
						continue
					}
					hyps[p].add(appendInt(ids[src], eos), appendF32(lps[src], c.lp), float64(c.score), curLen)
				} else {
					r := p*k + j
					from[r] = src
					nextIDs[r] = appendInt(ids[src], c.tok)
					nextLps[r] = appendF32(lps[src], c.lp)
					scores[r] = c.score
					last[r] = c.tok
					j++
				}
				if j == k {
					break
				}
			}
			done[p] = hyps[p].done(float64(top[0].score), curLen+1)
		}
		if err := st.reorder(from); err != nil {
			return nil, err
		}
		ids, lps = nextIDs, nextLps
		curLen++
		all := true
		for _, d := range done {
			all = all && d
		}
		if all {
			break
		}
	}
	var out []Sequence
	for p := 0; p < n; p++ {
		if !done[p] {
			for j := 0; j < k; j++ {
				r := p*k + j
				hyps[p].add(ids[r], lps[r], float64(scores[r]), len(ids[r])-1)
			}
		}
		for _, h := range hyps[p].best(opts.NumReturnSequences) {
			out = append(out, Sequence{IDs: h.ids, LogProbs: h.lps, Score: float64(float32(h.score))})
		}
	}
	return out, nil
}

// pushTop inserts c into top, kept sorted by descending score (earlier
// candidates first among equals) and at most size long.
func pushTop(top []candidate, c candidate, size int) []candidate {
	if len(top) == size && c.score <= top[size-1].score {
		return top
	}
	i := sort.Search(len(top), func(i int) bool { return top[i].score < c.score })
	top = append(top, candidate{})
	copy(top[i+1:], top[i:])
	top[i] = c
	if len(top) > size {
		top = top[:size]
	}
	return top
}

func appendInt(x []int, v int) []int { return append(append(make([]int, 0, len(x)+1), x...), v) }

func appendF32(x []float32, v float32) []float32 {
	return append(append(make([]float32, 0, len(x)+1), x...), v)
}
