package encoder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ceFixture is the cross-encoder fixture: a CrossEncoder folder as the hub
// ships cross-encoder/ms-marco-MiniLM-L-6-v2 (Identity activation,
// model_max_length 32).
const ceFixture = "cross-encoder-tiny"

// ceTol is the tolerance of scores and logits against the reference: |Δ| <= 1e-5.
const ceTol = 1e-5

// loadCE loads the cross-encoder fixture with opts.
func loadCE(t testing.TB, opts CrossEncoderOptions) *CrossEncoder {
	t.Helper()
	c, err := LoadCrossEncoder(context.Background(), testutil.Fixture(ceFixture), opts)
	require.NoError(t, err)
	return c
}

// cePairs returns the fixture's (query, passage) pairs.
func cePairs(t *testing.T, g *testutil.Golden) [][2]string {
	var rows []struct{ Query, Passage string }
	g.Decode(t, "pairs", &rows)
	pairs := make([][2]string, len(rows))
	for i, r := range rows {
		pairs[i] = [2]string{r.Query, r.Passage}
	}
	return pairs
}

// TestCrossEncoderTokenize: the pair encodings (ids, token type ids, mask)
// equal the reference's exactly, longest-first truncation at 32 included.
func TestCrossEncoderTokenize(t *testing.T) {
	c, g := loadCE(t, CrossEncoderOptions{}), testutil.LoadGolden(t, ceFixture)
	require.Equal(t, 32, c.MaxLength())
	pairs := cePairs(t, g)
	qs, ps := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		qs[i], ps[i] = p[0], p[1]
	}
	ids, types, mask, err := c.Tokenizer().EncodePairBatch(qs, ps, c.MaxLength())
	require.NoError(t, err)
	flat := func(rows [][]int) []int {
		var out []int
		for _, r := range rows {
			out = append(out, r...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  [][]int
	}{{"input_ids", ids}, {"token_type_ids", types}, {"attention_mask", mask}} {
		want := g.T(t, "pair."+tc.name)
		require.Len(t, tc.got, want.Shape[0], tc.name)
		assert.Equal(t, testutil.Ints(want), flat(tc.got), tc.name)
	}
}

// TestCrossEncoderPredict compares Predict with CrossEncoder.predict at
// several batch sizes (the reference used 3), with the config's Identity
// activation, raw logits, the Sigmoid a config without activation gets, and
// the logits of the golden padded batch: |Δ| <= 1e-5.
func TestCrossEncoderPredict(t *testing.T) {
	c, g := loadCE(t, CrossEncoderOptions{}), testutil.LoadGolden(t, ceFixture)
	assert.Equal(t, ActivationIdentity, c.Activation())
	pairs := cePairs(t, g)
	ctx := context.Background()
	for _, batch := range []int{1, 3, 8, 32} {
		got, err := c.Predict(ctx, pairs, WithBatchSize(batch))
		require.NoError(t, err)
		allClose(t, "predict", got, g.T(t, "predict").F32, ceTol, 0)
		got, err = c.PredictLogits(ctx, pairs, WithBatchSize(batch))
		require.NoError(t, err)
		allClose(t, "predict logits", got, g.T(t, "logits").F32, ceTol, 0)
		got, err = c.Predict(ctx, pairs, WithBatchSize(batch), WithActivation(ActivationSigmoid))
		require.NoError(t, err)
		allClose(t, "predict_sigmoid", got, g.T(t, "predict_sigmoid").F32, ceTol, 0)
	}
	enc := tokenized{}
	for _, name := range []string{"input_ids", "token_type_ids", "attention_mask"} {
		x := g.T(t, "pair."+name)
		flat := testutil.Ints(x)
		var rows [][]int
		for i := 0; i < x.Shape[0]; i++ {
			rows = append(rows, flat[i*x.Shape[1]:(i+1)*x.Shape[1]])
		}
		switch name {
		case "input_ids":
			enc.ids = rows
		case "token_type_ids":
			enc.types = rows
		default:
			enc.mask = rows
		}
	}
	c.m.mu.Lock()
	logits, err := c.logits(enc)
	c.m.mu.Unlock()
	require.NoError(t, err)
	allClose(t, "logits", logits, g.T(t, "logits").F32, ceTol, 0)

	got, err := c.Predict(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = c.Predict(ctx, pairs, WithBatchSize(0))
	assert.ErrorContains(t, err, "batch size must be positive")
	_, err = c.Predict(ctx, pairs, WithNormalize(true))
	assert.ErrorContains(t, err, "WithNormalize applies to embeddings")
	_, err = loadFixture(t, "bert-tiny").Encode(ctx, []string{"a"}, WithActivation(ActivationSigmoid))
	assert.ErrorContains(t, err, "WithActivation applies to cross-encoder scores")
	var bar strings.Builder
	_, err = c.Predict(ctx, pairs, WithBatchSize(3), WithProgress(&bar))
	require.NoError(t, err)
	assert.Contains(t, bar.String(), "3/3")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Predict(canceled, pairs)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, c.UnusedWeights(), "BertForSequenceClassification takes every tensor")
}

// ceVariant copies the fixture into a temporary folder with config.json
// changed by edit (nil: unchanged) and returns the folder.
func ceVariant(t *testing.T, edit func(cfg map[string]any)) string {
	t.Helper()
	src, dir := testutil.Fixture(ceFixture), t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "golden") || e.Name() == "pytorch_model.bin" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		if e.Name() == "config.json" && edit != nil {
			var cfg map[string]any
			require.NoError(t, json.Unmarshal(b, &cfg))
			edit(cfg)
			b, err = json.Marshal(cfg)
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// TestCrossEncoderActivation: the activation comes from the config key
// sentence-transformers 2.x writes (sbert_ce_default_activation_function),
// from the one later releases write (sentence_transformers.activation_fn),
// else is Sigmoid for one label, unless the options override it; Predict
// applies it to the logits (|Δ| <= 1e-5 against the reference's sigmoid).
func TestCrossEncoderActivation(t *testing.T) {
	const key = "sbert_ce_default_activation_function"
	g := testutil.LoadGolden(t, ceFixture)
	pairs := cePairs(t, g)
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		opts CrossEncoderOptions
		want Activation
		err  string
	}{
		{name: "identity", want: ActivationIdentity},
		{name: "none is sigmoid", edit: func(c map[string]any) { delete(c, key) }, want: ActivationSigmoid},
		{name: "null is sigmoid", edit: func(c map[string]any) { c[key] = nil }, want: ActivationSigmoid},
		{name: "short sigmoid", edit: func(c map[string]any) { c[key] = "torch.nn.Sigmoid" }, want: ActivationSigmoid},
		{name: "full sigmoid", edit: func(c map[string]any) { c[key] = "torch.nn.modules.activation.Sigmoid" }, want: ActivationSigmoid},
		{name: "tanh", edit: func(c map[string]any) { c[key] = "torch.nn.Tanh" }, want: ActivationTanh},
		{name: "sentence_transformers key", edit: func(c map[string]any) {
			delete(c, key)
			c["sentence_transformers"] = map[string]any{"activation_fn": "torch.nn.modules.activation.Sigmoid", "version": "4.0.1"}
		}, want: ActivationSigmoid},
		{name: "option overrides", opts: CrossEncoderOptions{Activation: ActivationSigmoid}, want: ActivationSigmoid},
		{name: "unknown", edit: func(c map[string]any) { c[key] = "torch.nn.GELU" }, err: `activation "torch.nn.GELU" is not supported`},
		{name: "unknown option", opts: CrossEncoderOptions{Activation: Activation(9)}, err: "unknown activation Activation(9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadCrossEncoder(context.Background(), ceVariant(t, tc.edit), tc.opts)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Activation())
			got, err := c.Predict(context.Background(), pairs)
			require.NoError(t, err)
			logits := g.T(t, "logits").F32
			want := make([]float32, len(logits))
			for i, x := range logits {
				want[i] = tc.want.apply(x)
			}
			if tc.want == ActivationSigmoid {
				want = g.T(t, "predict_sigmoid").F32
			}
			allClose(t, "predict", got, want, ceTol, 0)
		})
	}
}

// TestCrossEncoderLoadErrors: the wrong kind of model, in either direction,
// and checkpoints a cross-encoder cannot run are errors that say what to do.
func TestCrossEncoderLoadErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Load(ctx, testutil.Fixture(ceFixture), LoadOptions{})
	assert.ErrorContains(t, err, "holds a cross-encoder (config.json: BertForSequenceClassification)")
	assert.ErrorContains(t, err, "encoder.LoadCrossEncoder")
	for _, bi := range fixtures {
		_, err = LoadCrossEncoder(ctx, testutil.Fixture(bi), CrossEncoderOptions{})
		assert.ErrorContains(t, err, "is a sentence-transformers bi-encoder (it has modules.json), not a cross-encoder: load it with encoder.Load", bi)
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		opts CrossEncoderOptions
		err  string
	}{
		{name: "plain BertModel", edit: func(c map[string]any) { c["architectures"] = []string{"BertModel"} },
			err: `is not a cross-encoder: config.json's architectures ["BertModel"] name no BertForSequenceClassification`},
		{name: "two labels", edit: func(c map[string]any) { c["id2label"] = map[string]string{"0": "a", "1": "b"} },
			err: "the cross-encoder has 2 labels"},
		{name: "no labels named", edit: func(c map[string]any) { delete(c, "id2label"); delete(c, "label2id") },
			err: "the cross-encoder has 2 labels"}, // transformers' default num_labels
		{name: "num_labels 1", edit: func(c map[string]any) { delete(c, "id2label"); c["num_labels"] = 1 }},
		{name: "distilbert", edit: func(c map[string]any) { c["model_type"] = "distilbert" },
			err: `cross-encoders on model_type "distilbert" are not supported`},
		{name: "max length", opts: CrossEncoderOptions{MaxLength: 513}, err: "MaxLength 513 must be in [1, 512]"},
		{name: "no architectures", edit: func(c map[string]any) { delete(c, "architectures") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCrossEncoder(ctx, ceVariant(t, tc.edit), tc.opts)
			if tc.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.err)
			}
		})
	}
	// a config without architectures over a bi-encoder's weights
	dir := ceVariant(t, func(c map[string]any) { delete(c, "architectures") })
	b, err := os.ReadFile(testutil.Fixture("bert-tiny", "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), b, 0o644))
	_, err = LoadCrossEncoder(ctx, dir, CrossEncoderOptions{})
	assert.ErrorContains(t, err, "the checkpoint has no classifier (classifier.weight): it is no BertForSequenceClassification; a bi-encoder loads with encoder.Load")
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
	_, err = LoadCrossEncoder(ctx, dir, CrossEncoderOptions{})
	assert.ErrorContains(t, err, "model.safetensors", "no weights")
	_, err = LoadCrossEncoder(ctx, "not a model id", CrossEncoderOptions{})
	assert.ErrorContains(t, err, "neither an existing folder nor a hub model id")
}

// TestCrossEncoderMaxLength: a MaxLength option truncates the pairs
// (longest first) below the tokenizer's model_max_length.
func TestCrossEncoderMaxLength(t *testing.T) {
	c := loadCE(t, CrossEncoderOptions{MaxLength: 12})
	assert.Equal(t, 12, c.MaxLength())
	ids, types, _, err := c.Tokenizer().EncodePairBatch([]string{"a very long query about java"}, []string{"java is a language"}, c.MaxLength())
	require.NoError(t, err)
	assert.Len(t, ids[0], 12)
	// 6 + 4 tokens and 3 special ones: the longer query loses one
	assert.Equal(t, []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, types[0])
}

// TestCrossEncoderHubID loads the fixture by hub id from a Hugging Face
// cache holding its snapshot, offline, as a model downloaded before.
func TestCrossEncoderHubID(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--cross-encoder--tiny")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "snapshots"), 0o755))
	require.NoError(t, os.Rename(ceVariant(t, nil), filepath.Join(repo, "snapshots", commit)))
	predictsGolden(t, "cross-encoder/tiny", CrossEncoderOptions{Hub: hub.Options{CacheDir: cache, Offline: true}})
}

// predictsGolden loads the cross-encoder nameOrDir and checks its scores
// of the fixture's pairs against the reference: |Δ| <= 1e-5.
func predictsGolden(t *testing.T, nameOrDir string, opts CrossEncoderOptions) {
	t.Helper()
	c, err := LoadCrossEncoder(context.Background(), nameOrDir, opts)
	require.NoError(t, err)
	g := testutil.LoadGolden(t, ceFixture)
	got, err := c.Predict(context.Background(), cePairs(t, g))
	require.NoError(t, err)
	allClose(t, "predict", got, g.T(t, "predict").F32, ceTol, 0)
}

// TestCrossEncoderPyTorchBin loads the weights from pytorch_model.bin when
// the folder has no model.safetensors, with the same scores (|Δ| <= 1e-5).
func TestCrossEncoderPyTorchBin(t *testing.T) {
	dir := ceVariant(t, nil)
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
	b, err := os.ReadFile(testutil.Fixture(ceFixture, "pytorch_model.bin"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), b, 0o644))
	predictsGolden(t, dir, CrossEncoderOptions{})
}

// TestCrossEncoderConcurrent: Predict from several goroutines at once gives
// every caller the scores of a lone call (bit-identical).
func TestCrossEncoderConcurrent(t *testing.T) {
	c, g := loadCE(t, CrossEncoderOptions{}), testutil.LoadGolden(t, ceFixture)
	pairs := cePairs(t, g)
	want, err := c.Predict(context.Background(), pairs, WithBatchSize(3))
	require.NoError(t, err)
	errs := make(chan error, 4)
	got := make([][]float32, 4)
	for i := range got {
		go func() {
			var err error
			got[i], err = c.Predict(context.Background(), pairs, WithBatchSize(3))
			errs <- err
		}()
	}
	for range got {
		require.NoError(t, <-errs)
	}
	for i := range got {
		assert.Equal(t, want, got[i], "caller %d", i)
	}
}
