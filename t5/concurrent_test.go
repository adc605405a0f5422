package t5

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// TestConcurrentGenerate: one Model serves 4 goroutines generating (sampled,
// each from its own seeded streams) and they get exactly what sequential
// calls give (RELIABILITY.md, section 5; run with -race).
func TestConcurrentGenerate(t *testing.T) {
	ctx := context.Background()
	m, err := Load(ctx, testutil.Fixture("t5-tiny"), LoadOptions{})
	require.NoError(t, err)
	opts := DefaultGenerateOptions()
	opts.MaxLength, opts.NumReturnSequences, opts.Seed = 8, 2, 3
	inputs := make([][]string, 4)
	want := make([][][]string, len(inputs))
	for g := range inputs {
		for i := range g + 1 {
			inputs[g] = append(inputs[g], fmt.Sprintf("passage %d of goroutine %d about goroutines", i, g))
		}
		want[g], err = m.Generate(ctx, inputs[g], opts)
		require.NoError(t, err)
	}
	got := make([][][]string, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for g := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[g], errs[g] = m.Generate(ctx, inputs[g], opts)
		}()
	}
	wg.Wait()
	for g := range inputs {
		require.NoError(t, errs[g], "goroutine %d", g)
		assert.Equal(t, want[g], got[g], "goroutine %d: concurrent vs sequential queries", g)
	}
}
