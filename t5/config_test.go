package t5

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 32, "num_layers": 3}`))
	require.NoError(t, err)
	want := DefaultConfig()
	want.DModel, want.DKV, want.NumHeads, want.DFF, want.NumLayers, want.NumDecoderLayers = 16, 4, 4, 32, 3, 3
	assert.Equal(t, want, cfg, "ParseConfig defaults")

	cfg, err = ParseConfig([]byte(`{"num_layers": 3, "num_decoder_layers": 2, "tie_word_embeddings": false, "feed_forward_proj": "gated-gelu"}`))
	require.NoError(t, err)
	assert.Equal(t, 2, cfg.NumDecoderLayers, "explicit num_decoder_layers not kept")
	assert.False(t, cfg.TieWordEmbeddings, "explicit tie_word_embeddings not kept")
	assert.True(t, cfg.Gated(), "explicit feed_forward_proj gated-gelu not kept")
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, errHas string }{
		{`{"feed_forward_proj": "gated-silu"}`, "feed_forward_proj"},
		{`{"architectures": ["BertModel"]}`, "BertModel"},
		{`{"num_heads": 0}`, "num_heads=0"},
		{`{"eos_token_id": 40000}`, "eos_token_id"},
		{`{"d_model": "x"}`, "config.json"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		assert.ErrorContains(t, err, tc.errHas, "ParseConfig(%s)", tc.json)
	}
}
