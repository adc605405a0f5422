package wordpiece

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

func TestLoadFixtures(t *testing.T) {
	for _, name := range []string{"bert-tiny", "distilbert-tiny"} {
		tok := loadBert(t, name)
		// golden.json["tokenizer"] records the ids the Python tokenizer reported.
		var want struct {
			Unk int `json:"unk_token_id"`
			Cls int `json:"cls_token_id"`
			Sep int `json:"sep_token_id"`
			Pad int `json:"pad_token_id"`
		}
		testutil.LoadGolden(t, name).Decode(t, "tokenizer", &want)
		if tok.UnkID() != want.Unk || tok.ClsID() != want.Cls || tok.SepID() != want.Sep || tok.PadID() != want.Pad {
			t.Errorf("%s: unk/cls/sep/pad = %d/%d/%d/%d, golden %d/%d/%d/%d", name,
				tok.UnkID(), tok.ClsID(), tok.SepID(), tok.PadID(), want.Unk, want.Cls, want.Sep, want.Pad)
		}
		if tok.VocabSize() != 30522 || tok.ModelMaxLength() != 512 {
			t.Errorf("%s: VocabSize %d, ModelMaxLength %d; want 30522, 512", name, tok.VocabSize(), tok.ModelMaxLength())
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "vocab.txt") {
		t.Errorf("Load(empty dir) error = %v, want one naming vocab.txt", err)
	}
	write(t, filepath.Join(dir, "vocab.txt"), "[UNK]\nhello\n")
	write(t, filepath.Join(dir, "tokenizer_config.json"), `{"strip_accents": "yes"}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "strip_accents") {
		t.Errorf("bad strip_accents: error = %v, want one naming the key", err)
	}
	write(t, filepath.Join(dir, "tokenizer_config.json"), `{`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("broken JSON: error = %v, want one naming the file", err)
	}
	dir2 := t.TempDir()
	write(t, filepath.Join(dir2, "tokenizer.json"), `{"model": {"type": "Unigram"}}`)
	if _, err := Load(dir2); err == nil || !strings.Contains(err.Error(), "Unigram") {
		t.Errorf("Unigram tokenizer.json: error = %v, want one naming the model type", err)
	}
}

// TestLoadConfigKeys checks that tokenizer_config.json settings are applied:
// strip_accents null follows do_lower_case (sugarme/tokenizer reads it as false).
func TestLoadConfigKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "vocab.txt"), "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\ncafe\r\ncafé\r\nCafé\r\n<x>\r\n")
	tests := []struct {
		config string
		want   []string
	}{
		{`{"do_lower_case": true, "strip_accents": null}`, []string{"cafe"}},
		{`{"do_lower_case": true, "strip_accents": false}`, []string{"café"}},
		{`{"do_lower_case": false}`, []string{"Café"}},
		{`{"do_lower_case": false, "never_split": ["Café!"]}`, []string{"Café!"}}, // kept whole, id [UNK]
		{`{"do_lower_case": true, "additional_special_tokens": ["<x>"]}`, []string{"cafe", "<x>"}},
	}
	for _, tc := range tests {
		write(t, filepath.Join(dir, "tokenizer_config.json"), tc.config)
		tok, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		text := "Café"
		if strings.Contains(tc.config, "never_split") {
			text = "Café!"
		}
		if strings.Contains(tc.config, "<x>") {
			text = "Café<x>"
		}
		if got := tok.Tokens(text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("config %s: Tokens(%q) = %q, want %q", tc.config, text, got, tc.want)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
