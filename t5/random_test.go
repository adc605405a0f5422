package t5

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// t5BaseConfig is t5-base (v1.0), the architecture of
// BeIR/query-gen-msmarco-t5-base-v1: 222.9M parameters.
func t5BaseConfig() Config {
	cfg := DefaultConfig()
	cfg.DModel, cfg.DKV, cfg.DFF = 768, 64, 3072
	cfg.NumLayers, cfg.NumDecoderLayers, cfg.NumHeads = 12, 12, 12
	return cfg
}

// randomModel builds a model of cfg's shape with weights drawn uniformly from
// a fixed-seed stream, scaled like T5's initialisation (embeddings of unit
// scale, projections by 1/√fan_in) so that activations stay in range.
func randomModel(tb testing.TB, cfg Config, seed uint64) *Model {
	tb.Helper()
	if cfg.NumDecoderLayers == 0 {
		cfg.NumDecoderLayers = cfg.NumLayers
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	weights := map[string]*Tensor{}
	for _, s := range parameterSpecs(cfg) {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		data := make([]float32, n)
		switch {
		case isLinear(s):
			a := float32(math.Sqrt(3 / float64(s.shape[1]))) // unit-variance outputs for unit inputs
			for i := range data {
				data[i] = a * (2*rng.Float32() - 1)
			}
		case len(s.shape) == 1: // layer-norm weights
			for i := range data {
				data[i] = 1
			}
		default: // embeddings and the relative-position tables
			for i := range data {
				data[i] = 2*rng.Float32() - 1
			}
		}
		weights[s.name] = &Tensor{Shape: s.shape, Data: data}
	}
	m, err := New(cfg, weights)
	require.NoError(tb, err, "building a random %d-layer model", cfg.NumLayers)
	return m
}

// isLinear reports whether a parameter is an nn.Linear weight (out, in): a
// matrix other than the embedding and the relative-position tables.
func isLinear(s paramSpec) bool {
	return len(s.shape) == 2 && s.name != "shared.weight" && !strings.HasSuffix(s.name, ".relative_attention_bias.weight")
}

// randomIDs returns n rows of length ids in [2, vocab) ending with </s>, as
// the tokenizer makes them.
func randomIDs(n, length, vocab int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, length)
		for j := range out[i] {
			out[i][j] = 2 + rng.IntN(vocab-2)
		}
		out[i][length-1] = 1
	}
	return out
}

var (
	baseOnce  sync.Once
	baseModel *Model
)

// t5Base returns (once per test binary) a random t5-base model.
func t5Base(tb testing.TB) *Model {
	baseOnce.Do(func() { baseModel = randomModel(tb, t5BaseConfig(), 1) })
	if baseModel == nil {
		tb.Fatal("building the random t5-base model failed earlier")
	}
	return baseModel
}
