package t5

import (
	"context"
	"fmt"
)

// scoreBatch is the number of pairs Score runs through the model at once.
const scoreBatch = 8

// Score returns, for each (passage, query) pair, the total log-likelihood of
// the query given the passage: the sum over the query's tokens, </s>
// included, of log p(token | passage, previous tokens) (the negated summed
// seq2seq cross-entropy). Passages are not truncated: one longer than
// MaxSequenceLength tokens is an error. Score uses the tokenizer that was set
// when it started (see SetTokenizer).
func (m *Model) Score(ctx context.Context, passages, queries []string) ([]float64, error) {
	tok := m.Tokenizer()
	if tok == nil {
		return nil, errNoTokenizer
	}
	if len(passages) != len(queries) {
		return nil, fmt.Errorf("t5: Score got %d passages but %d queries", len(passages), len(queries))
	}
	ids := make([][]int, len(passages))
	labels := make([][]int, len(queries))
	for i := range passages {
		var err error
		if ids[i], err = tok.Encode(passages[i], 0); err != nil {
			return nil, fmt.Errorf("t5: tokenizing passage %d: %w", i, err)
		}
		if labels[i], err = tok.Encode(queries[i], 0); err != nil {
			return nil, fmt.Errorf("t5: tokenizing query %d: %w", i, err)
		}
	}
	return m.ScoreIDs(ctx, ids, labels)
}

// ScoreIDs is Score on token ids: inputIDs[i] (unpadded) and the target
// labels[i] (ending with </s>; IgnoreIndex entries are skipped).
func (m *Model) ScoreIDs(ctx context.Context, inputIDs, labels [][]int) ([]float64, error) {
	if len(inputIDs) != len(labels) {
		return nil, fmt.Errorf("t5: ScoreIDs got %d inputs but %d label rows", len(inputIDs), len(labels))
	}
	v := m.cfg.VocabSize
	out := make([]float64, 0, len(labels))
	for start := 0; start < len(labels); start += scoreBatch {
		end := min(start+scoreBatch, len(labels))
		dec := make([][]int, end-start)
		for i := range dec {
			dec[i] = m.ShiftRight(labels[start+i])
			if len(dec[i]) == 0 {
				dec[i] = []int{m.cfg.DecoderStartTokenID}
			}
		}
		logits, err := m.Logits(ctx, inputIDs[start:end], nil, dec)
		if err != nil {
			return nil, err
		}
		t := logits.Shape[1]
		for i, lab := range labels[start:end] {
			var sum float64
			for j, l := range lab {
				if l == IgnoreIndex {
					continue
				}
				if l < 0 || l >= v {
					return nil, fmt.Errorf("t5: label %d of pair %d is outside the vocabulary [0, %d)", l, start+i, v)
				}
				sum += float64(logSoftmaxAt(logits.Data[(i*t+j)*v:(i*t+j+1)*v], l))
			}
			out = append(out, sum)
		}
	}
	return out, nil
}
