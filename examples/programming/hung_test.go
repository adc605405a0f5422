package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hungHub points the HF_* variables at a hub that accepts connections and
// never answers, with an empty cache.
func hungHub(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
}

// Against a hub that never answers, each step that loads a model ends with
// an error that names the timeout (HF_HUB_ETAG_TIMEOUT shortens it from
// 10 s here), and canceling the run (Ctrl-C) stops it at once.
func TestHungHub(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "-limit", "1"}, // t5.Load
		{"eval", "-models", "base"}, // encoder.Load
	} {
		t.Run(args[0]+"/timeout", func(t *testing.T) {
			hungHub(t)
			t.Setenv("HF_HUB_ETAG_TIMEOUT", "0.3")
			start := time.Now()
			_, _, err := invoke(context.Background(), t, &app{}, append(args, "-out", t.TempDir(), "-quiet")...)
			require.Error(t, err)
			assert.Less(t, time.Since(start), 10*time.Second)
			assert.Contains(t, err.Error(), "no answer within 300ms (the metadata timeout")
			assert.Contains(t, err.Error(), "the download failed")
		})
		t.Run(args[0]+"/canceled", func(t *testing.T) {
			hungHub(t)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			_, _, err := invoke(ctx, t, &app{}, append(args, "-out", t.TempDir(), "-quiet")...)
			require.ErrorIs(t, err, context.Canceled)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// A cached snapshot of the generator that holds only its tokenizer (as
// AutoTokenizer.from_pretrained leaves it) is completed from the hub.
func TestPartialSnapshotCompleted(t *testing.T) {
	const generator = "BeIR/query-gen-msmarco-t5-base-v1"
	hub, srv := newFakeHub(t, map[string]string{generator: fixture("t5-tiny")})
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	repo := filepath.Join(cache, "models--BeIR--query-gen-msmarco-t5-base-v1")
	snap := filepath.Join(repo, "snapshots", hub.commit)
	require.NoError(t, os.MkdirAll(snap, 0o755))
	spm, err := os.ReadFile(fixture("t5-tiny/spiece.model"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(snap, "spiece.model"), spm, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(hub.commit), 0o644))

	t.Setenv("HF_HUB_OFFLINE", "1")
	_, _, err = invoke(context.Background(), t, &app{}, "generate", "-out", t.TempDir(), "-limit", "1", "-quiet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lacks config.json, weights")

	t.Setenv("HF_HUB_OFFLINE", "")
	dir := t.TempDir()
	_, stderr, err := invoke(context.Background(), t, &app{}, "generate", "-out", dir, "-limit", "1",
		"-queries-per-passage", "1", "-batch", "1", "-quiet")
	require.NoError(t, err, stderr)
	for _, f := range []string{"config.json", "model.safetensors", "spiece.model"} {
		assert.FileExists(t, filepath.Join(snap, f))
	}
	assert.Equal(t, 1, hub.downloads()[generator+"/model.safetensors"])
	assert.FileExists(t, filepath.Join(dir, queriesFile))
}
