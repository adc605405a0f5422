package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
)

// fakeHub answers like huggingface.co for a few repositories, each a local
// folder: HEAD and GET on /{repo}/resolve/{revision}/{file}, with
// X-Repo-Commit, an ETag (the git blob id, or for weight files the sha256
// of the content with X-Linked-Etag and X-Linked-Size, as LFS files have)
// and Content-Length; 404 for a file the repository lacks.
type fakeHub struct {
	repos  map[string]map[string][]byte // repo id → file → content
	commit string

	mu  sync.Mutex
	got map[string]int // "GET repo/file" → count
}

func newFakeHub(t *testing.T, folders map[string]string) (*fakeHub, *httptest.Server) {
	t.Helper()
	h := &fakeHub{repos: map[string]map[string][]byte{}, got: map[string]int{},
		commit: "0123456789abcdef0123456789abcdef01234567"}
	for repo, dir := range folders {
		files := map[string][]byte{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			b, err := os.ReadFile(p)
			files[filepath.ToSlash(rel)] = b
			return err
		})
		require.NoError(t, err)
		h.repos[repo] = files
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/resolve/")
	files := h.repos[repo]
	if !ok || files == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	rev, file, _ := strings.Cut(rest, "/")
	if rev != "main" && rev != h.commit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", h.commit)
	content, ok := files[file]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if strings.HasSuffix(file, ".safetensors") || strings.HasSuffix(file, ".bin") {
		sum := sha256.Sum256(content)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("X-Linked-Etag", etag)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
	} else {
		blob := sha1.New()
		fmt.Fprintf(blob, "blob %d\x00", len(content))
		blob.Write(content)
		w.Header().Set("ETag", `"`+hex.EncodeToString(blob.Sum(nil))+`"`)
	}
	if r.Method == http.MethodGet {
		h.mu.Lock()
		h.got[repo+"/"+file]++
		h.mu.Unlock()
	}
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(content))
}

// downloads returns how often each file was fetched.
func (h *fakeHub) downloads() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.got {
		out[k] = v
	}
	return out
}

// TestAllThroughHub runs all with the default model names, which a fake hub
// serves from the tiny fixtures: the models are downloaded into an empty
// Hugging Face cache, in its layout, and the run writes the queries, the
// trained model, search hits and the eval table.
func TestAllThroughHub(t *testing.T) {
	const generator, base = "BeIR/query-gen-msmarco-t5-base-v1", "distilbert-base-uncased"
	retrievers, crossEncoder := encoder.GPLRetrievers(), encoder.GPLCrossEncoder
	hub, srv := newFakeHub(t, map[string]string{generator: fixture("t5-tiny"), base: fixture("distilbert-tiny"),
		retrievers[0]: fixture("distilbert-tiny"), retrievers[1]: fixture("bert-tiny"), crossEncoder: fixture("cross-encoder-tiny")})
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HOME", t.TempDir()) // no token file of the user's
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	dir := t.TempDir()

	stdout, stderr, err := invoke(context.Background(), t, &app{}, "all", "-out", dir, "-limit", "8",
		"-queries-per-passage", "2", "-batch", "4", "-epochs", "1", "-train-batch", "4", "-gpl-batch", "4", "-gpl-steps", "3", "-quiet")
	require.NoError(t, err, stderr)

	for repo, want := range map[string][]string{
		"models--BeIR--query-gen-msmarco-t5-base-v1":                {"config.json", "model.safetensors", "spiece.model"},
		"models--distilbert-base-uncased":                           {"config.json", "model.safetensors", "vocab.txt", "modules.json", "1_Pooling/config.json"},
		"models--sentence-transformers--msmarco-distilbert-base-v3": {"config.json", "model.safetensors", "vocab.txt"},
		"models--sentence-transformers--msmarco-MiniLM-L-6-v3":      {"config.json", "model.safetensors", "vocab.txt"},
		"models--cross-encoder--ms-marco-MiniLM-L-6-v2":             {"config.json", "model.safetensors", "vocab.txt"},
	} {
		snap := filepath.Join(cache, repo, "snapshots", hub.commit)
		for _, f := range want {
			assert.FileExists(t, filepath.Join(snap, f), "the download did not land in the cache layout")
		}
		ref, _ := os.ReadFile(filepath.Join(cache, repo, "refs", "main"))
		assert.Equal(t, hub.commit, strings.TrimSpace(string(ref)), "%s/refs/main", repo)
	}
	got := hub.downloads()
	for _, f := range []string{generator + "/model.safetensors", base + "/model.safetensors"} {
		assert.Equal(t, 1, got[f], "%s downloads: want once (then read from the cache)", f)
	}
	assert.Zero(t, got[generator+"/pytorch_model.bin"]+got[base+"/pytorch_model.bin"],
		"pytorch_model.bin was downloaded although model.safetensors is there: %v", got)

	data, err := os.ReadFile(filepath.Join(dir, queriesFile))
	if assert.NoError(t, err) {
		assert.Equal(t, 8*2, strings.Count(string(data), "\n"), "lines of %s", queriesFile)
	}
	assert.FileExists(t, filepath.Join(dir, modelFolder, "model.safetensors"), "no trained model")
	model := filepath.Join(dir, modelFolder)
	checkTable(t, stdout, []string{"base: " + base, "GenQ: " + model, "GPL: " + filepath.Join(dir, gplModelFolder)})
	checkHits(t, stdout, hitLine, exampleQueries, 3)
	for _, want := range []string{
		"-- gpl done in", "12 labelled triples, 3 training steps → " + filepath.Join(dir, gplModelFolder),
		"-- generate done in", "8 passages, 16 queries",
		"-- train done in", "16 pairs, 4 training steps → " + model,
		"-- eval done in", "== summary", "| base: " + base + " |",
	} {
		assert.Contains(t, stderr, want)
	}
}
