package sentencepiece

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// modelFolder writes a T5 tokenizer folder holding spiece (the bytes of a
// spiece.model) and the given config files.
func modelFolder(t *testing.T, spiece []byte, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spiece.model"), spiece, 0o644))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func fixtureModel(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.Fixture("t5-tiny", "spiece.model"))
	require.NoError(t, err)
	return b
}

// TestExtraIDsBounded is issue 12 row 5: extra_ids is bounded by the size of
// the sentencepiece vocabulary before any sentinel is made (it used to make
// 100 million of them, a fatal out-of-memory), and it must agree with the
// sentinels additional_special_tokens lists, as T5Tokenizer requires.
func TestExtraIDsBounded(t *testing.T) {
	sp := fixtureModel(t)
	listed := `{"additional_special_tokens": ["<extra_id_0>", "<extra_id_1>"]}`
	for _, c := range []struct {
		name    string
		files   map[string]string
		wantErr string // "" when Load must succeed
		vocab   int    // VocabSize when it succeeds
	}{
		{"huge", map[string]string{"tokenizer_config.json": `{"extra_ids": 100000000}`}, "extra_ids is 100000000", 0},
		{"max int", map[string]string{"tokenizer_config.json": `{"extra_ids": 9223372036854775807}`}, "extra_ids is 9223372036854775807", 0},
		{"one past the pieces", map[string]string{"tokenizer_config.json": `{"extra_ids": 32001}`}, "extra_ids is 32001", 0},
		{"disagrees with the list", map[string]string{"tokenizer_config.json": `{"extra_ids": 5}`, "special_tokens_map.json": listed}, "extra_ids is 5 but additional_special_tokens lists 2", 0},
		{"T5's 100", map[string]string{"tokenizer_config.json": `{"extra_ids": 100}`}, "", 32100},
		{"none", map[string]string{"tokenizer_config.json": `{"extra_ids": 0}`}, "", 32000},
		{"negative is none", map[string]string{"tokenizer_config.json": `{"extra_ids": -5}`}, "", 32000},
		{"as many as listed", map[string]string{"tokenizer_config.json": `{"extra_ids": 2}`, "special_tokens_map.json": listed}, "", 32002},
		{"huge added id", map[string]string{"added_tokens.json": `{"<x>": 4294967296}`}, "outside 0..2147483647", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := Load(modelFolder(t, sp, c.files))
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.vocab, tok.VocabSize())
		})
	}
}

// topFields returns the byte offsets where each top-level field of a
// serialized ModelProto ends, and their field numbers.
func topFields(t *testing.T, b []byte) (ends []int, nums []protowire.Number) {
	t.Helper()
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		require.Positive(t, n)
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		require.Positive(t, m)
		off += n + m
		ends, nums = append(ends, off), append(nums, num)
	}
	return ends, nums
}

// TestTruncatedModel is issue 12 row 9: a spiece.model cut exactly at the end
// of a field parses, so the loader must see what is missing (the specs that
// follow the pieces, or pieces that trainer_spec.vocab_size promises) instead
// of loading a model that gives other ids.
func TestTruncatedModel(t *testing.T) {
	full := fixtureModel(t)
	ends, nums := topFields(t, full)
	require.Equal(t, 32002, len(ends), "t5-tiny's spiece.model: 32000 pieces, trainer_spec, normalizer_spec")
	require.Equal(t, []protowire.Number{1, 2, 3}, []protowire.Number{nums[31999], nums[32000], nums[32001]})
	// One piece taken out of the middle: the specs are there, a piece is not.
	oneLess := append(append([]byte(nil), full[:ends[99]]...), full[ends[100]:]...)
	for _, c := range []struct {
		name    string
		model   []byte
		wantErr string
	}{
		{"after the first piece", full[:ends[0]], "ends after 1 pieces, without trainer_spec and normalizer_spec"},
		{"after piece 1000", full[:ends[999]], "ends after 1000 pieces"},
		{"after the last piece", full[:ends[31999]], "ends after 32000 pieces"},
		{"after trainer_spec", full[:ends[32000]], "without normalizer_spec"},
		{"a piece missing", oneLess, "has 31999 pieces but trainer_spec.vocab_size is 32000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(modelFolder(t, c.model, nil))
			require.ErrorContains(t, err, c.wantErr)
			assert.ErrorContains(t, err, "spiece.model")
			assert.ErrorContains(t, err, "truncated")
		})
	}
	_, err := Load(modelFolder(t, full, nil))
	require.NoError(t, err, "the whole file")
}
