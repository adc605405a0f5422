package t5_test

import (
	"context"
	"errors"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/t5"
	"github.com/genq-go/genq/t5/sentencepiece"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errTokenizer = errors.New("tokenizer failed")

// failingTokenizer fails to encode or decode, as selected.
type failingTokenizer struct {
	t5.Tokenizer
	encode, decode bool
}

func (f failingTokenizer) Encode(text string, maxLen int) ([]int, error) {
	if f.encode {
		return nil, errTokenizer
	}
	return f.Tokenizer.Encode(text, maxLen)
}

func (f failingTokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	if f.decode {
		return "", errTokenizer
	}
	return f.Tokenizer.Decode(ids, skipSpecial)
}

// TestSetTokenizer checks that Load sets genq's SentencePiece tokenizer, that
// SetTokenizer replaces it, and that a tokenizer's errors end Generate and
// Score.
func TestSetTokenizer(t *testing.T) {
	m, err := t5.Load(context.Background(), testutil.Fixture("t5-tiny"), t5.LoadOptions{})
	require.NoError(t, err)
	sp, ok := m.Tokenizer().(*sentencepiece.Tokenizer)
	require.True(t, ok, "Load's tokenizer is %T, want *sentencepiece.Tokenizer", m.Tokenizer())
	ctx := context.Background()
	opts := t5.GenerateOptions{MaxLength: 8, NumReturnSequences: 1, NumBeams: 1, BatchSize: 8}
	passages := []string{"Python is an interpreted language."}
	want, err := m.Generate(ctx, passages, opts)
	require.NoError(t, err)

	m.SetTokenizer(failingTokenizer{Tokenizer: sp, encode: true})
	_, err = m.Generate(ctx, passages, opts)
	assert.ErrorIs(t, err, errTokenizer)
	_, err = m.Score(ctx, passages, []string{"what is python"})
	assert.ErrorIs(t, err, errTokenizer)
	m.SetTokenizer(failingTokenizer{Tokenizer: sp, decode: true})
	_, err = m.Generate(ctx, passages, opts)
	assert.ErrorIs(t, err, errTokenizer)

	m.SetTokenizer(failingTokenizer{Tokenizer: sp})
	got, err := m.Generate(ctx, passages, opts)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
