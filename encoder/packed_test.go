package encoder

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeAfterFit checks that the inference graphs, which keep their
// weights packed between runs, see the weights Fit changed: Encode after
// Fit must equal, bit for bit, Encode on fresh graphs of the trained model,
// and differ from the embeddings before Fit.
func TestEncodeAfterFit(t *testing.T) {
	g := testutil.LoadGolden(t, "bert-tiny")
	m, err := Load(t.Context(), testutil.Fixture("bert-tiny"), LoadOptions{})
	require.NoError(t, err)
	texts := []string{"what is python", "Python is a programming language."}
	ctx := context.Background()
	before, err := m.Encode(ctx, texts)
	require.NoError(t, err)
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate = 1, 6, 1e-2
	_, err = m.Fit(ctx, fixturePairs(t, g), nil, opts)
	require.NoError(t, err)
	after, err := m.Encode(ctx, texts)
	require.NoError(t, err)
	m.graphs = map[[2]int]*inferGraph{} // rebuild: pack the trained weights afresh
	fresh, err := m.Encode(ctx, texts)
	require.NoError(t, err)
	for i := range texts {
		assert.Equal(t, fresh[i], after[i], "text %d: Encode after Fit differs from Encode on fresh graphs", i)
		assert.NotEqual(t, before[i], after[i], "text %d: Fit did not change the embedding", i)
	}
}

// TestModelFreed checks that a Model that has encoded (so holds inference
// graphs with packed weights) is garbage once unreferenced: its finalizer
// runs within a few collections. A pointer from a graph back into the Model
// once kept every such Model, graphs and all, alive forever.
func TestModelFreed(t *testing.T) {
	freed := make(chan struct{})
	func() {
		m, err := Load(t.Context(), testutil.Fixture("bert-tiny"), LoadOptions{})
		require.NoError(t, err)
		_, err = m.Encode(context.Background(), []string{"what is python"})
		require.NoError(t, err)
		runtime.SetFinalizer(m, func(*Model) { close(freed) })
	}()
	for range 10 {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	assert.Fail(t, "an unreferenced Model that has encoded is never freed")
}
