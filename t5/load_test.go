package t5

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadPyTorchBin: pytorch_model.bin (with the tied duplicates
// encoder/decoder.embed_tokens.weight and lm_head.weight) gives the golden logits.
func TestLoadPyTorchBin(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := testutil.Fixture(name)
			cfg, err := LoadConfig(dir)
			require.NoError(t, err)
			path := filepath.Join(dir, "pytorch_model.bin")
			ts, err := checkpoint.ReadPyTorch(path)
			require.NoError(t, err)
			m, err := newModel(cfg, checkpoint.NewWeights(ts, path), LoadOptions{})
			require.NoError(t, err)
			g := testutil.LoadGolden(t, name)
			got, err := m.Logits(context.Background(), rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")), rows(g.T(t, "decoder_input_ids")))
			require.NoError(t, err)
			testutil.AllClose(t, "decoder.logits from pytorch_model.bin", got.Data, g.T(t, "decoder.logits").F32, logitsAtol, logitsRtol)
		})
	}
}

// fixtureWeights returns t5-tiny's config and a fresh copy of its weight map.
func fixtureWeights(t *testing.T) (Config, map[string]*Tensor) {
	dir := testutil.Fixture("t5-tiny")
	cfg, err := LoadConfig(dir)
	require.NoError(t, err)
	ts, err := checkpoint.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
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
			[]string{"absent", "decoder.block.1.layer.2.DenseReluDense.wo.weight"}},
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
			require.Error(t, err, "New accepted the weights")
			for _, s := range tc.errHas {
				assert.Contains(t, err.Error(), s)
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
		require.NoError(t, err)
		var want []string
		for _, s := range parameterSpecs(cfg) {
			want = append(want, s.name)
		}
		assert.Equal(t, want, m.ParameterNames())
	})
}

func TestParameterRoundTrip(t *testing.T) {
	cfg, w := fixtureWeights(t)
	m, err := New(cfg, w)
	require.NoError(t, err)
	for _, name := range []string{"shared.weight", "encoder.block.0.layer.0.SelfAttention.o.weight", "decoder.block.1.layer.2.DenseReluDense.wi.weight"} {
		p := m.Parameter(name)
		require.NotNil(t, p, "no parameter %s", name)
		assert.Equal(t, w[name].Shape, p.Shape, name)
		assert.Equal(t, w[name].Data, p.Data, name)
	}
	assert.Nil(t, m.Parameter("lm_head.weight"), "a tied lm_head is not a parameter of its own")
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(t.Context(), filepath.Join(t.TempDir(), "no-such-model"), LoadOptions{})
	assert.Error(t, err, "Load of a missing folder")
	_, err = Load(t.Context(), testutil.Fixture("bert-tiny"), LoadOptions{})
	assert.ErrorContains(t, err, "architectures", "Load of a BERT folder")
}
