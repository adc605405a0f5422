package t5

import (
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 32, "num_layers": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.DModel, want.DKV, want.NumHeads, want.DFF, want.NumLayers, want.NumDecoderLayers = 16, 4, 4, 32, 3, 3
	if cfg.FeedForwardProj != want.FeedForwardProj || cfg.NumDecoderLayers != 3 || !cfg.TieWordEmbeddings ||
		cfg.LayerNormEpsilon != 1e-6 || cfg.RelativeAttentionNumBuckets != 32 || cfg.RelativeAttentionMaxDistance != 128 ||
		cfg.DecoderStartTokenID != 0 || cfg.PadTokenID != 0 || cfg.EOSTokenID != 1 || cfg.VocabSize != 32128 {
		t.Errorf("ParseConfig defaults = %+v, want %+v", cfg, want)
	}
	cfg, err = ParseConfig([]byte(`{"num_layers": 3, "num_decoder_layers": 2, "tie_word_embeddings": false, "feed_forward_proj": "gated-gelu"}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumDecoderLayers != 2 || cfg.TieWordEmbeddings || !cfg.Gated() {
		t.Errorf("explicit values not kept: %+v", cfg)
	}
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
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("ParseConfig(%s) error = %v, want one mentioning %q", tc.json, err, tc.errHas)
		}
	}
}
