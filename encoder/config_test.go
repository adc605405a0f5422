package encoder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// TestParseConfig checks HF defaults for missing keys and the errors for
// what the encoder does not support.
func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type": "distilbert"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 768 || c.Layers != 6 || c.Heads != 12 || c.Intermediate != 3072 || c.LayerNormEps != 1e-12 || c.HiddenDropout != 0.1 {
		t.Errorf("DistilBERT defaults: got %+v", c)
	}
	if c, err = ParseConfig([]byte(`{"model_type": "bert", "layer_norm_eps": 1e-7}`)); err != nil || c.Layers != 12 || c.TypeVocabSize != 2 || c.LayerNormEps != 1e-7 {
		t.Errorf("BERT defaults: got %+v, %v", c, err)
	}
	for _, tc := range []struct{ json, want string }{
		{`{"model_type": "roberta"}`, `model_type "roberta" is not supported`},
		{`{}`, `no "model_type"`},
		{`{"model_type": "bert", "hidden_act": "gelu_new"}`, `activation "gelu_new" is not supported`},
		{`{"model_type": "distilbert", "activation": "relu"}`, `activation "relu" is not supported`},
		{`{"model_type": "bert", "hidden_size": 10, "num_attention_heads": 4}`, "not a multiple"},
		{`{"model_type": "bert", "position_embedding_type": "relative_key"}`, "relative_key"},
	} {
		if _, err := ParseConfig([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.json, err, tc.want)
		}
	}
}

// TestLoadWeightErrors checks that missing and misshapen weights are all
// named, and that "bert."-prefixed names load like bare ones.
func TestLoadWeightErrors(t *testing.T) {
	cfg, err := ReadConfig(testutil.Fixture("bert-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := checkpoint.Open(testutil.Fixture("bert-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	prefixed := map[string]*checkpoint.Tensor{}
	for n, x := range w.Tensors {
		prefixed["bert."+n] = x
	}
	if _, err := loadBody(checkpoint.NewWeights(prefixed, "prefixed"), cfg); err != nil {
		t.Errorf("prefixed names: %v", err)
	}
	delete(prefixed, "bert.encoder.layer.1.output.dense.bias")
	delete(prefixed, "bert.embeddings.word_embeddings.weight")
	prefixed["bert.pooler.dense.weight"] = &checkpoint.Tensor{DType: "F32", Shape: []int{3}, F32: make([]float32, 3)}
	_, err = loadBody(checkpoint.NewWeights(prefixed, "broken"), cfg)
	for _, want := range []string{"encoder.layer.1.output.dense.bias", "embeddings.word_embeddings.weight", "pooler.dense.weight"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// TestUnusedWeights: the fixtures' checkpoints are used in full, and a
// tensor no module takes (here a masked-LM head's, as distilbert-base-uncased
// ships) is reported by name.
func TestUnusedWeights(t *testing.T) {
	for _, name := range fixtures {
		m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if u := m.UnusedWeights(); len(u) != 0 {
			t.Errorf("%s: unused tensors %v, want none", name, u)
		}
	}
	dir := t.TempDir()
	src := testutil.Fixture("distilbert-tiny")
	for _, f := range []string{"config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := checkpoint.ReadSafetensors(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ts["vocab_projector.bias"] = &checkpoint.Tensor{DType: "F32", Shape: []int{4}, F32: make([]float32, 4)}
	if err := checkpoint.WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(t.Context(), dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := m.UnusedWeights(); !reflect.DeepEqual(u, []string{"vocab_projector.bias"}) {
		t.Errorf("unused tensors %v, want [vocab_projector.bias]", u)
	}
}
