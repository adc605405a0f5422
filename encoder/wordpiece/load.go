package wordpiece

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/tokenutil"
)

// Load reads a BERT / DistilBERT tokenizer from a HuggingFace model folder:
// the vocabulary from vocab.txt (one token a line, id = line number) or, when
// there is none, from tokenizer.json as LoadTokenizerJSON reads it (its
// settings become the defaults); then the settings of
// tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
// do_basic_tokenize, never_split, model_max_length, special tokens,
// added_tokens_decoder, clean_up_tokenization_spaces), special_tokens_map.json
// and added_tokens.json when present. Missing settings take BertTokenizer's
// defaults.
func Load(dir string) (*Tokenizer, error) {
	opts := DefaultOptions()
	var (
		vocab map[int]string
		err   error
	)
	vocabPath := filepath.Join(dir, "vocab.txt")
	jsonPath := filepath.Join(dir, "tokenizer.json")
	switch {
	case fileExists(vocabPath):
		if vocab, err = readVocab(vocabPath); err != nil {
			return nil, err
		}
	case fileExists(jsonPath):
		data, err := os.ReadFile(jsonPath)
		if err != nil {
			return nil, fmt.Errorf("wordpiece: %w", err)
		}
		if vocab, err = parseTokenizerJSON(data, &opts); err != nil {
			return nil, fmt.Errorf("wordpiece: %s: %w", jsonPath, err)
		}
	default:
		return nil, fmt.Errorf("wordpiece: %s has neither vocab.txt nor tokenizer.json; pass the folder of a BERT-style HF tokenizer", dir)
	}
	if err := readConfig(dir, &opts); err != nil {
		return nil, err
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("wordpiece: the vocabulary in %s is empty", dir)
	}
	t, err := build(vocab, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (tokenizer in %s)", err, dir)
	}
	return t, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// readVocab reads vocab.txt into an id table.
func readVocab(path string) (map[int]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: reading the vocabulary: %w", err)
	}
	lines, err := parseVocab(data)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %s %w", path, err)
	}
	return linesTable(lines), nil
}

// parseVocab splits vocab.txt as HF's load_vocab: UTF-8 text, lines split
// on "\n", "\r\n" or "\r" (Python's universal newlines), one token a line.
func parseVocab(data []byte) ([]string, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("is not valid UTF-8")
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	if len(data) == 0 {
		return nil, fmt.Errorf("is empty")
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	lines := bytes.Split(data, []byte("\n"))
	vocab := make([]string, len(lines))
	for i, l := range lines {
		vocab[i] = string(l)
	}
	return vocab, nil
}

// readConfig applies tokenizer_config.json, special_tokens_map.json and
// added_tokens.json (each optional) to opts.
func readConfig(dir string, opts *Options) error {
	files, err := tokenutil.ReadConfigFiles(dir)
	if err != nil {
		return fmt.Errorf("wordpiece: %w", err)
	}
	return applyConfig(files[0], files[1], files[2], opts)
}

// applyConfig applies the contents of tokenizer_config.json, special_tokens_map.json
// and added_tokens.json to opts.
func applyConfig(tokConfig, specialMap, addedFile tokenutil.ConfigFile, opts *Options) error {
	var cfg map[string]json.RawMessage
	if err := decodeConfig(tokConfig, &cfg); err != nil {
		return err
	}
	path := tokConfig.Path
	fields := []struct {
		key string
		dst any
	}{
		{"do_lower_case", &opts.LowerCase},
		{"tokenize_chinese_chars", &opts.ChineseChars},
		{"do_basic_tokenize", &opts.BasicTokenize},
		{"clean_up_tokenization_spaces", &opts.CleanUpSpaces},
		{"never_split", &opts.NeverSplit},
	}
	for _, f := range fields {
		if raw, ok := cfg[f.key]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return fmt.Errorf("wordpiece: %s: %q: %w", path, f.key, err)
			}
		}
	}
	if raw, ok := cfg["strip_accents"]; ok {
		opts.StripAccents = nil // null: follow do_lower_case
		if !isNull(raw) {
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("wordpiece: %s: \"strip_accents\" must be true, false or null: %w", path, err)
			}
			opts.StripAccents = &b
		}
	}
	if raw, ok := cfg["model_max_length"]; ok && !isNull(raw) {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("wordpiece: %s: \"model_max_length\": %w", path, err)
		}
		if f > 0 && f < 1e9 { // HF writes int(1e30) for "no limit"
			opts.ModelMaxLength = int(f)
		}
	}
	if raw, ok := cfg["added_tokens_decoder"]; ok && !isNull(raw) {
		var dec map[string]addedTokenJSON
		if err := json.Unmarshal(raw, &dec); err != nil {
			return fmt.Errorf("wordpiece: %s: \"added_tokens_decoder\": %w", path, err)
		}
		opts.AddedTokens = opts.AddedTokens[:0]
		for key, a := range dec {
			id, err := strconv.Atoi(key)
			if err != nil {
				return fmt.Errorf("wordpiece: %s: \"added_tokens_decoder\" key %q is not an id", path, key)
			}
			opts.AddedTokens = append(opts.AddedTokens, a.token(id))
		}
		sort.Slice(opts.AddedTokens, func(i, j int) bool { return opts.AddedTokens[i].ID < opts.AddedTokens[j].ID })
	}
	if err := readSpecialTokens(path, cfg, opts); err != nil {
		return err
	}

	var smap map[string]json.RawMessage
	if err := decodeConfig(specialMap, &smap); err != nil {
		return err
	}
	if err := readSpecialTokens(specialMap.Path, smap, opts); err != nil {
		return err
	}
	return readAddedTokensFile(addedFile, opts)
}

// readAddedTokensFile reads the legacy added_tokens.json ({"token": id}):
// tokens not yet known become added tokens, special when they are one of the
// special tokens.
func readAddedTokensFile(f tokenutil.ConfigFile, opts *Options) error {
	var legacy map[string]int
	if err := decodeConfig(f, &legacy); err != nil {
		return err
	}
	known := make(map[int]bool)
	for _, a := range opts.AddedTokens {
		known[a.ID] = true
	}
	special := map[string]bool{opts.UnkToken: true, opts.SepToken: true, opts.PadToken: true, opts.ClsToken: true, opts.MaskToken: true}
	for _, s := range opts.AdditionalSpecialTokens {
		special[s] = true
	}
	toks := make([]string, 0, len(legacy))
	for tok := range legacy {
		toks = append(toks, tok)
	}
	sort.Slice(toks, func(i, j int) bool { return legacy[toks[i]] < legacy[toks[j]] })
	for _, tok := range toks {
		if id := legacy[tok]; !known[id] {
			opts.AddedTokens = append(opts.AddedTokens, AddedToken{Content: tok, ID: id, Special: special[tok], Normalized: !special[tok]})
		}
	}
	return nil
}

// addedTokenJSON is a serialized AddedToken: a plain string or an object.
type addedTokenJSON struct {
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Normalized *bool  `json:"normalized"`
	Special    *bool  `json:"special"`
}

// UnmarshalJSON accepts "[CLS]" as well as {"content": "[CLS]", ...}.
func (a *addedTokenJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = addedTokenJSON{Content: s}
		return nil
	}
	type plain addedTokenJSON
	return json.Unmarshal(b, (*plain)(a))
}

func (a addedTokenJSON) token(id int) AddedToken {
	special := a.Special == nil || *a.Special
	normalized := !special
	if a.Normalized != nil {
		normalized = *a.Normalized
	}
	return AddedToken{Content: a.Content, ID: id, Special: special, Normalized: normalized,
		LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord}
}

// readSpecialTokens reads the *_token keys and additional_special_tokens of a
// tokenizer config or special tokens map into opts.
func readSpecialTokens(path string, m map[string]json.RawMessage, opts *Options) error {
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"unk_token", &opts.UnkToken}, {"sep_token", &opts.SepToken}, {"pad_token", &opts.PadToken},
		{"cls_token", &opts.ClsToken}, {"mask_token", &opts.MaskToken},
	} {
		raw, ok := m[f.key]
		if !ok || isNull(raw) {
			continue
		}
		var a addedTokenJSON
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("wordpiece: %s: %q: %w", path, f.key, err)
		}
		*f.dst = a.Content
	}
	if raw, ok := m["additional_special_tokens"]; ok && !isNull(raw) {
		var list []addedTokenJSON
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("wordpiece: %s: \"additional_special_tokens\": %w", path, err)
		}
		opts.AdditionalSpecialTokens = opts.AdditionalSpecialTokens[:0]
		for _, a := range list {
			opts.AdditionalSpecialTokens = append(opts.AdditionalSpecialTokens, a.Content)
		}
	}
	return nil
}

// decodeConfig decodes the file f into v; a missing file leaves v untouched.
func decodeConfig(f tokenutil.ConfigFile, v any) error {
	if _, err := f.Decode(v); err != nil {
		return fmt.Errorf("wordpiece: parsing %w", err)
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
