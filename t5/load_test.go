package t5

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// TestLoadPyTorchBin: pytorch_model.bin (with the tied duplicates
// encoder/decoder.embed_tokens.weight and lm_head.weight) gives the golden logits.
func TestLoadPyTorchBin(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := testutil.Fixture(name)
			cfg, err := LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "pytorch_model.bin")
			ts, err := checkpoint.ReadPyTorch(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := newModel(cfg, checkpoint.NewWeights(ts, path), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			g := testutil.LoadGolden(t, name)
			got, err := m.Logits(context.Background(), rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")), rows(g.T(t, "decoder_input_ids")))
			if err != nil {
				t.Fatal(err)
			}
			testutil.AllClose(t, "decoder.logits from pytorch_model.bin", got.Data, g.T(t, "decoder.logits").F32, logitsAtol, logitsRtol)
		})
	}
}

// fixtureWeights returns t5-tiny's config and a fresh copy of its weight map.
func fixtureWeights(t *testing.T) (Config, map[string]*Tensor) {
	dir := testutil.Fixture("t5-tiny")
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := checkpoint.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]*Tensor{}
	for k, v := range ts {
		w[k] = &Tensor{Shape: v.Shape, Data: v.F32}
	}
	return cfg, w
}

func TestNewReportsBadWeights(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(map[string]*Tensor)
		errHas []string
	}{
		{"missing", func(w map[string]*Tensor) { delete(w, "decoder.block.1.layer.2.DenseReluDense.wo.weight") },
			[]string{"lacks", "decoder.block.1.layer.2.DenseReluDense.wo.weight"}},
		{"unused", func(w map[string]*Tensor) {
			w["encoder.block.0.extra.weight"] = &Tensor{Shape: []int{1}, Data: []float32{1}}
		},
			[]string{"does not use", "encoder.block.0.extra.weight", "AllowUnused"}},
		{"shape", func(w map[string]*Tensor) {
			w["encoder.final_layer_norm.weight"] = &Tensor{Shape: []int{15}, Data: make([]float32, 15)}
		}, []string{"encoder.final_layer_norm.weight", "[15]", "[16]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, w := fixtureWeights(t)
			tc.edit(w)
			_, err := New(cfg, w)
			if err == nil {
				t.Fatal("New accepted the weights")
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	t.Run("tied duplicates", func(t *testing.T) {
		cfg, w := fixtureWeights(t)
		for _, k := range []string{"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight", ignoredKeys[0]} {
			w[k] = w["shared.weight"]
		}
		w[ignoredKeys[0]] = &Tensor{Shape: []int{32, 4}, Data: make([]float32, 128)}
		m, err := New(cfg, w)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(m.ParameterNames()), len(parameterSpecs(cfg)); got != want {
			t.Errorf("%d parameters, want %d", got, want)
		}
	})
}

func TestParameterRoundTrip(t *testing.T) {
	cfg, w := fixtureWeights(t)
	m, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shared.weight", "encoder.block.0.layer.0.SelfAttention.o.weight", "decoder.block.1.layer.2.DenseReluDense.wi.weight"} {
		p := m.Parameter(name)
		if p == nil {
			t.Fatalf("no parameter %s", name)
		}
		testutil.AllClose(t, name, p.Data, w[name].Data, 0, 0)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.Context(), filepath.Join(t.TempDir(), "no-such-model"), LoadOptions{}); err == nil {
		t.Error("Load of a missing folder succeeded")
	}
	if _, err := Load(t.Context(), testutil.Fixture("bert-tiny"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "architectures") {
		t.Errorf("Load of a BERT folder: err = %v, want an architectures error", err)
	}
}
