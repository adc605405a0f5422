package hub_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/hub"
)

// A CrossEncoder repository (as cross-encoder/ms-marco-MiniLM-L-6-v2) comes
// down with its config, safetensors weights and tokenizer files, and a
// second Fetch finds the snapshot complete without asking the hub.
func TestDownloadModelCrossEncoder(t *testing.T) {
	f, opts := fixtureRepo(t, "cross-encoder/tiny", "cross-encoder-tiny")
	snap, err := hub.Fetch(context.Background(), "cross-encoder/tiny", "", hub.CrossEncoder, opts)
	require.NoError(t, err)
	checkSnapshot(t, f, snap, "config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "model.safetensors")
	assert.Empty(t, f.requests("pytorch_model.bin"), "pytorch_model.bin was requested although model.safetensors exists")
	assert.Empty(t, f.requests("modules.json"), "a cross-encoder has no sentence-transformers modules")
	_, err = checkpoint.Open(snap)
	require.NoError(t, err)
	n := len(f.requests())
	again, err := hub.Fetch(context.Background(), "cross-encoder/tiny", "", hub.CrossEncoder, opts)
	require.NoError(t, err)
	assert.Equal(t, snap, again)
	assert.Len(t, f.requests(), n, "the complete snapshot was fetched again")
	assert.Equal(t, "CrossEncoder", hub.CrossEncoder.String())
}
