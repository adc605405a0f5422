package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/testutil"
)

// Against a hub that accepts connections and never answers, Fetch ends with
// an error naming the metadata timeout, or with the context's error as soon
// as the context is canceled.
func TestFetchSilentHub(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_TOKEN", "")
	silent := testutil.SilentEndpoint(t)
	for _, kind := range []hub.Kind{hub.T5, hub.SentenceTransformer, hub.CrossEncoder} {
		t.Run(kind.String()+"/timeout", func(t *testing.T) {
			opts := hub.Options{Endpoint: silent, CacheDir: t.TempDir(), MetadataTimeout: 300 * time.Millisecond}
			start := time.Now()
			_, err := hub.Fetch(context.Background(), "org/model", kind, opts)
			require.Error(t, err)
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.Contains(t, err.Error(), "no answer within 300ms (the metadata timeout")
		})
		t.Run(kind.String()+"/canceled", func(t *testing.T) {
			opts := hub.Options{Endpoint: silent, CacheDir: t.TempDir(), MetadataTimeout: -1}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := hub.Fetch(ctx, "org/model", kind, opts)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
}

func TestFetchErrors(t *testing.T) {
	_, err := hub.Fetch(context.Background(), "org/model", hub.Kind(7), hub.Options{})
	assert.ErrorContains(t, err, "unknown model kind Kind(7)")
	_, err = hub.Fetch(context.Background(), "not a model id", hub.T5, hub.Options{})
	assert.ErrorContains(t, err, "neither an existing folder nor a hub model id")
	_, err = hub.Fetch(context.Background(), "org/model", hub.T5, hub.Options{Revision: "../x", Offline: true})
	assert.ErrorContains(t, err, "not a valid revision")
	_, err = hub.Fetch(context.Background(), "org/model", hub.T5, hub.Options{CacheDir: t.TempDir(), Offline: true})
	assert.ErrorContains(t, err, "the Offline option is set")
}
