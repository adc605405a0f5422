package hub_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/hub"
	"github.com/genq-go/genq/internal/testutil"
)

// A hub that accepts connections and never answers: the metadata timeout
// ends the download with an error that names the timeout, instead of
// hanging; with no cached copy there is nothing to fall back on.
func TestMetadataTimeout(t *testing.T) {
	isolate(t)
	opts := hub.Options{Endpoint: testutil.SilentEndpoint(t), CacheDir: t.TempDir(), MetadataTimeout: 200 * time.Millisecond}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"Download", func() error {
			_, err := hub.Download(context.Background(), repoID, "", []string{"config.json"}, opts)
			return err
		}},
		{"Fetch", func() error {
			_, err := hub.Fetch(context.Background(), repoID, "", hub.T5, opts)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.run()
			require.Error(t, err)
			assert.Less(t, time.Since(start), 5*time.Second, "the timeout is 200ms")
			assert.Contains(t, err.Error(), "no answer within 200ms (the metadata timeout")
			assert.Contains(t, err.Error(), "cannot be reached")
			assert.Contains(t, err.Error(), "not in the cache")
		})
	}
}

// Canceling the context stops a request that waits for a silent hub at
// once (no timeout set), with the context's error.
func TestCanceledWhileWaitingForAnswer(t *testing.T) {
	isolate(t)
	opts := hub.Options{Endpoint: testutil.SilentEndpoint(t), CacheDir: t.TempDir(), MetadataTimeout: -1}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := hub.Fetch(ctx, repoID, "", hub.SentenceTransformer, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// The stall timeout fails a download that stops receiving bytes, and the
// retry resumes it where it stopped; a slow download that keeps receiving
// bytes runs past the stall timeout as long as it takes.
func TestStallTimeout(t *testing.T) {
	t.Run("stalled then resumed", func(t *testing.T) {
		f, opts, _ := newRepo(t)
		f.set(func(f *fakeHub) { f.stallOnce["model.safetensors"] = true })
		opts.StallTimeout = 200 * time.Millisecond
		start := time.Now()
		snap, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
		checkSnapshot(t, f, snap, "model.safetensors")
		assert.Len(t, f.requests("GET cdn /blobs/model.safetensors range=bytes=150000-"), 1, "the retry resumes after the bytes received: %v", f.log)
	})
	t.Run("stalled, no retries", func(t *testing.T) {
		f, opts, _ := newRepo(t)
		f.set(func(f *fakeHub) { f.stallOnce["model.safetensors"] = true })
		opts.StallTimeout, opts.Retries = 200*time.Millisecond, -1
		_, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no data for 200ms (the stall timeout")
	})
	t.Run("slow but steady", func(t *testing.T) {
		f, opts, _ := newRepo(t)
		f.set(func(f *fakeHub) { f.trickle = 50 * time.Millisecond }) // 10 pieces: 500ms in all
		opts.StallTimeout, opts.Retries = 200*time.Millisecond, -1
		snap, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
		require.NoError(t, err)
		checkSnapshot(t, f, snap, "model.safetensors")
	})
}

// A snapshot that holds only the tokenizer (as AutoTokenizer.from_pretrained
// leaves it) is completed by Fetch, which downloads only the missing files;
// offline, Fetch names the missing files instead.
func TestFetchCompletesPartialSnapshot(t *testing.T) {
	const id = "BeIR/query-gen-tiny"
	f, opts := fixtureRepo(t, id, "t5-tiny")
	snap, err := hub.Download(context.Background(), id, "", []string{"spiece.model", "tokenizer_config.json"}, opts)
	require.NoError(t, err)

	offline := opts
	offline.Offline = true
	_, err = hub.Fetch(context.Background(), id, "", hub.T5, offline)
	require.ErrorIs(t, err, hub.ErrNotCached)
	assert.Contains(t, err.Error(), "lacks config.json, weights (model.safetensors or")
	assert.Contains(t, err.Error(), "the Offline option is set")

	got, err := hub.Fetch(context.Background(), id, "", hub.T5, opts)
	require.NoError(t, err)
	assert.Equal(t, snap, got)
	checkSnapshot(t, f, snap, "config.json", "model.safetensors", "spiece.model", "generation_config.json")
	assert.Len(t, f.requests("GET", "/spiece.model"), 1, "spiece.model was downloaded again: %v", f.log)

	// Complete now (absent optional files recorded in .no_exist): served
	// from the cache without the network.
	f.hub.Close()
	f.cdn.Close()
	got, err = hub.Fetch(context.Background(), id, "", hub.T5, opts)
	require.NoError(t, err)
	assert.Equal(t, snap, got)

	// A cached file lost from the snapshot is missing again.
	require.NoError(t, os.Remove(filepath.Join(snap, "config.json")))
	_, err = hub.Fetch(context.Background(), id, "", hub.T5, offline)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lacks config.json")
}
