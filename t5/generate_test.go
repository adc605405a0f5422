package t5

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

func greedyOptions(maxLength int) GenerateOptions {
	return GenerateOptions{MaxLength: maxLength, NumReturnSequences: 1, NumBeams: 1, BatchSize: 8}
}

// checkSequences compares generated sequences with golden [n, maxLength]
// rows that are right-padded with <pad> after </s>: ids exactly, and
// log-probs (when wantLP is given) at generated positions within 1e-5 + 1e-4·|want|.
func checkSequences(t *testing.T, seqs []Sequence, want [][]int, wantLP [][]float32) {
	t.Helper()
	if len(seqs) != len(want) {
		t.Fatalf("got %d sequences, want %d", len(seqs), len(want))
	}
	for i, s := range seqs {
		w := want[i]
		ok := len(s.IDs) <= len(w)
		for j := 0; ok && j < len(w); j++ {
			if j < len(s.IDs) {
				ok = s.IDs[j] == w[j]
			} else {
				ok = w[j] == 0 && s.IDs[len(s.IDs)-1] == 1
			}
		}
		if !ok {
			t.Errorf("row %d: ids %v, want %v", i, s.IDs, w)
			continue
		}
		if len(s.LogProbs) != len(s.IDs)-1 {
			t.Errorf("row %d: %d log-probs for %d ids", i, len(s.LogProbs), len(s.IDs))
			continue
		}
		if wantLP != nil {
			testutil.AllClose(t, "token log-probs", s.LogProbs, wantLP[i][:len(s.LogProbs)], 1e-5, 1e-4)
		}
	}
}

// unpadded returns the golden input ids without their padding (GenerateIDs
// takes rows of any length).
func unpadded(t *testing.T, g *testutil.Golden) [][]int {
	ids := rows(g.T(t, "input_ids"))
	mask := rows(g.T(t, "attention_mask"))
	for i := range ids {
		n := 0
		for _, v := range mask[i] {
			n += v
		}
		ids[i] = ids[i][:n]
	}
	return ids
}

func TestGreedy(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			m, g := loadFixture(t, name), testutil.LoadGolden(t, name)
			want := rows(g.T(t, "greedy.sequences"))
			lp := g.T(t, "greedy.token_logprobs")
			wantLP := make([][]float32, lp.Shape[0])
			for i := range wantLP {
				wantLP[i] = lp.F32[i*lp.Shape[1] : (i+1)*lp.Shape[1]]
			}
			ids := unpadded(t, g)
			for _, bs := range []int{8, 2} {
				opts := greedyOptions(len(want[0]))
				opts.BatchSize = bs
				seqs, err := m.GenerateIDs(context.Background(), ids, opts)
				if err != nil {
					t.Fatal(err)
				}
				checkSequences(t, seqs, want, wantLP)
			}
		})
	}
}

func TestBeamSearch(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			m, g := loadFixture(t, name), testutil.LoadGolden(t, name)
			want := rows(g.T(t, "beam.sequences"))
			ids := unpadded(t, g)
			opts := GenerateOptions{MaxLength: 16, NumReturnSequences: 1, NumBeams: 4, LengthPenalty: 1, BatchSize: 8}
			seqs, err := m.GenerateIDs(context.Background(), ids, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkSequences(t, seqs, want, nil)
			scores := make([]float32, len(seqs))
			for i, s := range seqs {
				scores[i] = float32(s.Score)
			}
			testutil.AllClose(t, "beam.sequences_scores", scores, g.T(t, "beam.sequences_scores").F32, 1e-5, 1e-4)
		})
	}
}

// TestGenerateCancelled: a cancelled context stops generation with its error.
func TestGenerateCancelled(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.GenerateIDs(ctx, unpadded(t, g), greedyOptions(8)); err != context.Canceled {
		t.Errorf("GenerateIDs with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestGenerateOptionErrors(t *testing.T) {
	m := loadFixture(t, "t5-tiny")
	for _, tc := range []struct {
		name string
		edit func(*GenerateOptions)
	}{
		{"greedy with several sequences", func(o *GenerateOptions) { o.DoSample, o.NumReturnSequences = false, 2 }},
		{"more sequences than beams", func(o *GenerateOptions) { o.DoSample, o.NumBeams, o.NumReturnSequences = false, 2, 3 }},
		{"bad top-p", func(o *GenerateOptions) { o.TopP = 1.5 }},
		{"zero max length", func(o *GenerateOptions) { o.MaxLength = 0 }},
	} {
		opts := DefaultGenerateOptions()
		tc.edit(&opts)
		if _, err := m.GenerateIDs(context.Background(), [][]int{{1}}, opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// BenchmarkGenerateSampling times the GenQ recipe on the tiny model (5
// passages, 5 sequences each, up to 64 tokens).
func BenchmarkGenerateSampling(b *testing.B) {
	m, g := loadFixture(b, "t5-tiny"), testutil.LoadGolden(b, "t5-tiny")
	var texts []string
	g.Decode(b, "texts", &texts)
	opts := DefaultGenerateOptions()
	for i := 0; i < b.N; i++ {
		if _, err := m.Generate(context.Background(), texts, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMinMaxNewTokens: MaxNewTokens overrides MaxLength and MinNewTokens
// keeps </s> out until then (min_new_tokens = max_new_tokens = 6 gives
// exactly 7 ids, none of them </s>); before plain greedy decoding's first
// </s>, the tokens are unchanged, since only </s>'s logit is touched.
func TestMinMaxNewTokens(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	ids := unpadded(t, g)
	plain, err := m.GenerateIDs(context.Background(), ids, greedyOptions(7))
	if err != nil {
		t.Fatal(err)
	}
	opts := greedyOptions(3)
	opts.MinNewTokens, opts.MaxNewTokens = 6, 6
	forced, err := m.GenerateIDs(context.Background(), ids, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range forced {
		if len(s.IDs) != 7 {
			t.Errorf("row %d: %d ids, want exactly 7: %v", i, len(s.IDs), s.IDs)
		}
		for j, id := range s.IDs[1:] {
			if id == m.cfg.EOSTokenID {
				t.Errorf("row %d: </s> at new token %d despite MinNewTokens 6", i, j+1)
			}
		}
		for j, id := range plain[i].IDs {
			if id == m.cfg.EOSTokenID {
				break
			}
			if j < len(s.IDs) && s.IDs[j] != id {
				t.Errorf("row %d: token %d is %d, plain greedy %d", i, j, s.IDs[j], id)
			}
		}
	}
}
