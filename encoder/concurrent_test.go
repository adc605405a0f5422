package encoder

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUse: one Model serves 4 goroutines that encode (batches of
// other sizes, so other graphs) while a fifth saves it, and every goroutine
// gets bit for bit what a sequential call gives (RELIABILITY.md, section 5;
// run with -race).
func TestConcurrentUse(t *testing.T) {
	m := loadFixture(t, "distilbert-tiny")
	ctx := context.Background()
	inputs := make([][]string, 4)
	want := make([][][]float32, len(inputs))
	for g := range inputs {
		for i := range g + 1 {
			inputs[g] = append(inputs[g], fmt.Sprintf("goroutine %d, text %d: channels and select", g, i))
		}
		var err error
		want[g], err = m.Encode(ctx, inputs[g])
		require.NoError(t, err)
	}
	got := make([][][]float32, len(inputs))
	errs := make([]error, len(inputs)+1)
	var wg sync.WaitGroup
	for g := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if got[g], errs[g] = m.Encode(ctx, inputs[g]); errs[g] != nil {
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(inputs)] = m.Save(filepath.Join(t.TempDir(), "saved"))
	}()
	wg.Wait()
	for g := range inputs {
		require.NoError(t, errs[g], "goroutine %d", g)
		assert.Equal(t, want[g], got[g], "goroutine %d: concurrent vs sequential embeddings", g)
	}
	require.NoError(t, errs[len(inputs)], "Save")
}
