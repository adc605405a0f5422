package t5

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
)

func sampleOptions() GenerateOptions {
	opts := DefaultGenerateOptions()
	opts.MaxLength = 10
	opts.NumReturnSequences = 3
	return opts
}

// TestSamplingDeterministic: the same Seed gives the same sequences for any
// BatchSize, and another Seed gives other sequences.
func TestSamplingDeterministic(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny-gated"), testutil.LoadGolden(t, "t5-tiny-gated")
	ids := unpadded(t, g)
	run := func(seed uint64, batchSize int) []Sequence {
		opts := sampleOptions()
		opts.Seed, opts.BatchSize = seed, batchSize
		seqs, err := m.GenerateIDs(context.Background(), ids, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(seqs) != len(ids)*opts.NumReturnSequences {
			t.Fatalf("got %d sequences, want %d", len(seqs), len(ids)*opts.NumReturnSequences)
		}
		return seqs
	}
	a, b, c := run(7, 5), run(7, 2), run(8, 5)
	differ := 0
	for i := range a {
		assert.Equal(t, a[i].IDs, b[i].IDs, "sequence %d: BatchSize 5 vs 2", i)
		if !slices.Equal(a[i].IDs, c[i].IDs) {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("seeds 7 and 8 gave identical samples")
	}
}

// TestSamplingInPieces: generating a corpus in pieces, each with its offset
// in FirstIndex, gives exactly the sequences of one call over the corpus.
func TestSamplingInPieces(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny-gated"), testutil.LoadGolden(t, "t5-tiny-gated")
	ids := unpadded(t, g)
	opts := sampleOptions()
	opts.Seed = 11
	whole, err := m.GenerateIDs(context.Background(), ids, opts)
	if err != nil {
		t.Fatal(err)
	}
	var pieces []Sequence
	for _, cut := range [][2]int{{0, 2}, {2, 3}, {3, len(ids)}} {
		o := opts
		o.FirstIndex = cut[0]
		seqs, err := m.GenerateIDs(context.Background(), ids[cut[0]:cut[1]], o)
		if err != nil {
			t.Fatal(err)
		}
		pieces = append(pieces, seqs...)
	}
	if len(pieces) != len(whole) {
		t.Fatalf("pieces gave %d sequences, the whole call %d", len(pieces), len(whole))
	}
	for i := range whole {
		assert.Equal(t, whole[i].IDs, pieces[i].IDs, "sequence %d: one call vs pieces", i)
	}
	opts.FirstIndex = -1
	if _, err := m.GenerateIDs(context.Background(), ids, opts); err == nil {
		t.Error("FirstIndex -1: want an error")
	}
}

// TestSampledTokensAreWarpKept recomputes each sampled sequence teacher-forced:
// every token must survive top-k 50 / top-p 0.95 on its logits, and the
// reported log-probs must equal log_softmax of those logits (1e-5 + 1e-4·|want|).
func TestSampledTokensAreWarpKept(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny-gated"), testutil.LoadGolden(t, "t5-tiny-gated")
	ids := unpadded(t, g)
	opts := sampleOptions()
	seqs, err := m.GenerateIDs(context.Background(), ids, opts)
	if err != nil {
		t.Fatal(err)
	}
	v := m.cfg.VocabSize
	warp := opts.warper()
	for i, s := range seqs {
		logits, err := m.Logits(context.Background(), [][]int{ids[i/opts.NumReturnSequences]}, nil, [][]int{s.IDs[:len(s.IDs)-1]})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(s.LogProbs))
		for j, tok := range s.IDs[1:] {
			row := logits.Data[j*v : (j+1)*v]
			want[j] = logSoftmaxAt(row, tok)
			warped := append([]float32(nil), row...)
			warp.Warp(warped)
			if math.IsInf(float64(warped[tok]), -1) {
				t.Errorf("sequence %d step %d: token %d was removed by the warpers", i, j, tok)
			}
		}
		testutil.AllClose(t, "sampled log-probs", s.LogProbs, want, 1e-5, 1e-4)
	}
}

// TestGenerateStrings: greedy Generate on the golden texts decodes to
// transformers' batch_decode(..., skip_special_tokens=True).
func TestGenerateStrings(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			m, g := loadFixture(t, name), testutil.LoadGolden(t, name)
			var texts []string
			g.Decode(t, "texts", &texts)
			var greedy struct {
				Decoded []string `json:"decoded_skip_special_tokens"`
			}
			g.Decode(t, "greedy", &greedy)
			opts := greedyOptions(16)
			opts.MaxInputLength = 64
			got, err := m.Generate(context.Background(), texts, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range texts {
				if len(got[i]) != 1 || got[i][0] != greedy.Decoded[i] {
					t.Errorf("text %d: got %q, want %q", i, got[i], greedy.Decoded[i])
				}
			}
		})
	}
}
