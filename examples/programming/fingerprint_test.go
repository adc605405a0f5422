package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
)

// copyModel copies the fixture bi-encoder distilbert-tiny into a new folder.
func copyModel(t *testing.T, dst string) {
	t.Helper()
	src := fixture("distilbert-tiny")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasPrefix(rel, "golden") || rel == "pytorch_model.bin" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
}

// TestFingerprint checks the key of the embeddings cache: a change of the
// weights changes it, a change of the model card does not, and a model
// loaded by hub id gets a stable key of its own.
func TestFingerprint(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "model")
	copyModel(t, dir)
	m, err := encoder.Load(t.Context(), dir, encoder.LoadOptions{})
	require.NoError(t, err)
	fp := func(name string) string {
		t.Helper()
		s, err := fingerprint(ctx, name, m)
		require.NoError(t, err)
		return s
	}
	orig := fp(dir)

	os.WriteFile(filepath.Join(dir, "README.md"), []byte("another model card"), 0o644)
	assert.Equal(t, orig, fp(dir), "editing README.md changed the fingerprint")
	weights := filepath.Join(dir, "model.safetensors")
	b, _ := os.ReadFile(weights)
	b[len(b)-1] ^= 1 // one bit of the last weight
	os.WriteFile(weights, b, 0o644)
	assert.NotEqual(t, orig, fp(dir), "changing a weight left the fingerprint unchanged")
	b[len(b)-1] ^= 1
	os.WriteFile(weights, b, 0o644)
	assert.Equal(t, orig, fp(dir), "restoring the weight did not restore the fingerprint")

	// The same model as a hub id in a local cache.
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(cache, "models--genq-test--tiny")
	copyModel(t, filepath.Join(repo, "snapshots", commit))
	os.MkdirAll(filepath.Join(repo, "refs"), 0o755)
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644)
	hm, err := encoder.Load(t.Context(), "genq-test/tiny", encoder.LoadOptions{})
	require.NoError(t, err, "loading the model from the fake hub cache")
	h1, err := fingerprint(ctx, "genq-test/tiny", hm)
	require.NoError(t, err)
	h2, _ := fingerprint(ctx, "genq-test/tiny", hm)
	assert.Equal(t, h1, h2, "two fingerprints of one hub id")
	assert.NotEqual(t, orig, h1, "the hub id's fingerprint is the folder's")
	other, _ := fingerprint(ctx, "genq-test/other", hm)
	assert.NotEqual(t, h1, other, "two hub ids got the same fingerprint")
}
