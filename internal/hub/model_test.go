package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "config.json", "spiece.model", "pytorch_model.bin", "generation_config.json", "tokenizer_config.json")
	w, err := checkpoint.Open(snap)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(w.Source) != "pytorch_model.bin" || len(w.Tensors) != 50 {
		t.Errorf("Open read %s with %d tensors", w.Source, len(w.Tensors))
	}
}

func TestDownloadModelSentenceTransformer(t *testing.T) {
	f, opts := fixtureRepo(t, "org/bert-tiny", "bert-tiny")
	snap, err := hub.DownloadModel(context.Background(), "org/bert-tiny", "main", hub.SentenceTransformer, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "config.json", "modules.json", "1_Pooling/config.json", "vocab.txt", "model.safetensors", "sentence_bert_config.json")
	if got := f.requests("pytorch_model.bin"); len(got) != 0 {
		t.Errorf("pytorch_model.bin was requested although model.safetensors exists: %v", got)
	}
	if _, err := checkpoint.Open(snap); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadModelSharded(t *testing.T) {
	f, opts := fixtureRepo(t, "org/sharded", "bert-tiny", "model.safetensors", "pytorch_model.bin")
	all, err := checkpoint.ReadSafetensors(testutil.Fixture("bert-tiny", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		f.set(func(f *fakeHub) { f.files[file], f.lfs[file] = b, true })
	}
	index, _ := json.Marshal(map[string]any{"weight_map": weightMap})
	f.set(func(f *fakeHub) { f.files["model.safetensors.index.json"] = index })
	snap, err := hub.DownloadModel(context.Background(), "org/sharded", "", hub.SentenceTransformer, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
	w, err := checkpoint.Open(snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Tensors) != len(all) {
		t.Errorf("read %d tensors from the shards, want %d", len(w.Tensors), len(all))
	}
}

func TestDownloadModelNeedsWeightsAndTokenizer(t *testing.T) {
	_, opts := fixtureRepo(t, "org/noweights", "t5-tiny", "model.safetensors", "pytorch_model.bin")
	_, err := hub.DownloadModel(context.Background(), "org/noweights", "", hub.T5, opts)
	if err == nil || !strings.Contains(err.Error(), "has no weights in the repository root: looked for model.safetensors") {
		t.Errorf("no weights: error %v", err)
	}
	_, opts = fixtureRepo(t, "org/notok", "t5-tiny", "spiece.model")
	_, err = hub.DownloadModel(context.Background(), "org/notok", "", hub.T5, opts)
	if err == nil || !strings.Contains(err.Error(), "has no tokenizer: neither spiece.model nor tokenizer.json") {
		t.Errorf("no tokenizer: error %v", err)
	}
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
	if err != nil || got != dir {
		t.Fatalf("hub.Fetch(folder) = %q, %v; want the folder itself", got, err)
	}
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "1")
	_, err = hub.Fetch(context.Background(), "org/absent-model", "", hub.T5, hub.Options{})
	if err == nil || !errors.Is(err, hub.ErrNotCached) || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Fatalf("Fetch offline of an uncached id: got %v, want hub.ErrNotCached naming HF_HUB_OFFLINE", err)
	}
}
