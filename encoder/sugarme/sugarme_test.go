package sugarme_test

import (
	"bytes"
	"context"
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

// goldenRow is one row of testdata/fixtures/tokenizers/golden.json: the slow
// T5Tokenizer's and BertTokenizer's output for a text.
type goldenRow struct {
	Text         string `json:"text"`
	T5IDs        []int  `json:"t5_ids"`
	T5IDsTrunc16 []int  `json:"t5_ids_trunc16"`
	T5Decode     string `json:"t5_decode"`
	BertIDs      []int  `json:"bert_ids"`
	BertTrunc16  []int  `json:"bert_ids_trunc16"`
}

func goldenRows(t *testing.T) []goldenRow {
	t.Helper()
	var g struct {
		Rows []goldenRow `json:"rows"`
	}
	require.NoError(t, testutil.ReadJSON(testutil.Fixture("tokenizers", "golden.json"), &g))
	require.Len(t, g.Rows, 298)
	return g.Rows
}

// tokenizerJSON writes the tokenizer.json of a genq tokenizer (the file
// transformers' converter makes from the fixture's slow tokenizer) and loads
// it with sugarme.
func tokenizerJSON(t *testing.T, write func(*bytes.Buffer) error) *sugarme.Tokenizer {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, write(&buf))
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	tok, err := sugarme.Load(path)
	require.NoError(t, err)
	return tok
}

func bertTokenizer(t *testing.T) *sugarme.Tokenizer {
	wp, err := wordpiece.Load(testutil.Fixture("bert-tiny"))
	require.NoError(t, err)
	return tokenizerJSON(t, func(b *bytes.Buffer) error { return wp.WriteTokenizerJSON(b) })
}

func t5Tokenizer(t *testing.T) *sugarme.Tokenizer {
	sp, err := sentencepiece.Load(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	return tokenizerJSON(t, func(b *bytes.Buffer) error { return sp.WriteTokenizerJSON(b) })
}

// TestGoldenDifferences runs the adapter on the 298 golden texts with the
// BERT and T5 tokenizer.json files and records where sugarme differs from
// the reference (transformers' slow tokenizers, which genq's own tokenizers
// match on every row): the counts below are what sugarme v0.3.0 gives, so a
// change in sugarme or in the adapter shows here. Every panic must come back
// as an error wrapping ErrPanicked; none may escape. The differences are
// described in the package documentation; -v logs every differing row.
func TestGoldenDifferences(t *testing.T) {
	rows := goldenRows(t)
	bert, t5tok := bertTokenizer(t), t5Tokenizer(t)
	var got struct{ bertIDs, bertTrunc16, t5Errors, t5ErrorsNewline, t5IDs, t5Trunc16, t5Decode int }
	for i, r := range rows {
		ids, err := bert.Encode(r.Text, 0)
		require.NoError(t, err, "BERT row %d %q", i, r.Text)
		if !slices.Equal(ids, r.BertIDs) {
			got.bertIDs++
			t.Logf("BERT row %d %q:\n got  %v\n want %v", i, r.Text, ids, r.BertIDs)
		}
		ids, err = bert.Encode(r.Text, 16)
		require.NoError(t, err, "BERT row %d %q", i, r.Text)
		assert.LessOrEqual(t, len(ids), 16)
		if !slices.Equal(ids, r.BertTrunc16) {
			got.bertTrunc16++
		}

		ids, err = t5tok.Encode(r.Text, 0)
		if err != nil {
			require.ErrorIs(t, err, sugarme.ErrPanicked, "T5 row %d %q", i, r.Text)
			if strings.Contains(r.Text, "\n") {
				got.t5ErrorsNewline++
			}
			got.t5Errors++
			t.Logf("T5 row %d %q: %v", i, r.Text, err)
			continue
		}
		if !slices.Equal(ids, r.T5IDs) {
			got.t5IDs++
			t.Logf("T5 row %d %q:\n got  %v\n want %v", i, r.Text, ids, r.T5IDs)
		}
		ids, err = t5tok.Encode(r.Text, 16)
		require.NoError(t, err, "T5 row %d %q", i, r.Text)
		assert.LessOrEqual(t, len(ids), 16)
		if !slices.Equal(ids, r.T5IDsTrunc16) {
			got.t5Trunc16++
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
	tok := tokenizerJSON(t, func(b *bytes.Buffer) error { return wp.WriteTokenizerJSON(b) })
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
	t5tok := tokenizerJSON(t, func(b *bytes.Buffer) error { return sp.WriteTokenizerJSON(b) })
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

	enc, err := encoder.Load(testutil.Fixture("distilbert-tiny"))
	require.NoError(t, err)
	want, err := enc.Encode(ctx, texts)
	require.NoError(t, err)
	enc.SetTokenizer(bertTokenizer(t))
	got, err := enc.Encode(ctx, texts)
	require.NoError(t, err)
	assert.Equal(t, want, got, "embeddings")

	gen, err := t5.Load(testutil.Fixture("t5-tiny"))
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
