package encoder_test

import (
	"context"
	"errors"
	"testing"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errTokenizer = errors.New("tokenizer failed")

// failingTokenizer fails on every batch.
type failingTokenizer struct{}

func (failingTokenizer) EncodeBatch([]string, int) (ids, typeIDs, mask [][]int, err error) {
	return nil, nil, nil, errTokenizer
}

// TestSetTokenizer checks that Load sets genq's WordPiece tokenizer, that
// SetTokenizer replaces it, and that a tokenizer's error ends Encode.
func TestSetTokenizer(t *testing.T) {
	m, err := encoder.Load(context.Background(), testutil.Fixture("distilbert-tiny"), encoder.LoadOptions{})
	require.NoError(t, err)
	wp, ok := m.Tokenizer().(*wordpiece.Tokenizer)
	require.True(t, ok, "Load's tokenizer is %T, want *wordpiece.Tokenizer", m.Tokenizer())
	texts := []string{"What is Python?", "Java"}
	want, err := m.Encode(context.Background(), texts)
	require.NoError(t, err)

	m.SetTokenizer(failingTokenizer{})
	_, err = m.Encode(context.Background(), texts)
	assert.ErrorIs(t, err, errTokenizer)

	m.SetTokenizer(wp)
	got, err := m.Encode(context.Background(), texts)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
