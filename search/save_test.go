package search

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// safetensorsFile assembles a safetensors file from a header and a data section.
var safetensorsFile = testutil.SafetensorsFile

// embeddingsFile is the safetensors file of one F32 "embeddings" tensor with
// the given shape and values, and metadata meta.
func embeddingsFile(t *testing.T, shape []int, values []float32, meta map[string]string) []byte {
	b, err := checkpoint.MarshalSafetensors(map[string]*checkpoint.Tensor{EmbeddingsTensor: {DType: "F32", Shape: shape, F32: values}}, meta)
	require.NoError(t, err)
	return b
}

// TestLoadCorpusRejects checks that every malformed embeddings file is an
// error that names the file and the problem, never a panic or a corpus whose
// rows reach past its data.
func TestLoadCorpusRejects(t *testing.T) {
	two := make([]byte, 8) // the data section of two F32 values
	tests := []struct {
		name string
		file []byte
		want string
	}{
		// 3 × 6148914691236517206 wraps around int64 to 2: once accepted, and
		// then Row(1) panicked.
		{"shape product overflows int64",
			safetensorsFile(`{"embeddings":{"dtype":"F32","shape":[3,6148914691236517206],"data_offsets":[0,8]}}`, two),
			`tensor "embeddings": shape [3 6148914691236517206] has more elements`},
		{"not a matrix", safetensorsFile(`{"embeddings":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, two), "want a floating-point [rows, dim] matrix"},
		{"integer tensor", safetensorsFile(`{"embeddings":{"dtype":"I32","shape":[1,2],"data_offsets":[0,8]}}`, two), "want a floating-point"},
		{"no rows", safetensorsFile(`{"embeddings":{"dtype":"F32","shape":[0,2],"data_offsets":[0,0]}}`, nil), "is empty"},
		{"which tensor", safetensorsFile(`{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]}}`, two), `none is named "embeddings"`},
		{"NaN", embeddingsFile(t, []int{1, 2}, []float32{1, float32(math.NaN())}, nil), "row 0 holds NaN at dimension 1"},
		{"unknown score", embeddingsFile(t, []int{1, 2}, []float32{3, 4}, map[string]string{scoreKey: "l1"}), `unknown genq.search.score "l1"`},
		// A cosine corpus is searched as stored: rows that are not unit
		// vectors would give silently wrong scores.
		{"cosine but not normalized", embeddingsFile(t, []int{1, 2}, []float32{3, 4}, map[string]string{scoreKey: "cosine"}),
			"row 0 has norm 5, not 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			require.NoError(t, os.WriteFile(path, tc.file, 0o644))
			c, err := LoadCorpus(path, true)
			require.ErrorContains(t, err, tc.want, "loaded %v", c)
			require.ErrorContains(t, err, path, "the error names the file")
		})
	}
}

// FuzzLoadCorpus feeds arbitrary bytes to LoadCorpus's parser: it must
// return an error or a corpus whose every row can be read and searched.
// Inputs are capped at 64 KiB so each run stays cheap and its memory small.
func FuzzLoadCorpus(f *testing.F) {
	c, err := NewCorpus([][]float32{{1, 2, 3}, {0, 0, 0}, {-1, 0.5, 2}}, true)
	require.NoError(f, err)
	path := filepath.Join(f.TempDir(), "corpus.safetensors")
	require.NoError(f, c.Save(path))
	saved, err := os.ReadFile(path)
	require.NoError(f, err)
	for _, seed := range [][]byte{
		saved,
		saved[:len(saved)-4],
		safetensorsFile(`{"embeddings":{"dtype":"F32","shape":[3,6148914691236517206],"data_offsets":[0,8]}}`, make([]byte, 8)),
		safetensorsFile(`{"x":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]}}`, []byte{0, 0x3c, 0, 0xbc}),
		safetensorsFile(`{"__metadata__":{"genq.search.score":"dot"},"embeddings":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}}`, []byte{0x80, 0x3f, 0, 0}),
	} {
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, normalize bool) {
		if len(b) > 1<<16 {
			return
		}
		c, err := parseCorpus(b, "fuzz.safetensors", normalize)
		if err != nil {
			return
		}
		require.Positive(t, c.Len())
		for i := range c.Len() {
			require.Len(t, c.Row(i), c.Dim())
		}
		_, err = c.Search([][]float32{c.Row(0)}, 2, WithWorkers(1))
		require.NoError(t, err, "searching an accepted corpus")
	})
}
