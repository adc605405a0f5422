package t5

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNewUnusedMessageIsShort: a checkpoint with 200,000 unused empty tensors
// once gave a message naming every one (16.8 MB for 1.2M); it now names the
// first five and counts the rest.
func TestNewUnusedMessageIsShort(t *testing.T) {
	cfg, w := fixtureWeights(t)
	const extra = 200_000
	for i := range extra {
		w[fmt.Sprintf("extra.%07d", i)] = &Tensor{Shape: []int{0}, Data: []float32{}}
	}
	_, err := New(cfg, w)
	require.ErrorContains(t, err, fmt.Sprintf("holds %d tensor(s)", extra))
	require.ErrorContains(t, err, `"extra.0000004" and 199995 more`)
	require.Less(t, len(err.Error()), 1000, "message length")
}
