package wordpiece

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// tokenizerJSON is the part of a fast tokenizer's tokenizer.json that a
// WordPiece tokenizer reads and writes (the file of transformers'
// BertTokenizerFast, as convert_slow_tokenizer.BertConverter builds it).
type tokenizerJSON struct {
	Version       string            `json:"version"`
	Truncation    any               `json:"truncation"`
	Padding       *paddingJSON      `json:"padding"`
	AddedTokens   []addedTokenEntry `json:"added_tokens"`
	Normalizer    *normalizerJSON   `json:"normalizer"`
	PreTokenizer  *typeJSON         `json:"pre_tokenizer"`
	PostProcessor *processorJSON    `json:"post_processor"`
	Decoder       *decoderJSON      `json:"decoder"`
	Model         modelJSON         `json:"model"`
}

// addedTokenEntry is one entry of tokenizer.json's added_tokens.
type addedTokenEntry struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type paddingJSON struct {
	PadToken string `json:"pad_token"`
}

type typeJSON struct {
	Type string `json:"type"`
}

type normalizerJSON struct {
	Type               string `json:"type"`
	CleanText          *bool  `json:"clean_text"`
	HandleChineseChars *bool  `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          *bool  `json:"lowercase"`
}

// processorJSON is a BertProcessing or TemplateProcessing post-processor.
type processorJSON struct {
	Type string `json:"type"`
	// BertProcessing: [token, id] pairs.
	Sep []any `json:"sep,omitempty"`
	Cls []any `json:"cls,omitempty"`
	// TemplateProcessing.
	Single        []templatePiece         `json:"single,omitempty"`
	Pair          []templatePiece         `json:"pair,omitempty"`
	SpecialTokens map[string]templateSpec `json:"special_tokens,omitempty"`
}

// templatePiece is one element of a TemplateProcessing template: a special
// token or a sequence ("A" or "B"), with its type id.
type templatePiece struct {
	SpecialToken *templateRef `json:"SpecialToken,omitempty"`
	Sequence     *templateRef `json:"Sequence,omitempty"`
}

type templateRef struct {
	ID     string `json:"id"`
	TypeID int    `json:"type_id"`
}

type templateSpec struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

type decoderJSON struct {
	Type    string `json:"type"`
	Prefix  string `json:"prefix"`
	Cleanup *bool  `json:"cleanup"`
}

type modelJSON struct {
	Type                    string         `json:"type"`
	UnkToken                string         `json:"unk_token"`
	ContinuingSubwordPrefix string         `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int            `json:"max_input_chars_per_word"`
	Vocab                   map[string]int `json:"vocab"`
}

// LoadTokenizerJSON reads a BERT / DistilBERT tokenizer from a fast
// tokenizer's tokenizer.json on its own (BertTokenizerFast's file): the
// WordPiece model (vocabulary, unk_token, continuation prefix, longest word),
// the BertNormalizer settings (lowercase, strip_accents — null follows
// lowercase —, handle_chinese_chars; clean_text must be true, as
// BertTokenizer always cleans), the BertPreTokenizer, the [CLS] and [SEP]
// tokens of the BertProcessing or TemplateProcessing post-processor, the pad
// token of the padding settings, the WordPiece decoder's cleanup flag and
// the added tokens. Other components (a BPE or Unigram model, other
// normalizers or post-processors) are errors: package
// github.com/genq-go/genq/encoder/sugarme tokenizes with those. The
// truncation and padding lengths are not read: Encode and EncodeBatch take
// the length. Settings found only in tokenizer_config.json (model_max_length,
// a [MASK] token other than "[MASK]") keep BertTokenizer's defaults; Load
// reads them from a model folder.
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	opts := DefaultOptions()
	vocab, err := parseTokenizerJSON(data, &opts)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %s: %w", path, err)
	}
	t, err := build(vocab, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return t, nil
}

// parseTokenizerJSON reads the vocabulary (an id table that may have gaps)
// of a tokenizer.json and its settings into opts.
func parseTokenizerJSON(data []byte, opts *Options) (map[int]string, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, err
	}
	if tj.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("the model is %q, not WordPiece (package sugarme tokenizes with other models)", tj.Model.Type)
	}
	if n := tj.Normalizer; n != nil {
		if n.Type != "BertNormalizer" {
			return nil, fmt.Errorf("the normalizer is %q; only BertNormalizer is supported (add the model's vocab.txt to use BertTokenizer's)", n.Type)
		}
		if n.CleanText != nil && !*n.CleanText {
			return nil, fmt.Errorf("the BertNormalizer has clean_text false; BertTokenizer always cleans the text")
		}
		if n.Lowercase != nil {
			opts.LowerCase = *n.Lowercase
		}
		opts.StripAccents = n.StripAccents
		if n.HandleChineseChars != nil {
			opts.ChineseChars = *n.HandleChineseChars
		}
	}
	if p := tj.PreTokenizer; p != nil && p.Type != "BertPreTokenizer" {
		return nil, fmt.Errorf("the pre-tokenizer is %q; only BertPreTokenizer is supported", p.Type)
	}
	if err := readProcessor(tj.PostProcessor, opts); err != nil {
		return nil, err
	}
	if p := tj.Padding; p != nil && p.PadToken != "" {
		opts.PadToken = p.PadToken
	}
	if d := tj.Decoder; d != nil {
		if d.Type != "WordPiece" {
			return nil, fmt.Errorf("the decoder is %q; only WordPiece is supported", d.Type)
		}
		if d.Cleanup != nil {
			opts.CleanUpSpaces = *d.Cleanup
		}
	}
	opts.UnkToken = tj.Model.UnkToken
	opts.Prefix = tj.Model.ContinuingSubwordPrefix
	opts.MaxInputCharsPerWord = tj.Model.MaxInputCharsPerWord

	vocab := make(map[int]string, len(tj.Model.Vocab))
	for tok, id := range tj.Model.Vocab {
		if id < 0 || id > maxID {
			return nil, fmt.Errorf("token %q has id %d, outside 0..%d", tok, id, maxID)
		}
		if prev, dup := vocab[id]; dup {
			return nil, fmt.Errorf("tokens %q and %q share id %d", prev, tok, id)
		}
		vocab[id] = tok
	}
	for _, a := range tj.AddedTokens {
		opts.AddedTokens = append(opts.AddedTokens, AddedToken{
			Content: a.Content, ID: a.ID, Special: a.Special, Normalized: a.Normalized,
			LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord,
		})
	}
	return vocab, nil
}

// readProcessor takes [CLS] and [SEP] from a BertProcessing post-processor or
// a TemplateProcessing one of BERT's shape ("[CLS]:0 $A:0 [SEP]:0"). Without a
// post-processor the defaults stay.
func readProcessor(p *processorJSON, opts *Options) error {
	if p == nil {
		return nil
	}
	switch p.Type {
	case "BertProcessing":
		cls, okC := tokenOfPair(p.Cls)
		sep, okS := tokenOfPair(p.Sep)
		if !okC || !okS {
			return fmt.Errorf("the BertProcessing post-processor needs cls and sep as [token, id] pairs")
		}
		opts.ClsToken, opts.SepToken = cls, sep
		return nil
	case "TemplateProcessing":
		s := p.Single
		if len(s) != 3 || s[0].SpecialToken == nil || s[1].Sequence == nil || s[2].SpecialToken == nil {
			return fmt.Errorf("the TemplateProcessing post-processor's single template is not BERT's [CLS] $A [SEP]")
		}
		for _, ref := range []*templateRef{s[0].SpecialToken, s[2].SpecialToken} {
			if spec, ok := p.SpecialTokens[ref.ID]; ok && (len(spec.Tokens) != 1 || spec.Tokens[0] != ref.ID) {
				return fmt.Errorf("the TemplateProcessing special token %q stands for %q; genq's WordPiece tokenizer adds single tokens", ref.ID, spec.Tokens)
			}
		}
		opts.ClsToken, opts.SepToken = s[0].SpecialToken.ID, s[2].SpecialToken.ID
		return nil
	default:
		return fmt.Errorf("the post-processor is %q; only BertProcessing and BERT's TemplateProcessing are supported", p.Type)
	}
}

// tokenOfPair reads the token of a BertProcessing ["[CLS]", 101] pair.
func tokenOfPair(pair []any) (string, bool) {
	if len(pair) != 2 {
		return "", false
	}
	s, ok := pair[0].(string)
	return s, ok && s != ""
}

// WriteTokenizerJSON writes the tokenizer as the tokenizer.json of a fast
// tokenizer, as transformers' convert_slow_tokenizer.BertConverter builds it:
// a WordPiece model over the vocabulary, a BertNormalizer with the
// tokenizer's lower-casing, accent and CJK settings, the BertPreTokenizer, a
// "[CLS]:0 $A:0 [SEP]:0" / "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"
// TemplateProcessing, the WordPiece decoder and the added tokens.
// The [PAD] and [MASK] tokens and model_max_length are not part of that file
// (tokenizer_config.json holds them). LoadTokenizerJSON reads the file back
// into a tokenizer that tokenizes as t does. Settings a
// tokenizer.json cannot hold are errors: do_basic_tokenize false and
// never_split words.
func (t *Tokenizer) WriteTokenizerJSON(w io.Writer) error {
	if !t.basic {
		return fmt.Errorf("wordpiece: a tokenizer without basic tokenization (do_basic_tokenize false) has no tokenizer.json form")
	}
	if len(t.neverSplit) > 0 {
		return fmt.Errorf("wordpiece: never_split words have no tokenizer.json form")
	}
	added := make([]addedTokenEntry, 0, len(t.added))
	for _, a := range t.added {
		added = append(added, addedTokenEntry{ID: a.ID, Content: a.Content, SingleWord: a.SingleWord,
			LStrip: a.LStrip, RStrip: a.RStrip, Normalized: a.Normalized, Special: a.Special})
	}
	sort.Slice(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	special := func(tok string, typeID int) templatePiece {
		return templatePiece{SpecialToken: &templateRef{ID: tok, TypeID: typeID}}
	}
	seq := func(id string, typeID int) templatePiece {
		return templatePiece{Sequence: &templateRef{ID: id, TypeID: typeID}}
	}
	tj := tokenizerJSON{
		Version:     "1.0",
		AddedTokens: added,
		Normalizer: &normalizerJSON{Type: "BertNormalizer", CleanText: ptr(true), HandleChineseChars: ptr(t.chinese),
			StripAccents: ptr(t.strip), Lowercase: ptr(t.lower)},
		PreTokenizer: &typeJSON{Type: "BertPreTokenizer"},
		PostProcessor: &processorJSON{
			Type:   "TemplateProcessing",
			Single: []templatePiece{special(t.cls, 0), seq("A", 0), special(t.sep, 0)},
			Pair:   []templatePiece{special(t.cls, 0), seq("A", 0), special(t.sep, 0), seq("B", 1), special(t.sep, 1)},
			SpecialTokens: map[string]templateSpec{
				t.cls: {ID: t.cls, IDs: []int{t.clsID}, Tokens: []string{t.cls}},
				t.sep: {ID: t.sep, IDs: []int{t.sepID}, Tokens: []string{t.sep}},
			},
		},
		Decoder: &decoderJSON{Type: "WordPiece", Prefix: t.prefix, Cleanup: ptr(t.cleanUp)},
		Model: modelJSON{Type: "WordPiece", UnkToken: t.unk, ContinuingSubwordPrefix: t.prefix,
			MaxInputCharsPerWord: t.maxChars, Vocab: t.words},
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tj); err != nil {
		return fmt.Errorf("wordpiece: writing tokenizer.json: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
