package t5

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigBounds checks the sizes config.json may declare: layer counts
// above MaxLayers and weight shapes whose element count overflows an int are
// errors, found before anything is sized by them.
func TestConfigBounds(t *testing.T) {
	for _, c := range []struct{ json, errHas string }{
		{`{"num_layers": 1000000000}`, "at most 1024 layers"},
		{`{"num_layers": 2, "num_decoder_layers": 1025}`, "at most 1024 layers"},
		{`{"vocab_size": 9223372036854775807, "d_model": 2}`, "shared (vocab_size × d_model)"},
		{`{"d_model": 4294967296, "num_heads": 4294967296, "d_kv": 1}`, "attention"},
		{`{"d_model": 3037000500, "d_ff": 3037000500}`, "feed-forward"},
		{`{"relative_attention_num_buckets": 4611686018427387904, "num_heads": 4}`, "relative_attention_bias"},
	} {
		_, err := ParseConfig([]byte(c.json))
		assert.ErrorContains(t, err, c.errHas, "ParseConfig(%s)", c.json)
	}
	cfg, err := ParseConfig([]byte(`{"num_layers": 1024, "d_model": 3037000499, "d_ff": 3037000499, "vocab_size": 3}`))
	require.NoError(t, err, "the largest sizes that fit")
	assert.Equal(t, MaxLayers, cfg.NumDecoderLayers)
}

// TestTokenizerFitsVocab is issue 12 row 5 on the model side: the
// tokenizer's ids must fit config.json's vocab_size (T5's 32100 ids fit its
// 32128 rows); one whose added tokens go beyond is refused at Load instead
// of failing inside a graph.
func TestTokenizerFitsVocab(t *testing.T) {
	cfg, err := LoadConfig(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	_, err = loadTokenizer(testutil.Fixture("t5-tiny"), cfg)
	require.NoError(t, err, "t5-tiny's own tokenizer")

	small := cfg
	small.VocabSize = 32099
	_, err = loadTokenizer(testutil.Fixture("t5-tiny"), small)
	require.ErrorContains(t, err, `ids up to 32099 ("<extra_id_0>"), but config.json's vocab_size is 32099`)

	// An added token far beyond the embedding (its id read from added_tokens.json).
	dir := t.TempDir()
	for _, name := range []string{"spiece.model", "special_tokens_map.json"} {
		require.NoError(t, os.Symlink(testutil.Fixture("t5-tiny", name), filepath.Join(dir, name)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"<sep>": 2000000000}`), 0o644))
	_, err = loadTokenizer(dir, cfg)
	require.ErrorContains(t, err, `ids up to 2000000000 ("<sep>")`)
}

// FuzzParseConfig feeds arbitrary bytes to ParseConfig: it must not panic,
// and a config it accepts has positive sizes within MaxLayers whose weight
// shapes do not overflow. Inputs are capped at 4 KiB (a T5 config.json is
// under 1 KiB), so each run is cheap.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"t5-tiny", "t5-tiny-gated"} {
		b, err := os.ReadFile(testutil.Fixture(name, "config.json"))
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"num_layers": 0}`, `{"d_model": 1e400}`, `{"vocab_size": -1}`, `[]`, `null`,
		`{"num_decoder_layers": null, "num_layers": 3}`, `{"feed_forward_proj": "gated-gelu", "architectures": []}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4<<10 {
			return
		}
		cfg, err := ParseConfig(b)
		if err != nil {
			return
		}
		require.NoError(t, cfg.Validate())
		require.LessOrEqual(t, cfg.NumLayers, MaxLayers)
		require.LessOrEqual(t, cfg.NumDecoderLayers, MaxLayers)
		for _, d := range []int{cfg.VocabSize, cfg.DModel, cfg.DFF, cfg.InnerDim(), cfg.RelativeAttentionNumBuckets} {
			require.Positive(t, d)
		}
		require.LessOrEqual(t, float64(cfg.VocabSize)*float64(cfg.DModel), float64(math.MaxInt))
		require.LessOrEqual(t, float64(cfg.InnerDim())*float64(cfg.DModel), float64(math.MaxInt))
	})
}
