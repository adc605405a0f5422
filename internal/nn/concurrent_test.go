package nn_test

// No hidden global state: loading and running a T5 model neither changes
// gorgonia's BLAS nor the encoder's results, and both models run at the same
// time without a data race (run with go test -race). An external test
// package, so that it may import t5 and encoder, which import nn.

import (
	"context"
	"sync"
	"testing"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/t5"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

var (
	texts    = []string{"what is the capital of france", "paris is the capital and most populous city of france"}
	passages = []string{"The Eiffel Tower is in Paris.", "Gorgonia builds computation graphs in Go."}
)

// generate loads the tiny T5 afresh and decodes the passages greedily.
func generate() ([][]string, error) {
	m, err := t5.Load(context.Background(), testutil.Fixture("t5-tiny"), t5.LoadOptions{})
	if err != nil {
		return nil, err
	}
	opts := t5.DefaultGenerateOptions()
	opts.DoSample, opts.NumReturnSequences, opts.MaxLength = false, 1, 8
	return m.Generate(context.Background(), passages, opts)
}

// encode loads the tiny DistilBERT afresh and encodes the texts.
func encode() ([][]float32, error) {
	m, err := encoder.Load(context.Background(), testutil.Fixture("distilbert-tiny"), encoder.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return m.Encode(context.Background(), texts)
}

// TestModelsShareNoGlobalState encodes with the tiny DistilBERT before any
// T5 is loaded, then loads and runs the tiny T5 while encoding again on
// other goroutines: gorgonia's BLAS stays gonum's, the embeddings are
// bit-identical to the first ones, the generated queries identical to a
// sequential run.
func TestModelsShareNoGlobalState(t *testing.T) {
	before, err := encode()
	require.NoError(t, err)
	want, err := generate()
	require.NoError(t, err)
	require.IsType(t, gonum.Implementation{}, G.WhichBLAS(), "loading a T5 changed gorgonia's BLAS")

	var wg sync.WaitGroup
	queries := make([][][]string, 2)
	embeddings := make([][][]float32, 2)
	errs := make([]error, 4)
	for i := range 2 {
		wg.Go(func() { queries[i], errs[2*i] = generate() })
		wg.Go(func() { embeddings[i], errs[2*i+1] = encode() })
	}
	wg.Wait()
	for i := range 2 {
		require.NoError(t, errs[2*i], "generating")
		require.NoError(t, errs[2*i+1], "encoding")
		require.Equal(t, want, queries[i], "queries generated concurrently")
		require.Equal(t, before, embeddings[i], "embeddings computed while a T5 ran")
	}
}
