package checkpoint_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// link makes dir/name point at a fixture file.
func link(t *testing.T, dir, name, target string) {
	t.Helper()
	require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
}

func writeIndex(t *testing.T, path string, weightMap map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// shardFixture splits bert-tiny's model.safetensors into two shards plus
// an index in dir and returns the tensors.
func shardFixture(t *testing.T, dir string) map[string]*checkpoint.Tensor {
	t.Helper()
	all, err := checkpoint.ReadSafetensors(testutil.Fixture("bert-tiny", "model.safetensors"))
	require.NoError(t, err)
	shards := [2]map[string]*checkpoint.Tensor{{}, {}}
	weightMap := map[string]string{}
	for i, name := range sortedKeys(all) {
		file := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i%2]
		shards[i%2][name] = all[name]
		weightMap[name] = file
	}
	for i, s := range shards {
		name := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		require.NoError(t, checkpoint.WriteSafetensors(filepath.Join(dir, name), s, map[string]string{"format": "pt"}))
	}
	writeIndex(t, filepath.Join(dir, "model.safetensors.index.json"), weightMap)
	return all
}

func TestOpenPrefersSafetensors(t *testing.T) {
	w, err := checkpoint.Open(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	assert.Equal(t, "model.safetensors", filepath.Base(w.Source))
	assert.Len(t, w.Tensors, 47)
}

func TestOpenFallsBackToPyTorch(t *testing.T) {
	dir := t.TempDir()
	link(t, dir, "pytorch_model.bin", testutil.Fixture("t5-tiny", "pytorch_model.bin"))
	w, err := checkpoint.Open(dir)
	require.NoError(t, err)
	assert.Equal(t, "pytorch_model.bin", filepath.Base(w.Source))
	assert.Len(t, w.Tensors, 50)
	_, err = w.Get([]int{32128, 16}, "lm_head.weight")
	require.NoError(t, err)
}

func TestOpenSharded(t *testing.T) {
	t.Run("safetensors", func(t *testing.T) {
		dir := t.TempDir()
		want := shardFixture(t, dir)
		link(t, dir, "pytorch_model.bin", testutil.Fixture("bert-tiny", "pytorch_model.bin")) // must lose
		w, err := checkpoint.Open(dir)
		require.NoError(t, err)
		require.Equal(t, "model.safetensors.index.json", filepath.Base(w.Source), "Open read the safetensors index")
		sameTensors(t, w.Tensors, want)
	})
	t.Run("pytorch", func(t *testing.T) {
		dir := t.TempDir()
		link(t, dir, "pytorch_model-00001-of-00001.bin", testutil.Fixture("bert-tiny", "pytorch_model.bin"))
		want, err := checkpoint.ReadPyTorch(testutil.Fixture("bert-tiny", "pytorch_model.bin"))
		require.NoError(t, err)
		weightMap := map[string]string{}
		for k := range want {
			weightMap[k] = "pytorch_model-00001-of-00001.bin"
		}
		writeIndex(t, filepath.Join(dir, "pytorch_model.bin.index.json"), weightMap)
		w, err := checkpoint.Open(dir)
		require.NoError(t, err)
		require.Equal(t, "pytorch_model.bin.index.json", filepath.Base(w.Source), "Open read the pytorch index")
		sameTensors(t, w.Tensors, want)
	})
}

func TestOpenShardedRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(m map[string]string)
		index string
		want  string
	}{
		// pooler.dense.bias is in shard 2.
		{"tensor not in its shard", func(m map[string]string) { m["pooler.dense.bias"] = "model-00001-of-00002.safetensors" }, "", "does not hold it"},
		{"shard outside the folder", func(m map[string]string) { m["x"] = "../model.safetensors" }, "", "not a file name in the index's folder"},
		{"missing shard", func(m map[string]string) { m["x"] = "model-00003-of-00002.safetensors" }, "", "no such file"},
		{"empty weight_map", nil, `{"weight_map":{}}`, "no weight_map entries"},
		{"not JSON", nil, `weights`, "not a shard index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			all := shardFixture(t, dir)
			index := filepath.Join(dir, "model.safetensors.index.json")
			if tc.edit != nil {
				m := map[string]string{}
				for i, k := range sortedKeys(all) {
					m[k] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i%2]
				}
				tc.edit(m)
				writeIndex(t, index, m)
			} else {
				os.WriteFile(index, []byte(tc.index), 0o644)
			}
			_, err := checkpoint.Open(dir)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestOpenEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := checkpoint.Open(dir)
	require.ErrorContains(t, err, "model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json")
}

func TestWeightsGet(t *testing.T) {
	w := checkpoint.NewWeights(map[string]*checkpoint.Tensor{
		"a":   {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}},
		"ids": {DType: "I64", Shape: []int{1}, I64: []int64{1}},
		"b":   {DType: "F32", Shape: []int{1}, F32: []float32{3}},
	}, "mem")
	x, err := w.Get([]int{2}, "missing", "a")
	if assert.NoError(t, err, "Get(a)") {
		assert.Equal(t, []float32{1, 2}, x.F32, "Get(a)")
	}
	_, err = w.Get([]int{3}, "a")
	assert.ErrorContains(t, err, "has shape [2], the config implies [3]", "shape mismatch")
	_, err = w.Get([]int{1}, "ids")
	assert.ErrorContains(t, err, "want a floating-point tensor", "dtype")
	_, err = w.Get([]int{1}, "nope")
	assert.ErrorIs(t, err, checkpoint.ErrMissing)
	assert.Equal(t, []string{"b"}, w.Unused())
	w.MarkUsed("b")
	assert.Empty(t, w.Unused(), "Unused() after MarkUsed")
}
