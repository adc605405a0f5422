package t5

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// badTokenizer returns ids outside the t5-tiny vocabulary (32128), as a
// tokenizer of another model would.
type badTokenizer struct{}

func (badTokenizer) Encode(string, int) ([]int, error)  { return []int{5, 40000, -2, 1}, nil }
func (badTokenizer) Decode([]int, bool) (string, error) { return "", nil }

// TestOutOfVocabularyIDs: an id outside the vocabulary, wherever ids enter
// the model, is refused before any graph runs, in genq's words: the
// argument, the count, the first ids with their row and position, and the
// cause (they used to surface as gorgonia's "PC 4. Failed to execute
// instruction Embedding@0x…" from inside the graph).
func TestOutOfVocabularyIDs(t *testing.T) {
	ctx := context.Background()
	m, err := Load(ctx, testutil.Fixture("t5-tiny"), LoadOptions{})
	require.NoError(t, err)
	in := [][]int{{5, 1}}
	oov := [][]int{{5, 40000, -2, 1}}
	gen := DefaultGenerateOptions()
	gen.MaxLength = 4
	tests := []struct {
		name, want string
		call       func() error
	}{
		{"Encode", "2 input id(s) outside [0, 32128): 40000 (row 0, position 1), -2 (row 0, position 2)",
			func() error { _, err := m.Encode(ctx, oov, nil); return err }},
		{"GenerateIDs", "2 input id(s)", func() error { _, err := m.GenerateIDs(ctx, oov, gen); return err }},
		{"Logits/decoder", "2 decoder id(s)", func() error { _, err := m.Logits(ctx, in, nil, oov); return err }},
		{"Loss/labels", "2 label(s) outside [0, 32128): 40000 (row 0, position 1), -2 (row 0, position 2) (a label may also be IgnoreIndex -100)",
			func() error { _, err := m.Loss(ctx, in, nil, oov); return err }},
		{"LossAndGrad/inputs", "2 input id(s)", func() error { _, _, err := m.LossAndGrad(ctx, oov, nil, in); return err }},
		{"ScoreIDs", "2 input id(s)", func() error { _, err := m.ScoreIDs(ctx, oov, in); return err }},
		{"Generate/SetTokenizer", "2 input id(s)", func() error {
			c, err := Load(ctx, testutil.Fixture("t5-tiny"), LoadOptions{})
			require.NoError(t, err)
			c.SetTokenizer(badTokenizer{})
			_, err = c.Generate(ctx, []string{"x"}, gen)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "the model's tokenizer")
			assert.NotContains(t, err.Error(), "instruction", "gorgonia's words")
		})
	}
	_, err = m.Loss(ctx, in, nil, [][]int{{5, IgnoreIndex, 1}})
	assert.NoError(t, err, "IgnoreIndex is a valid label")
}
