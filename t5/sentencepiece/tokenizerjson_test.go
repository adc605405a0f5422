package sentencepiece

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// writeTokenizerJSON writes, from spiece.model, the tokenizer.json that
// transformers' T5Converter produces: the vocabulary with the sentinels
// appended, the added tokens, Precompiled + Replace(" {2,}") and Metaspace.
func writeTokenizerJSON(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(testutil.Fixture("t5-tiny", "spiece.model"))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := parseModelProto(b)
	if err != nil {
		t.Fatal(err)
	}
	var vocab [][]any
	var added []map[string]any
	for id, p := range mp.pieces {
		vocab = append(vocab, []any{p.piece, float64(p.score)})
		if p.typ == typeControl || p.typ == typeUnknown {
			added = append(added, map[string]any{"id": id, "content": p.piece, "special": true,
				"lstrip": false, "rstrip": false, "single_word": false, "normalized": false})
		}
	}
	for i := 99; i >= 0; i-- {
		s := fmt.Sprintf("<extra_id_%d>", i)
		added = append(added, map[string]any{"id": len(vocab), "content": s, "special": true,
			"lstrip": false, "rstrip": false, "single_word": false, "normalized": false})
		vocab = append(vocab, []any{s, 0.0})
	}
	tj := map[string]any{
		"version":      "1.0",
		"added_tokens": added,
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Precompiled", "precompiled_charsmap": base64.StdEncoding.EncodeToString(mp.normalizer.precompiledCharsmap)},
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " {2,}"}, "content": " "},
		}},
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
		"model":         map[string]any{"type": "Unigram", "unk_id": 2, "vocab": vocab, "byte_fallback": false},
	}
	out, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTokenizerJSON checks that a folder with only tokenizer.json tokenizes
// every golden row as the slow tokenizer does.
func TestTokenizerJSON(t *testing.T) {
	dir := t.TempDir()
	writeTokenizerJSON(t, dir)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Len() != 32100 || tok.PieceToID("<extra_id_0>") != 32099 || tok.sp.size() != 32000 {
		t.Errorf("Len %d, <extra_id_0> → %d, %d sentencepiece pieces; want 32100, 32099, 32000",
			tok.Len(), tok.PieceToID("<extra_id_0>"), tok.sp.size())
	}
	pass := 0
	rows := goldenRows(t)
	for i, r := range rows {
		got := tok.encode(r.Text, 0)
		dec := tok.decode(r.T5IDs, true)
		if slices.Equal(got, r.T5IDs) && dec == r.T5Decode {
			pass++
			continue
		}
		t.Errorf("row %d %q:\ngot  %v %q\nwant %v %q", i, r.Text, got, dec, r.T5IDs, r.T5Decode)
	}
	t.Logf("tokenizer.json: %d/%d rows exact", pass, len(rows))
}
