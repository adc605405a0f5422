package encoder

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
)

// fixedTokenizer returns the same rows for every call, whatever the texts.
type fixedTokenizer struct{ ids, types, mask [][]int }

func (f fixedTokenizer) EncodeBatch([]string, int) (ids, typeIDs, mask [][]int, err error) {
	return f.ids, f.types, f.mask, nil
}

// TestTokenizerOutputChecked: what a tokenizer set with SetTokenizer
// returns is checked before any graph runs — ids inside the vocabulary,
// token type ids inside type_vocab_size, 0/1 mask values, one row per text
// of one width within max_position_embeddings — and reported in genq's
// words with the count, the first ids and the fix (an out-of-vocabulary id
// used to surface as gorgonia VM internals: "PC 4. Failed to execute
// instruction ...").
func TestTokenizerOutputChecked(t *testing.T) {
	row := func(v int, n int) []int {
		r := make([]int, n)
		for i := range r {
			r[i] = v
		}
		return r
	}
	ones, zeros := [][]int{row(1, 4)}, [][]int{row(0, 4)}
	for _, name := range fixtures {
		m := loadFixture(t, name)
		tests := []struct {
			name string
			tok  fixedTokenizer
			want string
		}{
			{"out of vocabulary", fixedTokenizer{[][]int{{101, m.cfg.VocabSize, -1, 102}}, zeros, ones},
				"2 token id(s) outside [0, " + itoa(m.cfg.VocabSize) + "): " + itoa(m.cfg.VocabSize) + " (row 0, position 1), -1 (row 0, position 2)"},
			{"mask", fixedTokenizer{[][]int{{101, 5, 102, 0}}, zeros, [][]int{{1, 1, 1, 7}}}, "1 attention mask value(s) outside [0, 2): 7 (row 0, position 3)"},
			{"rows", fixedTokenizer{[][]int{{101, 102}, {101, 102}}, zeros, ones}, "returned 2 id rows, 1 type rows and 1 mask rows for 1 texts"},
			{"widths", fixedTokenizer{[][]int{{101, 102}}, zeros, ones}, "rows of different widths"},
			{"too long", fixedTokenizer{[][]int{row(5, m.cfg.MaxPositions+1)}, [][]int{row(0, m.cfg.MaxPositions+1)}, [][]int{row(1, m.cfg.MaxPositions+1)}},
				"more than the model's " + itoa(m.cfg.MaxPositions) + " positions"},
		}
		if m.cfg.ModelType == "bert" {
			tests = append(tests, struct {
				name string
				tok  fixedTokenizer
				want string
			}{"token types", fixedTokenizer{[][]int{{101, 5, 5, 102}}, [][]int{{0, 0, 9, 0}}, ones}, "1 token type id(s) outside [0, " + itoa(m.cfg.TypeVocabSize) + ")"})
		}
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				m.SetTokenizer(tc.tok)
				_, err := m.Encode(context.Background(), []string{"x"})
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.Contains(t, err.Error(), "SetTokenizer needs a tokenizer of this model's vocabulary")
				assert.NotContains(t, err.Error(), "instruction", "gorgonia's words")
			})
		}
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// TestTowerBindChecksIDs: ids bound into a caller's graph are checked as
// the tokenizer's are, before the graph runs.
func TestTowerBindChecksIDs(t *testing.T) {
	m := loadFixture(t, "bert-tiny")
	gr, err := m.Graph(G.NewGraph())
	require.NoError(t, err)
	tw, err := gr.Forward(1, 4)
	require.NoError(t, err)
	v := m.cfg.VocabSize
	for _, tc := range []struct {
		ids, mask, types [][]int
		want             string
	}{
		{[][]int{{101, v, 102}}, [][]int{{1, 1, 1}}, nil, "1 token id(s) outside [0, " + itoa(v) + "): " + itoa(v) + " (row 0, position 1)"},
		{[][]int{{101, 102}}, [][]int{{1, 2}}, nil, "1 attention mask value(s) outside [0, 2)"},
		{[][]int{{101, 102}}, [][]int{{1, 1}}, [][]int{{0, 5}}, "1 token type id(s) outside [0, " + itoa(m.cfg.TypeVocabSize) + ")"},
	} {
		err := tw.Bind(tc.ids, tc.mask, tc.types)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	require.NoError(t, tw.Bind([][]int{{101, 5, 102}}, [][]int{{1, 1, 1}}, nil))
}
