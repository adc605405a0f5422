package sentencepiece

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/testutil"
)

// TestTruncation checks HF's truncation rules: one slot is kept for </s>, and
// a text whose ids already end with </s> gets no second one.
func TestTruncation(t *testing.T) {
	tok := loadT5(t)
	full := tok.encode("Hello, world!", 0) // ▁Hello , ▁world ! </s>
	for _, c := range []struct {
		text   string
		maxLen int
		want   []int
	}{
		{"Hello, world!", 1, []int{1}},
		{"Hello, world!", 2, []int{full[0], 1}},
		{"Hello, world!", len(full), full},
		{"Hello, world!", 100, full},
		{"Hello </s>", 0, []int{full[0], 1}},
		{"Hello </s>", 2, []int{full[0], 1}},
		{"Hello </s> world", 3, []int{full[0], 1}}, // truncated ids end with </s>: none appended
		{"", 0, []int{1}},
		{"", 5, []int{1}},
	} {
		if got := tok.encode(c.text, c.maxLen); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %d) = %v, want %v", c.text, c.maxLen, got, c.want)
		}
	}
}

// TestEncodeBatchPadding checks right padding with <pad> and the mask.
func TestEncodeBatchPadding(t *testing.T) {
	tok := loadT5(t)
	ids, mask := tok.EncodeBatch([]string{"Hello, world!", ""}, 0)
	want := [][]int{tok.encode("Hello, world!", 0), {1, 0, 0, 0, 0}}
	wantMask := [][]int{{1, 1, 1, 1, 1}, {1, 0, 0, 0, 0}}
	for i := range want {
		if !slices.Equal(ids[i], want[i]) || !slices.Equal(mask[i], wantMask[i]) {
			t.Errorf("row %d: ids %v mask %v, want %v %v", i, ids[i], mask[i], want[i], wantMask[i])
		}
	}
	if ids, mask := tok.EncodeBatch(nil, 0); len(ids) != 0 || len(mask) != 0 {
		t.Errorf("EncodeBatch(nil) = %v, %v", ids, mask)
	}
}

// TestDecodeSentinels follows PreTrainedTokenizer._decode for T5 when special
// tokens are kept: the sentinels lie outside the sentencepiece vocabulary, so
// they are joined to their neighbours with spaces. (Derived from the 4.40
// code; the fixtures only decode <pad> and </s>.)
func TestDecodeSentinels(t *testing.T) {
	tok := loadT5(t)
	ids := tok.encode("<extra_id_0> and <extra_id_1></s>", 0)
	if want := []int{32099, 11, 32098, 1}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if got, want := tok.decode(ids, false), "<extra_id_0> and <extra_id_1> </s>"; got != want {
		t.Errorf("Decode(keep specials) = %q, want %q", got, want)
	}
	if got, want := tok.decode(ids, true), "and"; got != want {
		t.Errorf("Decode(skip specials) = %q, want %q", got, want)
	}
	// Ids past the vocabulary (T5's embedding has 32128 rows) are skipped.
	if got, want := tok.decode([]int{8774, 32127, -5, 1}, true), "Hello"; got != want {
		t.Errorf("Decode with out-of-range ids = %q, want %q", got, want)
	}
	if got := tok.decode(nil, false); got != "" {
		t.Errorf("Decode(nil) = %q", got)
	}
}

// TestPieceIDRoundTrip checks IDToPiece and PieceToID over the whole vocabulary.
func TestPieceIDRoundTrip(t *testing.T) {
	tok := loadT5(t)
	for id := 0; id < tok.Len(); id++ {
		p := tok.IDToPiece(id)
		if p == "" || tok.PieceToID(p) != id {
			t.Fatalf("id %d → %q → %d", id, p, tok.PieceToID(p))
		}
	}
	if tok.IDToPiece(32099) != "<extra_id_0>" || tok.IDToPiece(32000) != "<extra_id_99>" {
		t.Errorf("sentinels: 32099 → %q, 32000 → %q", tok.IDToPiece(32099), tok.IDToPiece(32000))
	}
	if tok.IDToPiece(tok.Len()) != "" || tok.PieceToID("no such piece") != tok.UnkID() {
		t.Errorf("out-of-vocabulary lookups must give \"\" and unk")
	}
}

// TestInvalidUTF8 checks that bytes that are not UTF-8 become U+FFFD one byte
// at a time, as sentencepiece's normalizer writes it: after the charsmap, so
// the replacement is an unknown character for T5 (while a literal U+FFFD in
// valid text is mapped to a space by nmt_nfkc).
func TestInvalidUTF8(t *testing.T) {
	tok := loadT5(t)
	got := tok.Tokenize("a\xffb\xe2\x82")
	want := []string{"▁", "a", "\uFFFD", "b", "\uFFFD\uFFFD"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokenize(invalid UTF-8) = %q, want %q", got, want)
	}
	ids := tok.encode("a\xffb\xe2\x82", 0)
	if wantIDs := []int{3, 9, 2, 115, 2, 1}; !slices.Equal(ids, wantIDs) {
		t.Errorf("Encode(invalid UTF-8) = %v, want %v", ids, wantIDs)
	}
	if s := tok.decode(ids, false); !utf8.ValidString(s) {
		t.Errorf("Decode returned invalid UTF-8 %q", s)
	}
}

// TestLoadErrors checks that broken folders give errors that name the file.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "spiece.model") {
		t.Errorf("empty folder: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spiece.model"), []byte{0x0a, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "spiece.model") {
		t.Errorf("truncated spiece.model: err = %v", err)
	}
	b, err := os.ReadFile(testutil.Fixture("t5-tiny", "spiece.model"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spiece.model"), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Errorf("half a spiece.model loaded without error")
	}
}

// TestConcurrentUse encodes and decodes from several goroutines at once (run
// with -race to check that a Tokenizer is safe for concurrent use).
func TestConcurrentUse(t *testing.T) {
	tok := loadT5(t)
	rows := goldenRows(t)
	errs := make(chan string, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := w; i < len(rows); i += 4 {
				if got := tok.encode(rows[i].Text, 0); !slices.Equal(got, rows[i].T5IDs) {
					errs <- rows[i].Text
					return
				}
				tok.decode(rows[i].T5IDs, i%2 == 0)
			}
			errs <- ""
		}(w)
	}
	for w := 0; w < 4; w++ {
		if s := <-errs; s != "" {
			t.Errorf("concurrent Encode(%q) differs from the golden ids", s)
		}
	}
}
