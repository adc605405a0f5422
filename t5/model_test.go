package t5

import (
	"context"
	"sync"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures are the two tiny T5 checkpoints with golden outputs of transformers 4.40.
var fixtures = []string{"t5-tiny", "t5-tiny-gated"}

var (
	modelsMu sync.Mutex
	models   = map[string]*Model{}
)

// eachFixture runs test as a subtest per T5 fixture, with the fixture's
// model (loaded once per test binary) and golden tensors.
func eachFixture(t *testing.T, test func(t *testing.T, m *Model, g *testutil.Golden)) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) { test(t, loadFixture(t, name), testutil.LoadGolden(t, name)) })
	}
}

// loadFixture loads (once per test binary) the model of a fixture folder.
func loadFixture(t testing.TB, name string) *Model {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[name]; ok {
		return m
	}
	m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
	require.NoError(t, err, "Load(%s)", name)
	models[name] = m
	return m
}

// rows splits an int64 golden tensor [n, k] into n rows of ints.
func rows(x *checkpoint.Tensor) [][]int {
	n, k := x.Shape[0], x.Shape[1]
	v := testutil.Ints(x)
	out := make([][]int, n)
	for i := range out {
		out[i] = v[i*k : (i+1)*k]
	}
	return out
}

// Activations: |Δ| <= 1e-5 + 1e-4·|want|. Logits reach |15| in t5-tiny-gated,
// where float32 rounding through the unscaled attention gives |Δ| up to 3e-5,
// so they get atol 5e-5.
const (
	actAtol, actRtol       = 1e-5, 1e-4
	logitsAtol, logitsRtol = 5e-5, 1e-4
)

func TestEncoderHiddenState(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		got, err := m.Encode(context.Background(), rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")))
		require.NoError(t, err)
		want := g.T(t, "encoder.last_hidden_state")
		testutil.AllClose(t, "encoder.last_hidden_state", got.Data, want.F32, actAtol, actRtol)
	})
}

func TestDecoderLogits(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		got, err := m.Logits(context.Background(), rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")), rows(g.T(t, "decoder_input_ids")))
		require.NoError(t, err)
		testutil.AllClose(t, "decoder.logits", got.Data, g.T(t, "decoder.logits").F32, logitsAtol, logitsRtol)
	})
}

// Loss: |Δ| <= 1e-5 + 1e-5·|want|; gradients: |Δ| <= 1e-4 + 1e-3·|want|.
func TestLossAndGradients(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		ids, mask, labels := rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")), rows(g.T(t, "labels"))
		want := g.T(t, "loss").F32
		loss, err := m.Loss(context.Background(), ids, mask, labels)
		require.NoError(t, err)
		testutil.AllClose(t, "loss (logits path)", []float32{float32(loss)}, want, 1e-5, 1e-5)
		loss, grads, err := m.LossAndGrad(context.Background(), ids, mask, labels)
		require.NoError(t, err)
		testutil.AllClose(t, "loss (training graph)", []float32{float32(loss)}, want, 1e-5, 1e-5)
		var names []string
		g.Decode(t, "parameter_names", &names)
		assert.Equal(t, names, m.ParameterNames(), "parameters in named_parameters() order")
		assert.Len(t, grads, len(names))
		for _, p := range names {
			gr, ok := grads[p]
			if !assert.True(t, ok, "no gradient for %s", p) {
				continue
			}
			w := g.T(t, "grad."+p)
			if !assert.Equal(t, w.Shape, gr.Shape, "grad.%s shape", p) {
				continue
			}
			testutil.AllClose(t, "grad."+p, gr.Data, w.F32, 1e-4, 1e-3)
		}
	})
}

func TestRelativePositionBucket(t *testing.T) {
	g := testutil.LoadGolden(t, "t5-tiny")
	rel := testutil.Ints(g.T(t, "relative_position_bucket.relative_position"))
	for _, tc := range []struct {
		name          string
		bidirectional bool
	}{{"bidirectional", true}, {"unidirectional", false}} {
		want := testutil.Ints(g.T(t, "relative_position_bucket."+tc.name))
		got := make([]int, len(rel))
		for i, r := range rel {
			got[i] = RelativePositionBucket(r, tc.bidirectional, 32, 128)
		}
		assert.Equal(t, want, got, "%s buckets of offsets %d..%d", tc.name, rel[0], rel[len(rel)-1])
	}
}
