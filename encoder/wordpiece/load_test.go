package wordpiece

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		assert.Equal(t, []int{want.Unk, want.Cls, want.Sep, want.Pad}, []int{tok.UnkID(), tok.ClsID(), tok.SepID(), tok.PadID()},
			"%s: unk, cls, sep, pad", name)
		assert.Equal(t, 30522, tok.VocabSize(), name)
		assert.Equal(t, 512, tok.ModelMaxLength(), name)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	assert.ErrorContains(t, err, "vocab.txt", "empty folder")
	write(t, filepath.Join(dir, "vocab.txt"), "[UNK]\nhello\n")
	write(t, filepath.Join(dir, "tokenizer_config.json"), `{"strip_accents": "yes"}`)
	_, err = Load(dir)
	assert.ErrorContains(t, err, "strip_accents", "bad strip_accents")
	write(t, filepath.Join(dir, "tokenizer_config.json"), `{`)
	_, err = Load(dir)
	assert.ErrorContains(t, err, "tokenizer_config.json", "broken JSON")
	dir2 := t.TempDir()
	write(t, filepath.Join(dir2, "tokenizer.json"), `{"model": {"type": "Unigram"}}`)
	_, err = Load(dir2)
	assert.ErrorContains(t, err, "Unigram", "Unigram tokenizer.json")
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
		require.NoError(t, err)
		text := "Café"
		if strings.Contains(tc.config, "never_split") {
			text = "Café!"
		}
		if strings.Contains(tc.config, "<x>") {
			text = "Café<x>"
		}
		assert.Equal(t, tc.want, tok.Tokens(text), "config %s: Tokens(%q)", tc.config, text)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
