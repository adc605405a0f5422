package encoder

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseConfig checks HF defaults for missing keys and the errors for
// what the encoder does not support.
func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type": "distilbert"}`))
	require.NoError(t, err)
	assert.Equal(t, []any{768, 6, 12, 3072, 1e-12, 0.1}, []any{c.Hidden, c.Layers, c.Heads, c.Intermediate, c.LayerNormEps, c.HiddenDropout},
		"DistilBERT defaults: hidden, layers, heads, intermediate, layer_norm_eps, dropout")
	c, err = ParseConfig([]byte(`{"model_type": "bert", "layer_norm_eps": 1e-7}`))
	require.NoError(t, err)
	assert.Equal(t, []any{12, 2, 1e-7}, []any{c.Layers, c.TypeVocabSize, c.LayerNormEps}, "BERT defaults: layers, type_vocab_size, layer_norm_eps")
	for _, tc := range []struct{ json, want string }{
		{`{"model_type": "roberta"}`, `model_type "roberta" is not supported`},
		{`{}`, `no "model_type"`},
		{`{"model_type": "bert", "hidden_act": "gelu_new"}`, `activation "gelu_new" is not supported`},
		{`{"model_type": "distilbert", "activation": "relu"}`, `activation "relu" is not supported`},
		{`{"model_type": "bert", "hidden_size": 10, "num_attention_heads": 4}`, "not a multiple"},
		{`{"model_type": "bert", "position_embedding_type": "relative_key"}`, "relative_key"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		assert.ErrorContains(t, err, tc.want, tc.json)
	}
}

// TestLoadWeightErrors checks that missing and misshapen weights are all
// named, and that "bert."-prefixed names load like bare ones.
func TestLoadWeightErrors(t *testing.T) {
	cfg, err := ReadConfig(testutil.Fixture("bert-tiny"))
	require.NoError(t, err)
	w, err := checkpoint.Open(testutil.Fixture("bert-tiny"))
	require.NoError(t, err)
	prefixed := map[string]*checkpoint.Tensor{}
	for n, x := range w.Tensors {
		prefixed["bert."+n] = x
	}
	_, err = loadBody(checkpoint.NewWeights(prefixed, "prefixed"), cfg)
	assert.NoError(t, err, "prefixed names")
	delete(prefixed, "bert.encoder.layer.1.output.dense.bias")
	delete(prefixed, "bert.embeddings.word_embeddings.weight")
	prefixed["bert.pooler.dense.weight"] = &checkpoint.Tensor{DType: "F32", Shape: []int{3}, F32: make([]float32, 3)}
	_, err = loadBody(checkpoint.NewWeights(prefixed, "broken"), cfg)
	require.Error(t, err)
	for _, want := range []string{"encoder.layer.1.output.dense.bias", "embeddings.word_embeddings.weight", "pooler.dense.weight"} {
		assert.ErrorContains(t, err, want)
	}
}

// TestUnusedWeights: the fixtures' checkpoints are used in full, and a
// tensor no module takes (here a masked-LM head's, as distilbert-base-uncased
// ships) is reported by name.
func TestUnusedWeights(t *testing.T) {
	for _, name := range fixtures {
		m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
		require.NoError(t, err)
		assert.Empty(t, m.UnusedWeights(), "%s: unused tensors", name)
	}
	dir := t.TempDir()
	src := testutil.Fixture("distilbert-tiny")
	for _, f := range []string{"config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	ts, err := checkpoint.ReadSafetensors(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	ts["vocab_projector.bias"] = &checkpoint.Tensor{DType: "F32", Shape: []int{4}, F32: make([]float32, 4)}
	require.NoError(t, checkpoint.WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}))
	m, err := Load(t.Context(), dir, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"vocab_projector.bias"}, m.UnusedWeights())
}
