package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/hub"
	"github.com/genq-go/genq/internal/testutil"
)

// fixtureRepo serves a fixture folder as a hub repository, weight files and
// tokenizer models as LFS files, leaving out the names in skip.
func fixtureRepo(t *testing.T, id, fixture string, skip ...string) (*fakeHub, hub.Options) {
	tmp := isolate(t)
	files := map[string][]byte{}
	root := testutil.Fixture(fixture)
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasPrefix(info.Name(), "golden") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	for _, s := range skip {
		delete(files, s)
	}
	f := newFakeHub(t, id, files)
	for name := range files {
		if strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin") || strings.HasSuffix(name, ".model") {
			f.set(func(f *fakeHub) { f.lfs[name] = true })
		}
	}
	return f, hub.Options{Endpoint: f.hub.URL, CacheDir: filepath.Join(tmp, "cache")}
}

func TestDownloadModelT5FallsBackToPyTorch(t *testing.T) {
	f, opts := fixtureRepo(t, "BeIR/query-gen-tiny", "t5-tiny", "model.safetensors")
	snap, err := hub.DownloadModel(context.Background(), "BeIR/query-gen-tiny", "", hub.T5, opts)
	require.NoError(t, err)
	checkSnapshot(t, f, snap, "config.json", "spiece.model", "pytorch_model.bin", "generation_config.json", "tokenizer_config.json")
	w, err := checkpoint.Open(snap)
	require.NoError(t, err)
	assert.Equal(t, "pytorch_model.bin", filepath.Base(w.Source))
	assert.Len(t, w.Tensors, 50)
}

func TestDownloadModelSentenceTransformer(t *testing.T) {
	f, opts := fixtureRepo(t, "org/bert-tiny", "bert-tiny")
	snap, err := hub.DownloadModel(context.Background(), "org/bert-tiny", "main", hub.SentenceTransformer, opts)
	require.NoError(t, err)
	checkSnapshot(t, f, snap, "config.json", "modules.json", "1_Pooling/config.json", "vocab.txt", "model.safetensors", "sentence_bert_config.json")
	assert.Empty(t, f.requests("pytorch_model.bin"), "pytorch_model.bin was requested although model.safetensors exists")
	_, err = checkpoint.Open(snap)
	require.NoError(t, err)
}

func TestDownloadModelSharded(t *testing.T) {
	f, opts := fixtureRepo(t, "org/sharded", "bert-tiny", "model.safetensors", "pytorch_model.bin")
	all, err := checkpoint.ReadSafetensors(testutil.Fixture("bert-tiny", "model.safetensors"))
	require.NoError(t, err)
	shards := map[string]map[string]*checkpoint.Tensor{}
	weightMap := map[string]string{}
	for name, x := range all {
		file := "model-00001-of-00002.safetensors"
		if strings.HasPrefix(name, "encoder.layer.1") {
			file = "model-00002-of-00002.safetensors"
		}
		if shards[file] == nil {
			shards[file] = map[string]*checkpoint.Tensor{}
		}
		shards[file][name] = x
		weightMap[name] = file
	}
	for file, m := range shards {
		b, err := checkpoint.MarshalSafetensors(m, map[string]string{"format": "pt"})
		require.NoError(t, err)
		f.set(func(f *fakeHub) { f.files[file], f.lfs[file] = b, true })
	}
	index, _ := json.Marshal(map[string]any{"weight_map": weightMap})
	f.set(func(f *fakeHub) { f.files["model.safetensors.index.json"] = index })
	snap, err := hub.DownloadModel(context.Background(), "org/sharded", "", hub.SentenceTransformer, opts)
	require.NoError(t, err)
	checkSnapshot(t, f, snap, "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
	w, err := checkpoint.Open(snap)
	require.NoError(t, err)
	assert.Equal(t, len(all), len(w.Tensors), "tensors read from the shards")
}

func TestDownloadModelNeedsWeightsAndTokenizer(t *testing.T) {
	_, opts := fixtureRepo(t, "org/noweights", "t5-tiny", "model.safetensors", "pytorch_model.bin")
	_, err := hub.DownloadModel(context.Background(), "org/noweights", "", hub.T5, opts)
	assert.ErrorContains(t, err, "has no weights in the repository root: looked for model.safetensors", "no weights")
	_, opts = fixtureRepo(t, "org/notok", "t5-tiny", "spiece.model")
	_, err = hub.DownloadModel(context.Background(), "org/notok", "", hub.T5, opts)
	assert.ErrorContains(t, err, "has no tokenizer: neither spiece.model nor tokenizer.json", "no tokenizer")
}

func ExampleModelFiles() {
	required, optional := hub.ModelFiles(hub.T5)
	fmt.Println(required)
	fmt.Println(optional)
	// Output:
	// [config.json]
	// [generation_config.json spiece.model tokenizer.json tokenizer_config.json special_tokens_map.json added_tokens.json]
}

func TestFetchFolderAndOffline(t *testing.T) {
	dir := t.TempDir()
	got, err := hub.Fetch(context.Background(), dir, "", hub.T5, hub.Options{})
	require.NoError(t, err)
	require.Equal(t, dir, got, "hub.Fetch(folder) is the folder itself")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "1")
	_, err = hub.Fetch(context.Background(), "org/absent-model", "", hub.T5, hub.Options{})
	require.ErrorIs(t, err, hub.ErrNotCached, "Fetch offline of an uncached id")
	require.ErrorContains(t, err, "HF_HUB_OFFLINE", "Fetch offline of an uncached id")
}
