package t5

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/testutil"
)

// Load from a hub that accepts connections and never answers ends with the
// metadata timeout's error, or at once with the context's error.
func TestLoadFromSilentHub(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "")
	opts := LoadOptions{Hub: hub.Options{Endpoint: testutil.SilentEndpoint(t), CacheDir: t.TempDir(), MetadataTimeout: 300 * time.Millisecond}}
	start := time.Now()
	_, err := Load(t.Context(), "BeIR/query-gen-msmarco-t5-base-v1", opts)
	assert.ErrorContains(t, err, "no answer within 300ms (the metadata timeout")
	assert.Less(t, time.Since(start), 5*time.Second)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	opts.Hub.MetadataTimeout = -1
	start = time.Now()
	_, err = Load(ctx, "BeIR/query-gen-msmarco-t5-base-v1", opts)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}
