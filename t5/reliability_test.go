package t5

// Regression tests for the generation rows of issue 12: relative-position
// buckets of configs with a short max distance (#2), sizes that must not be
// allocated up front (#3), short weight data (#6), non-finite logits (#7),
// MaxInputLength 0 and the length cap (#8), SetTokenizer during Generate
// (#16), and Temperature 0.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRelativePositionBucketOddConfigs compares RelativePositionBucket with
// transformers' _relative_position_bucket evaluated step by step (float32
// division and log, the float64 log(max_distance/max_exact), truncation
// toward zero, the clamp at num_buckets-1, the bidirectional half added) for
// offsets -24..24, by a Python transcription of the formula; -1 marks the
// offsets where transformers' index is NaN/infinite before .to(torch.long)
// or falls outside the table (it fails there). Exact equality.
func TestRelativePositionBucketOddConfigs(t *testing.T) {
	for _, tc := range []struct {
		numBuckets, maxDistance int
		bidirectional, causal   []int // offsets -24..24
	}{
		{32, 16,
			[]int{15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31},
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{32, 8,
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
			[]int{7, 8, 9, 10, 11, 13, 14, 15, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{32, 4,
			[]int{-1, -1, -1, -1, -1, -1, -1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 23, 22, 21, 20, 19, 18, 17, 16, 16, 15, 15, 14, 13, 13, 12, 12},
			[]int{12, 12, 13, 13, 14, 15, 15, 16, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{32, 9,
			[]int{15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31},
			[]int{5, 6, 8, 9, 10, 12, 13, 15, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{32, 17,
			[]int{15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 13, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 29, 30, 31, 31, 31, 31, 31, 31, 31, 31, 31},
			[]int{31, 31, 31, 31, 31, 31, 31, 31, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{8, 2,
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 0, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 1, 2, 3, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{4, 1,
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{6, 3,
			[]int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{33, 5,
			[]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 3, 5, 6, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 22, 21, 19, 18, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 7, 6},
			[]int{11, 11, 12, 13, 13, 14, 15, 16, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		t.Run(fmt.Sprintf("num_buckets=%d,max_distance=%d", tc.numBuckets, tc.maxDistance), func(t *testing.T) {
			var bi, causal []int
			for rel := -24; rel <= 24; rel++ {
				bi = append(bi, RelativePositionBucket(rel, true, tc.numBuckets, tc.maxDistance))
				causal = append(causal, RelativePositionBucket(rel, false, tc.numBuckets, tc.maxDistance))
			}
			assert.Equal(t, tc.bidirectional, bi, "bidirectional buckets of offsets -24..24")
			assert.Equal(t, tc.causal, causal, "causal buckets of offsets -24..24")
		})
	}
}

// TestRelativePositionBucketRange checks, for every small config (num_buckets
// 0..40, max_distance -1..80) and offset in -300..300, that the bucket is an
// index of the table or -1, and that an offset without a bucket has none
// beyond it either (so a length check at the longest offset is enough).
func TestRelativePositionBucketRange(t *testing.T) {
	for nb := 0; nb <= 40; nb++ {
		for md := -1; md <= 80; md++ {
			for _, bidirectional := range []bool{true, false} {
				invalidFrom := [2]int{math.MaxInt, math.MaxInt} // per sign
				for d := 0; d <= 300; d++ {
					for s, rel := range []int{-d, d} {
						b := RelativePositionBucket(rel, bidirectional, nb, md)
						if b == -1 {
							invalidFrom[s] = min(invalidFrom[s], d)
							continue
						}
						if b < 0 || b >= nb || d >= invalidFrom[s] {
							require.Failf(t, "bad bucket", "RelativePositionBucket(%d, %v, %d, %d) = %d (no bucket from offset %d on)",
								rel, bidirectional, nb, md, b, invalidFrom[s])
						}
					}
				}
			}
		}
	}
	assert.Equal(t, -1, RelativePositionBucket(math.MinInt, true, 32, 128), "offset MinInt")
	assert.Equal(t, 31, RelativePositionBucket(math.MaxInt, true, 32, 128), "offset MaxInt")
}

// TestShortMaxDistance runs models whose relative_attention_max_distance is
// at most the exact half (16 and 8 with 32 buckets): transformers' buckets
// where it has them, and an error naming the config where it fails, in the
// encoder, the decoder step, the teacher-forced pass and PositionBias.
func TestShortMaxDistance(t *testing.T) {
	ctx := context.Background()
	ids := func(n int) [][]int { return randomIDs(1, n, 64, 5) }
	t.Run("max_distance=16", func(t *testing.T) {
		// Bidirectional max_exact 8 < 16: every encoder offset has a bucket;
		// causal max_exact 16 = 16: decoder offsets from 16 on have none.
		cfg := smallConfig(false)
		cfg.RelativeAttentionMaxDistance = 16
		m := randomModel(t, cfg, 3)
		_, err := m.Encode(ctx, ids(300), nil)
		require.NoError(t, err, "encoder offsets up to 299")
		for _, beams := range []int{1, 2} {
			// MinNewTokens keeps </s> away, so the decoder reaches MaxLength.
			opts := GenerateOptions{MaxLength: 17, MinNewTokens: 16, NumReturnSequences: 1, NumBeams: beams}
			seqs, err := m.GenerateIDs(ctx, ids(20), opts)
			require.NoError(t, err, "%d beam(s): decoder positions 0..15", beams)
			assert.Len(t, seqs[0].IDs, 17)
			opts.MaxLength, opts.MinNewTokens = 18, 17
			_, err = m.GenerateIDs(ctx, ids(20), opts)
			require.ErrorContains(t, err, "relative_attention_max_distance=16 with relative_attention_num_buckets=32 gives decoder positions 16 apart no valid bucket", "%d beam(s)", beams)
		}
		dec := [][]int{make([]int, 16)}
		_, err = m.Logits(ctx, ids(20), nil, dec)
		require.NoError(t, err, "16 decoder positions")
		dec[0] = append(dec[0], 0)
		_, err = m.Logits(ctx, ids(20), nil, dec)
		require.ErrorContains(t, err, "decoder positions 16 apart")
		_, err = m.mod.decoder.biasAttention().PositionBias(17, 17)
		require.ErrorContains(t, err, "positions 16 apart")
	})
	t.Run("max_distance=8", func(t *testing.T) {
		// Bidirectional max_exact 8 = 8: encoder offsets from 8 on have no
		// bucket; causal ones have up to 33.
		cfg := smallConfig(false)
		cfg.RelativeAttentionMaxDistance = 8
		m := randomModel(t, cfg, 4)
		_, err := m.Encode(ctx, ids(8), nil) // padded to 16: the padding's offsets have no bucket either
		require.NoError(t, err, "8 encoder positions")
		_, err = m.Encode(ctx, ids(9), nil)
		require.ErrorContains(t, err, "gives encoder positions 8 apart no valid bucket")
		_, err = m.GenerateIDs(ctx, ids(9), greedyOptions(4))
		require.ErrorContains(t, err, "encoder positions 8 apart")
		opts := GenerateOptions{MaxLength: 35, MinNewTokens: 34, NumReturnSequences: 1}
		_, err = m.GenerateIDs(ctx, ids(8), opts)
		require.NoError(t, err, "decoder offsets up to 33")
		opts.MaxLength, opts.MinNewTokens = 36, 35
		_, err = m.GenerateIDs(ctx, ids(8), opts)
		require.ErrorContains(t, err, "decoder positions 34 apart")
	})
}

// TestStepCacheGrowth: a cache that starts with 2 slots and doubles gives
// exactly the sequences and log-probabilities of one that holds every
// position from the start, for greedy decoding, sampling and beam search
// (which reorders the grown cache).
func TestStepCacheGrowth(t *testing.T) {
	m := loadFixture(t, "t5-tiny")
	ids := randomIDs(3, 12, m.cfg.VocabSize, 9)
	sample := DefaultGenerateOptions()
	sample.MinNewTokens, sample.MaxLength, sample.NumReturnSequences = 20, 24, 2
	for name, opts := range map[string]GenerateOptions{
		"greedy": {MaxLength: 24, MinNewTokens: 20, NumReturnSequences: 1},
		"sample": sample,
		"beam":   {MaxLength: 24, MinNewTokens: 20, NumReturnSequences: 2, NumBeams: 3, LengthPenalty: 1},
	} {
		t.Run(name, func(t *testing.T) {
			defer func(n int) { initialSlots = n }(initialSlots)
			initialSlots = 64
			want, err := m.GenerateIDs(context.Background(), ids, opts)
			require.NoError(t, err)
			initialSlots = 2
			got, err := m.GenerateIDs(context.Background(), ids, opts)
			require.NoError(t, err)
			assert.Equal(t, want, got, "grown cache vs one of 64 slots")
		})
	}
}

// TestHugeGenerateSizes: sizes no machine holds are errors before anything
// is allocated for them, and a huge MaxLength or MaxNewTokens costs only
// what is generated (here until the context ends).
func TestHugeGenerateSizes(t *testing.T) {
	m := randomModel(t, smallConfig(false), 7)
	ids := randomIDs(2, 10, 64, 3)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts GenerateOptions
		want string
	}{
		{"NumBeams 2^40", GenerateOptions{MaxLength: 8, NumReturnSequences: 1, NumBeams: 1 << 40}, "lower BatchSize, NumBeams or NumReturnSequences"},
		{"NumBeams MaxInt", GenerateOptions{MaxLength: 8, NumReturnSequences: 1, NumBeams: math.MaxInt}, "lower BatchSize, NumBeams or NumReturnSequences"},
		{"NumReturnSequences 2^40", GenerateOptions{MaxLength: 8, NumReturnSequences: 1 << 40, DoSample: true, Temperature: 1, TopP: 1}, "lower BatchSize, NumBeams or NumReturnSequences"},
		{"NumReturnSequences 2^40 beams", GenerateOptions{MaxLength: 8, NumReturnSequences: 1 << 40, NumBeams: 1 << 40}, "lower BatchSize, NumBeams or NumReturnSequences"},
		{"MaxInputLength 2^40", GenerateOptions{MaxLength: 8, NumReturnSequences: 1, MaxInputLength: 1 << 40}, "MaxSequenceLength"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.GenerateIDs(ctx, ids, tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
	assert.Equal(t, math.MaxInt, GenerateOptions{MaxNewTokens: math.MaxInt}.maxLength(), "1 + MaxNewTokens saturates")
	for _, opts := range []GenerateOptions{
		{MaxLength: 1 << 40, NumReturnSequences: 1},
		{MaxNewTokens: 1 << 62, NumReturnSequences: 1},
		{MaxNewTokens: math.MaxInt, NumReturnSequences: 2, NumBeams: 2},
	} {
		opts.MinNewTokens = math.MaxInt // never </s>: decode until the context ends
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := m.GenerateIDs(ctx, ids, opts)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "%+v", opts)
		m.mu.Lock()
		held := m.ws.bytes()
		m.mu.Unlock()
		assert.Less(t, held, 1<<28, "workspace after decoding with %+v", opts)
	}
	_, ok := mulSize(1<<20, 1<<20, 1<<20)
	assert.False(t, ok, "2^60 values")
	_, ok = mulSize(math.MaxInt, 2)
	assert.False(t, ok, "overflow")
	n, ok := mulSize(3, 0, 1<<62)
	assert.True(t, ok && n == 0, "a zero dimension")
}

// TestNewShortData: t5.New with a tensor whose data is shorter (or longer)
// than its shape, or nil, is an error naming it, not a panic.
func TestNewShortData(t *testing.T) {
	cfg := smallConfig(false)
	weights := func() map[string]*Tensor {
		w := map[string]*Tensor{}
		for _, s := range parameterSpecs(cfg) {
			w[s.name] = &Tensor{Shape: s.shape, Data: make([]float32, numel(s.shape...))}
		}
		return w
	}
	for _, tc := range []struct {
		name   string
		mutate func(w map[string]*Tensor)
		want   string
	}{
		{"short", func(w map[string]*Tensor) {
			x := w["encoder.block.0.layer.0.SelfAttention.q.weight"]
			x.Data = x.Data[:len(x.Data)-1]
		}, "encoder.block.0.layer.0.SelfAttention.q.weight (shape [60 48], 2879 values)"},
		{"long", func(w map[string]*Tensor) { w["shared.weight"].Data = append(w["shared.weight"].Data, 0) }, "shared.weight (shape [64 48], 3073 values)"},
		{"nil", func(w map[string]*Tensor) { w["lm_head.weight"] = nil }, "lm_head.weight (nil)"},
		{"overflowing shape", func(w map[string]*Tensor) { w["shared.weight"].Shape = []int{1 << 62, 1 << 62} }, "shared.weight (shape [4611686018427387904 4611686018427387904]"},
		{"negative shape", func(w map[string]*Tensor) { w["shared.weight"].Shape = []int{-64, -48} }, "shared.weight (shape [-64 -48]"},
		{"many", func(w map[string]*Tensor) {
			for _, x := range w {
				x.Data = nil
			}
		}, "and "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := weights()
			tc.mutate(w)
			_, err := New(cfg, w)
			require.ErrorContains(t, err, tc.want)
			assert.Less(t, len(err.Error()), 400, "a short message")
		})
	}
}

// TestNonFiniteLogits: NaN or Inf weights end greedy decoding, sampling and
// beam search alike with ErrNonFiniteLogits, naming the passage.
func TestNonFiniteLogits(t *testing.T) {
	sample := DefaultGenerateOptions()
	sample.MaxLength = 8
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		m := randomModel(t, smallConfig(false), 8)
		m.mod.byName("decoder.final_layer_norm.weight").Data[5] = bad
		for name, opts := range map[string]GenerateOptions{
			"greedy": greedyOptions(8),
			"sample": sample,
			"beam":   {MaxLength: 8, NumReturnSequences: 2, NumBeams: 3, LengthPenalty: 1},
		} {
			opts.FirstIndex = 40
			_, err := m.GenerateIDs(context.Background(), randomIDs(2, 6, 64, 1), opts)
			require.ErrorIs(t, err, ErrNonFiniteLogits, "%v weight, %s", bad, name)
			assert.ErrorContains(t, err, "passage 40, output position 1", "%v weight, %s", bad, name)
		}
	}
	ninf := float32(math.Inf(-1))
	for _, tc := range []struct {
		row  []float32
		want bool
	}{
		{[]float32{1, 2, ninf}, true},
		{[]float32{ninf, ninf}, false},
		{[]float32{1, float32(math.NaN())}, false},
		{[]float32{1, float32(math.Inf(1))}, false},
		{[]float32{-math.MaxFloat32}, true},
		{nil, false},
	} {
		assert.Equal(t, tc.want, finiteLogits(tc.row), "finiteLogits(%v)", tc.row)
	}
}

// recordingTokenizer makes n/4 ids per text of n bytes (at least </s>) and
// records the maxLen Generate asks for.
type recordingTokenizer struct {
	mu     sync.Mutex
	maxLen []int
	tag    string
}

func (r *recordingTokenizer) Encode(text string, maxLen int) ([]int, error) {
	r.mu.Lock()
	r.maxLen = append(r.maxLen, maxLen)
	r.mu.Unlock()
	ids := make([]int, max(len(text)/4, 1))
	for i := range ids {
		ids[i] = 2 + i%60
	}
	if maxLen > 0 && len(ids) > maxLen {
		ids = ids[:maxLen]
	}
	ids[len(ids)-1] = 1
	return ids, nil
}

func (r *recordingTokenizer) Decode(ids []int, _ bool) (string, error) {
	return fmt.Sprintf("%s%d", r.tag, len(ids)), nil
}

// TestMaxInputLengthZero: a 1 MB passage with MaxInputLength 0 is truncated
// to 512 tokens, transformers' model_max_length for T5, and inputs longer
// than the configured maximum are refused before the encoder allocates for
// them (GenerateIDs, Score, Encode).
func TestMaxInputLengthZero(t *testing.T) {
	m := randomModel(t, smallConfig(false), 9)
	tok := &recordingTokenizer{}
	m.SetTokenizer(tok)
	ctx := context.Background()
	passage := strings.Repeat("abcd efgh ", 100_000) // 1 MB: 250,000 ids untruncated
	opts := greedyOptions(4)
	_, err := m.Generate(ctx, []string{passage}, opts)
	require.NoError(t, err)
	assert.Equal(t, []int{512}, tok.maxLen, "the maxLen Generate asks the tokenizer for")

	long := make([]int, 600)
	long[599] = 1
	_, err = m.GenerateIDs(ctx, [][]int{long}, opts)
	require.ErrorContains(t, err, "input 0 has 600 ids, more than MaxInputLength (512)")
	opts.MaxInputLength = 600
	_, err = m.GenerateIDs(ctx, [][]int{long}, opts)
	require.NoError(t, err, "MaxInputLength 600")

	_, err = m.Score(ctx, []string{passage}, []string{"q"})
	require.ErrorContains(t, err, "an input row of 250000 tokens is longer than the 4096 (MaxSequenceLength)")
	_, err = m.Encode(ctx, [][]int{make([]int, MaxSequenceLength+1)}, nil)
	require.ErrorContains(t, err, "MaxSequenceLength")
	_, err = m.Logits(ctx, [][]int{{1}}, nil, [][]int{make([]int, MaxSequenceLength+1)})
	require.ErrorContains(t, err, "a decoder row of 4097 tokens")
	_, err = m.Loss(ctx, [][]int{{1}}, nil, [][]int{make([]int, MaxSequenceLength+1)})
	require.ErrorContains(t, err, "a label row of 4097 tokens")
}

// TestSetTokenizerDuringGenerate replaces the tokenizer while Generate and
// Score run on other goroutines (run with -race): each call uses one
// tokenizer throughout.
func TestSetTokenizerDuringGenerate(t *testing.T) {
	m := randomModel(t, smallConfig(false), 10)
	a, b := &recordingTokenizer{tag: "a"}, &recordingTokenizer{tag: "b"}
	m.SetTokenizer(a)
	ctx := context.Background()
	opts := greedyOptions(4)
	stop, setterDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(setterDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				m.SetTokenizer([]Tokenizer{a, b}[i%2])
			}
		}
	}()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				out, err := m.Generate(ctx, []string{"one passage", "another passage"}, opts)
				if assert.NoError(t, err) {
					assert.Equal(t, out[0][0][:1], out[1][0][:1], "one tokenizer per call: %v", out)
				}
				_, err = m.Score(ctx, []string{"p"}, []string{"q"})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-setterDone
}

// TestTemperatureZero: sampling with Temperature 0 is refused, as
// transformers' TemperatureLogitsWarper refuses temperature=0.0; greedy
// decoding ignores the temperature.
func TestTemperatureZero(t *testing.T) {
	opts := DefaultGenerateOptions()
	opts.Temperature = 0
	require.ErrorContains(t, opts.validate(), "Temperature is 0 with DoSample")
	opts.Temperature = -1
	require.ErrorContains(t, opts.validate(), "Temperature is -1")
	opts.DoSample, opts.NumReturnSequences, opts.Temperature = false, 1, 0
	require.NoError(t, opts.validate(), "greedy decoding with Temperature 0")
}

// TestRelativeAttentionConfig: configs where transformers' buckets exist for
// some offsets load (max_distance at or below the exact half included);
// those where they exist for none are refused, naming the key.
func TestRelativeAttentionConfig(t *testing.T) {
	for _, tc := range []struct {
		json, err string
	}{
		{`{"relative_attention_num_buckets": 32, "relative_attention_max_distance": 16}`, ""},
		{`{"relative_attention_num_buckets": 32, "relative_attention_max_distance": 8}`, ""},
		{`{"relative_attention_num_buckets": 32, "relative_attention_max_distance": 1}`, ""},
		{`{"relative_attention_num_buckets": 4, "relative_attention_max_distance": 1}`, ""},
		{`{"relative_attention_num_buckets": 3}`, "relative_attention_num_buckets=3 leaves the encoder no exact bucket"},
		{`{"relative_attention_num_buckets": 0}`, "relative_attention_num_buckets=0"},
		{`{"relative_attention_max_distance": 0}`, "relative_attention_max_distance=0"},
		{`{"relative_attention_max_distance": -128}`, "relative_attention_max_distance=-128"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if tc.err == "" {
			assert.NoError(t, err, tc.json)
			continue
		}
		assert.ErrorContains(t, err, tc.err, tc.json)
	}
}
