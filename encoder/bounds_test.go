package encoder

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModulesAndPooling checks the sentence-transformers files: module
// paths stay inside the model folder, and the pooling config must match the
// model's hidden size.
func TestModulesAndPooling(t *testing.T) {
	mods, err := parseModules([]byte(`[{"idx": 1, "name": "1", "path": "1_Pooling", "type": "p"}, {"idx": 0, "name": "0", "path": "", "type": "t"}]`))
	require.NoError(t, err)
	assert.Equal(t, []string{"", "1_Pooling"}, []string{mods[0].Path, mods[1].Path}, "sorted by idx")
	for _, path := range []string{"../../etc", "/etc", "a/../../b"} {
		_, err := parseModules([]byte(`[{"idx": 0, "name": "0", "path": "` + path + `", "type": "t"}]`))
		assert.ErrorContains(t, err, "outside the model folder", path)
	}
	_, err = parsePooling([]byte(`{"word_embedding_dimension": 17, "pooling_mode_mean_tokens": true}`), 16)
	assert.ErrorContains(t, err, "word_embedding_dimension 17 differs from the model's hidden size 16")
	p, err := parsePooling([]byte(`{"word_embedding_dimension": 16, "pooling_mode_cls_token": true, "pooling_mode_max_tokens": true}`), 16)
	require.NoError(t, err)
	assert.Equal(t, 32, p.Dim())
}

// TestConfigBounds: a BERT or DistilBERT config.json with more than
// MaxLayers layers, a negative type_vocab_size, or sizes whose product (an
// embedding's or the feed-forward weight's element count) overflows an int
// is refused by ParseConfig, before the loader sizes anything by them.
func TestConfigBounds(t *testing.T) {
	for _, c := range []struct{ json, errHas string }{
		{`{"model_type": "bert", "num_hidden_layers": 1000000000}`, "layer count 1000000000 is above the 1024 supported"},
		{`{"model_type": "distilbert", "n_layers": 1025}`, "layer count 1025"},
		{`{"model_type": "bert", "vocab_size": 9223372036854775807}`, "word embedding (vocab size × hidden size)"},
		{`{"model_type": "bert", "max_position_embeddings": 4611686018427387904}`, "position embedding"},
		{`{"model_type": "bert", "type_vocab_size": 4611686018427387904}`, "token type embedding"},
		{`{"model_type": "bert", "type_vocab_size": -1}`, "type_vocab_size must not be negative"},
		{`{"model_type": "distilbert", "dim": 4294967296, "n_heads": 1, "hidden_dim": 4294967296}`, "feed-forward"},
	} {
		_, err := ParseConfig([]byte(c.json))
		assert.ErrorContains(t, err, c.errHas, "ParseConfig(%s)", c.json)
	}
	c, err := ParseConfig([]byte(`{"model_type": "bert", "num_hidden_layers": 1024, "vocab_size": 3, "hidden_size": 3037000499, "num_attention_heads": 1, "intermediate_size": 3037000499}`))
	require.NoError(t, err, "the largest sizes that fit")
	assert.Equal(t, MaxLayers, c.Layers)
}

// copyFixture makes a copy of a fixture folder (its files linked) in which
// the named files are replaced.
func copyFixture(t *testing.T, name string, replace map[string]string) string {
	t.Helper()
	src := testutil.Fixture(name)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())))
	}
	for rel, content := range replace {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.Remove(p))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// TestTokenizerFitsVocab: the tokenizer's ids must fit config.json's
// vocab_size; a tokenizer whose added tokens go beyond is refused at Load
// instead of failing inside a graph.
func TestTokenizerFitsVocab(t *testing.T) {
	dir := copyFixture(t, "bert-tiny", map[string]string{"tokenizer_config.json": `{"do_lower_case": true}`})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"<new>": 30522}`), 0o644))
	_, err := Load(t.Context(), dir, LoadOptions{})
	require.ErrorContains(t, err, `has ids up to 30522 ("<new>"), but config.json's vocab_size is 30522`)

	dir = copyFixture(t, "bert-tiny", map[string]string{"modules.json": `[{"idx": 0, "name": "0", "path": "..", "type": "sentence_transformers.models.Transformer"}]`})
	_, err = Load(t.Context(), dir, LoadOptions{})
	require.ErrorContains(t, err, `module "0" has path "..", outside the model folder`)
}

// FuzzParseConfig feeds arbitrary bytes to ParseConfig (BERT and
// DistilBERT config.json): it must not panic, and a config it accepts has
// positive sizes within MaxLayers whose weight shapes do not overflow.
// Only an input's first 4 KiB are read (a config.json is under 1 KiB).
func FuzzParseConfig(f *testing.F) {
	for _, name := range fixtures {
		b, err := os.ReadFile(testutil.Fixture(name, "config.json"))
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{`{"model_type": "bert"}`, `{"model_type": "distilbert", "dim": 0}`, `{"model_type": "bert", "hidden_size": 1e300}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b[:min(len(b), 4<<10)]) // only the first 4 KiB
		if err == nil {
			checkAccepted(t, c)
		}
	})
}

// checkAccepted checks what ParseConfig promises of a config it accepts.
func checkAccepted(t *testing.T, c *Config) {
	require.LessOrEqual(t, c.Layers, MaxLayers)
	for _, d := range []int{c.VocabSize, c.Hidden, c.Heads, c.Intermediate, c.MaxPositions} {
		require.Positive(t, d)
	}
	require.Zero(t, c.Hidden%c.Heads)
	require.LessOrEqual(t, float64(c.VocabSize)*float64(c.Hidden), float64(math.MaxInt))
}

// FuzzSentenceTransformersConfig feeds arbitrary modules.json and
// 1_Pooling/config.json to their readers (for a 16-wide model): they must
// not panic, module paths stay inside the folder, and an accepted pooling
// config has the model's width and a size that does not overflow.
func FuzzSentenceTransformersConfig(f *testing.F) {
	read := func(name string) []byte {
		b, err := os.ReadFile(testutil.Fixture("bert-tiny", name))
		require.NoError(f, err)
		return b
	}
	f.Add(read("modules.json"), read("1_Pooling/config.json"))
	f.Add([]byte(`[{"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}, {"idx": -1, "path": "../x"}]`),
		[]byte(`{"word_embedding_dimension": 16, "pooling_mode_cls_token": true, "pooling_mode_lasttoken": true}`))
	f.Fuzz(func(t *testing.T, modules, pooling []byte) {
		if len(modules)+len(pooling) > 16<<10 {
			return
		}
		if mods, err := parseModules(modules); err == nil {
			for _, m := range mods {
				require.True(t, m.Path == "" || filepath.IsLocal(m.Path), "path %q", m.Path)
			}
		}
		if p, err := parsePooling(pooling, 16); err == nil {
			require.Equal(t, 16, p.WordEmbeddingDimension)
			if _, err := p.Modes(); err == nil {
				require.Positive(t, p.Dim())
				require.LessOrEqual(t, p.Dim(), 4*16)
			}
		}
	})
}

// TestModelMaxLengthBelowOne: a tokenizer_config.json model_max_length
// between 0 and 1 used to become a maximum sequence length of 0; it is
// ignored like a missing one, leaving max_position_embeddings.
func TestModelMaxLengthBelowOne(t *testing.T) {
	for _, c := range []struct {
		value string
		want  int
	}{{"0.5", 512}, {"1e30", 512}, {"128", 128}, {"1", 1}} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"model_max_length": `+c.value+`}`), 0o644))
		n, err := maxSeqLength(nil, dir, 512)
		require.NoError(t, err)
		assert.Equal(t, c.want, n, "model_max_length %s", c.value)
	}
}
