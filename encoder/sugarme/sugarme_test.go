package sugarme_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/encoder/sugarme"
	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/t5"
	"github.com/genq-go/genq/t5/sentencepiece"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The adapter is both kinds of genq tokenizer.
var (
	_ t5.Tokenizer      = (*sugarme.Tokenizer)(nil)
	_ encoder.Tokenizer = (*sugarme.Tokenizer)(nil)
)

// tokenizerJSON writes the tokenizer.json of a genq tokenizer (the file
// transformers' converter makes from the fixture's slow tokenizer) and loads
// it with sugarme.
func tokenizerJSON(t *testing.T, write func(io.Writer) error) *sugarme.Tokenizer {
	t.Helper()
	tok, err := sugarme.Load(testutil.WriteFile(t, filepath.Join(t.TempDir(), "tokenizer.json"), write))
	require.NoError(t, err)
	return tok
}

func bertTokenizer(t *testing.T) *sugarme.Tokenizer {
	wp, err := wordpiece.Load(testutil.Fixture("bert-tiny"))
	require.NoError(t, err)
	return tokenizerJSON(t, wp.WriteTokenizerJSON)
}

func t5Tokenizer(t *testing.T) *sugarme.Tokenizer {
	sp, err := sentencepiece.Load(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	return tokenizerJSON(t, sp.WriteTokenizerJSON)
}

// TestGoldenDifferences runs the adapter on the 298 golden texts with the
// BERT and T5 tokenizer.json files and records where sugarme differs from
// the reference (transformers' slow tokenizers, which genq's own tokenizers
// match on every row): the counts below are what sugarme v0.3.0 gives, so a
// change in sugarme or in the adapter shows here. Every panic must come back
// as an error wrapping ErrPanicked; none may escape. The differences are
// described in the package documentation; -v logs every differing row.
func TestGoldenDifferences(t *testing.T) {
	rows := testutil.TokenizerRows(t)
	// differs encodes text untruncated and truncated at 16 and counts the
	// results that differ from the reference in *full and *trunc.
	differs := func(tok *sugarme.Tokenizer, name string, i int, text string, want, want16 []int, full, trunc *int) error {
		ids, err := tok.Encode(text, 0)
		if err != nil {
			return err
		}
		if !slices.Equal(ids, want) {
			*full++
			t.Logf("%s row %d %q:\n got  %v\n want %v", name, i, text, ids, want)
		}
		ids, err = tok.Encode(text, 16)
		require.NoError(t, err, "%s row %d %q truncated at 16", name, i, text)
		assert.LessOrEqual(t, len(ids), 16)
		if !slices.Equal(ids, want16) {
			*trunc++
		}
		return nil
	}
	bert, t5tok := bertTokenizer(t), t5Tokenizer(t)
	var got struct{ bertIDs, bertTrunc16, t5Errors, t5ErrorsNewline, t5IDs, t5Trunc16, t5Decode int }
	for i, r := range rows {
		err := differs(bert, "BERT", i, r.Text, r.BertIDs, r.BertTrunc16, &got.bertIDs, &got.bertTrunc16)
		require.NoError(t, err, "BERT row %d %q", i, r.Text)
		if err := differs(t5tok, "T5", i, r.Text, r.T5IDs, r.T5IDsTrunc16, &got.t5IDs, &got.t5Trunc16); err != nil {
			require.ErrorIs(t, err, sugarme.ErrPanicked, "T5 row %d %q", i, r.Text)
			if strings.Contains(r.Text, "\n") {
				got.t5ErrorsNewline++
			}
			got.t5Errors++
			t.Logf("T5 row %d %q: %v", i, r.Text, err)
			continue
		}
		s, err := t5tok.Decode(r.T5IDs, true)
		require.NoError(t, err, "T5 row %d %q", i, r.Text)
		if s != r.T5Decode {
			got.t5Decode++
			t.Logf("T5 row %d decoded: got %q want %q", i, s, r.T5Decode)
		}
	}
	t.Logf("rows that differ from the reference, of %d: %+v", len(rows), got)
	assert.Equal(t, 228, got.bertIDs, "BERT rows whose ids differ")
	assert.Equal(t, 220, got.bertTrunc16, "BERT rows whose ids truncated at 16 differ")
	assert.Equal(t, 25, got.t5Errors, "T5 rows on which sugarme panics")
	assert.Equal(t, 20, got.t5ErrorsNewline, "of those, rows with a newline")
	assert.Equal(t, 117, got.t5IDs, "T5 rows (of those that encode) whose ids differ")
	assert.Equal(t, 45, got.t5Trunc16, "T5 rows whose ids truncated at 16 differ")
	assert.Equal(t, 51, got.t5Decode, "T5 rows whose decode(skip_special_tokens=True) differs")
}

// TestEncodeBatch checks padding, masks, type ids and truncation on texts
// where sugarme agrees with the reference, against genq's WordPiece
// tokenizer.
func TestEncodeBatch(t *testing.T) {
	wp, err := wordpiece.Load(testutil.Fixture("bert-tiny"))
	require.NoError(t, err)
	tok := tokenizerJSON(t, wp.WriteTokenizerJSON)
	pad, ok := tok.PadID()
	require.True(t, ok)
	assert.Equal(t, wp.PadID(), pad)
	texts := []string{"What is Python?", "Java", "Go is a statically typed, compiled language designed at Google."}
	for _, maxLen := range []int{0, 8, 128} {
		ids, types, mask, err := tok.EncodeBatch(texts, maxLen)
		require.NoError(t, err)
		wantIDs, wantTypes, wantMask, err := wp.EncodeBatch(texts, maxLen)
		require.NoError(t, err)
		assert.Equal(t, wantIDs, ids, "maxLen %d", maxLen)
		assert.Equal(t, wantTypes, types, "maxLen %d", maxLen)
		assert.Equal(t, wantMask, mask, "maxLen %d", maxLen)
	}
	_, _, _, err = tok.EncodeBatch([]string{"a"}, 2)
	assert.ErrorContains(t, err, "no room", "maxLen 2 leaves no room beside [CLS] and [SEP]")

	sp, err := sentencepiece.Load(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	t5tok := tokenizerJSON(t, sp.WriteTokenizerJSON)
	_, _, _, err = t5tok.EncodeBatch([]string{"fine", "New\nlines\r\nand\ttabs"}, 0)
	assert.ErrorIs(t, err, sugarme.ErrPanicked)
	assert.ErrorContains(t, err, "text 1")
}

// TestErrors checks the errors of New and Load.
func TestErrors(t *testing.T) {
	_, err := sugarme.New(nil)
	assert.Error(t, err)
	_, err = sugarme.Load(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"model": {"type": "WordPiece"}}`), 0o644))
	_, err = sugarme.Load(path)
	assert.ErrorContains(t, err, path)
}

// TestModels plugs the adapter into a bi-encoder and a T5 model: on texts
// where sugarme tokenizes as the reference, the embeddings and the generated
// queries are those of genq's own tokenizers.
func TestModels(t *testing.T) {
	ctx := context.Background()
	texts := []string{"What is Python?", "Go is a statically typed, compiled language designed at Google."}

	enc, err := encoder.Load(context.Background(), testutil.Fixture("distilbert-tiny"), encoder.LoadOptions{})
	require.NoError(t, err)
	want, err := enc.Encode(ctx, texts)
	require.NoError(t, err)
	enc.SetTokenizer(bertTokenizer(t))
	got, err := enc.Encode(ctx, texts)
	require.NoError(t, err)
	assert.Equal(t, want, got, "embeddings")

	gen, err := t5.Load(context.Background(), testutil.Fixture("t5-tiny"), t5.LoadOptions{})
	require.NoError(t, err)
	opts := t5.GenerateOptions{MaxLength: 8, NumReturnSequences: 1, NumBeams: 1, BatchSize: 8}
	wantQ, err := gen.Generate(ctx, texts, opts)
	require.NoError(t, err)
	gen.SetTokenizer(t5Tokenizer(t))
	gotQ, err := gen.Generate(ctx, texts, opts)
	require.NoError(t, err)
	assert.Equal(t, wantQ, gotQ, "generated queries")
	_, err = gen.Generate(ctx, []string{"New\nlines\r\nand\ttabs"}, opts)
	assert.ErrorIs(t, err, sugarme.ErrPanicked)
}
