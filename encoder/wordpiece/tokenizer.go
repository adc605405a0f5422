package wordpiece

import (
	"fmt"
	"sort"
	"strings"
)

// Options are the settings of HF's BertTokenizer (tokenizer_config.json keys in
// parentheses). The zero value is not BERT's default: start from
// DefaultOptions.
type Options struct {
	LowerCase     bool  // do_lower_case
	StripAccents  *bool // strip_accents; nil follows LowerCase (NFD, then drop Mn marks)
	ChineseChars  bool  // tokenize_chinese_chars: surround CJK ideographs with spaces
	BasicTokenize bool  // do_basic_tokenize: clean, split on whitespace and punctuation before WordPiece

	// NeverSplit (never_split) lists words the basic tokenizer keeps whole,
	// neither lower-cased nor split on punctuation, and WordPiece leaves alone.
	NeverSplit []string

	// MaxInputCharsPerWord: longer words (in characters) become [UNK]; 0 means 100.
	MaxInputCharsPerWord int
	// Prefix marks word continuations in the vocabulary; "" means "##".
	Prefix string

	// Special tokens (unk_token, sep_token, pad_token, cls_token, mask_token);
	// "" means BERT's "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]".
	UnkToken, SepToken, PadToken, ClsToken, MaskToken string
	// AdditionalSpecialTokens (additional_special_tokens) are special too.
	AdditionalSpecialTokens []string
	// AddedTokens (added_tokens_decoder) are matched in the raw text before any
	// other step and kept whole. Special tokens missing here are added with
	// their vocabulary id, or the next free id when the vocabulary lacks them.
	AddedTokens []AddedToken

	// ModelMaxLength (model_max_length) is reported by ModelMaxLength; Encode
	// truncates only to the maxLen it is given.
	ModelMaxLength int
	// CleanUpSpaces (clean_up_tokenization_spaces) makes Decode remove the
	// space before punctuation and English contractions.
	CleanUpSpaces bool
}

// DefaultOptions returns BertTokenizer's defaults: lower-casing on, accents
// following it, CJK splitting on, basic tokenization on, BERT's special
// tokens, Decode cleaning up spaces.
func DefaultOptions() Options {
	return Options{LowerCase: true, ChineseChars: true, BasicTokenize: true, CleanUpSpaces: true}
}

// AddedToken is one entry of HF's added_tokens_decoder.
type AddedToken struct {
	Content    string
	ID         int
	Special    bool // HF's special flag (Decode skips the special-token attributes, not this flag)
	Normalized bool // a non-special normalized token is matched as written, before lower-casing
	LStrip     bool // eats the whitespace on its left
	RStrip     bool // eats the whitespace on its right
	SingleWord bool // matches only when not glued to a word
}

// Tokenizer is a BERT WordPiece tokenizer. It is safe for concurrent use.
type Tokenizer struct {
	lower, strip, chinese, basic bool
	maxChars                     int
	prefix                       string
	cleanUp                      bool
	modelMaxLen                  int

	idToToken map[int]string // sparse: tokenizer.json ids and added tokens may leave gaps
	size      int            // largest id + 1
	vocabLen  int            // len(vocab) in HF: distinct tokens of the vocabulary
	words     map[string]int // vocabulary token → id (added tokens' ids win)
	conts     map[string]int // continuation piece without its prefix → id

	added        map[string]AddedToken // by content
	addedFirst   [256]bool             // first bytes of added tokens
	protected    []string              // kept out of the pre-lower-casing, in HF's order
	protectFirst [256]bool
	basicKeep    map[string]bool // never_split ∪ special tokens (BasicTokenizer)
	neverSplit   map[string]bool // never_split (WordPiece bypass)
	specialIDs   map[int]bool
	legacyAdded  map[string]bool // non-special added tokens, decoded on their own

	unk, cls, sep, pad, mask           string
	unkID, clsID, sepID, padID, maskID int
}

// New builds a tokenizer from a vocabulary (token i has id i, as the lines of
// vocab.txt) and options. Special tokens missing from the vocabulary get the
// next free ids, as HF adds them. It fails on an empty vocabulary or an added
// token without content or with a negative id.
func New(vocab []string, opts Options) (*Tokenizer, error) {
	if len(vocab) == 0 {
		return nil, fmt.Errorf("wordpiece: empty vocabulary")
	}
	return build(linesTable(vocab), opts)
}

// linesTable is the id table of vocab.txt's lines: token i has id i.
func linesTable(lines []string) map[int]string {
	ids := make(map[int]string, len(lines))
	for i, l := range lines {
		ids[i] = l
	}
	return ids
}

// build does New's work on an id table that may have gaps (tokenizer.json
// vocabularies). It is a map, never a slice sized by the largest id, so that
// an id read from a file sizes no allocation.
func build(idToToken map[int]string, opts Options) (*Tokenizer, error) {
	t := &Tokenizer{
		lower:       opts.LowerCase,
		strip:       opts.LowerCase,
		chinese:     opts.ChineseChars,
		basic:       opts.BasicTokenize,
		maxChars:    opts.MaxInputCharsPerWord,
		prefix:      opts.Prefix,
		cleanUp:     opts.CleanUpSpaces,
		modelMaxLen: opts.ModelMaxLength,
		idToToken:   idToToken,
		unk:         orDefault(opts.UnkToken, "[UNK]"),
		sep:         orDefault(opts.SepToken, "[SEP]"),
		pad:         orDefault(opts.PadToken, "[PAD]"),
		cls:         orDefault(opts.ClsToken, "[CLS]"),
		mask:        orDefault(opts.MaskToken, "[MASK]"),
	}
	if opts.StripAccents != nil {
		t.strip = *opts.StripAccents
	}
	if t.maxChars <= 0 {
		t.maxChars = 100
	}
	if t.prefix == "" {
		t.prefix = "##"
	}

	// The vocabulary: a later duplicate line wins, as in HF's load_vocab.
	t.words = make(map[string]int, len(idToToken))
	for id, tok := range idToToken {
		if prev, ok := t.words[tok]; !ok || id > prev {
			t.words[tok] = id
		}
		t.size = max(t.size, id+1)
	}
	t.vocabLen = len(t.words)

	specials := dedupe(append([]string{t.unk, t.sep, t.pad, t.cls, t.mask}, opts.AdditionalSpecialTokens...))
	added, err := t.addTokens(opts.AddedTokens, specials)
	if err != nil {
		return nil, err
	}

	// Continuation pieces, keyed without the prefix so that lookups need no allocation.
	t.conts = make(map[string]int)
	for tok, id := range t.words {
		if strings.HasPrefix(tok, t.prefix) && len(tok) > len(t.prefix) {
			t.conts[tok[len(t.prefix):]] = id
		}
	}

	t.classify(added, specials, opts)
	t.unkID = t.added[t.unk].ID
	t.clsID = t.tokenID(t.cls)
	t.sepID = t.tokenID(t.sep)
	t.padID = t.tokenID(t.pad)
	t.maskID = t.tokenID(t.mask)
	return t, nil
}

// addTokens registers the added tokens of the config, then the special
// tokens still missing, in HF's order (SPECIAL_TOKENS_ATTRIBUTES): with their
// vocabulary id, or the next free id. It returns all of them, by id.
func (t *Tokenizer) addTokens(fromConfig []AddedToken, specials []string) ([]AddedToken, error) {
	t.added = make(map[string]AddedToken)
	list := append([]AddedToken(nil), fromConfig...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	for _, a := range list {
		if a.Content == "" || a.ID < 0 || a.ID > maxID {
			return nil, fmt.Errorf("wordpiece: added token %q with id %d: need a non-empty content and an id in 0..%d", a.Content, a.ID, maxID)
		}
		t.added[a.Content] = a
		t.setID(a.ID, a.Content)
	}
	for _, s := range specials {
		if _, ok := t.added[s]; ok {
			continue
		}
		id, ok := t.words[s]
		if !ok {
			id = t.size // len(tokenizer), as HF's _add_tokens
			t.setID(id, s)
		}
		a := AddedToken{Content: s, ID: id, Special: true}
		t.added[s] = a
		list = append(list, a)
	}
	for _, a := range list {
		if _, inVocab := t.words[a.Content]; inVocab {
			t.words[a.Content] = a.ID // convert_tokens_to_ids looks at added tokens first
		}
		t.addedFirst[a.Content[0]] = true
	}
	return list, nil
}

// classify derives the token sets that tokenizing and decoding consult.
func (t *Tokenizer) classify(added []AddedToken, specials []string, opts Options) {
	isSpecial := make(map[string]bool)
	for _, s := range specials {
		isSpecial[s] = true
	}

	// Decoding: all_special_ids are the special-token attributes' ids; the
	// other added tokens (and additional specials beyond the vocabulary) are
	// HF's legacy_added_tokens.
	t.specialIDs = make(map[int]bool)
	t.legacyAdded = make(map[string]bool)
	for _, a := range added {
		if isSpecial[a.Content] {
			t.specialIDs[t.added[a.Content].ID] = true
		} else {
			t.legacyAdded[a.Content] = true
		}
	}
	for _, s := range opts.AdditionalSpecialTokens {
		if t.added[s].ID >= t.vocabLen {
			t.legacyAdded[s] = true
		}
	}

	// Pre-lower-casing keeps the special tokens and the non-special
	// normalized added tokens as written.
	t.protected = append([]string(nil), specials...)
	for _, a := range added {
		if !a.Special && a.Normalized && !isSpecial[a.Content] {
			t.protected = append(t.protected, a.Content)
		}
	}
	for _, p := range t.protected {
		t.protectFirst[p[0]] = true
	}

	// The basic tokenizer never splits never_split words nor special tokens;
	// WordPiece leaves only never_split words alone.
	t.neverSplit = make(map[string]bool)
	t.basicKeep = make(map[string]bool)
	for _, w := range opts.NeverSplit {
		if w != "" {
			t.neverSplit[w] = true
			t.basicKeep[w] = true
		}
	}
	for _, s := range specials {
		t.basicKeep[s] = true
	}
}

// maxID bounds the ids a tokenizer accepts: HF's tokenizers keeps ids in a
// u32, genq in int32 (2^31 - 1). No allocation is sized by an id.
const maxID = 1<<31 - 1

// setID records tok as the token of id.
func (t *Tokenizer) setID(id int, tok string) {
	t.idToToken[id] = tok
	t.size = max(t.size, id+1)
}

// lookup is convert_tokens_to_ids without the fallback: added tokens, then the vocabulary.
func (t *Tokenizer) lookup(tok string) (int, bool) {
	if a, ok := t.added[tok]; ok {
		return a.ID, true
	}
	id, ok := t.words[tok]
	return id, ok
}

// tokenID is convert_tokens_to_ids: unknown tokens map to [UNK].
func (t *Tokenizer) tokenID(tok string) int {
	if id, ok := t.lookup(tok); ok {
		return id
	}
	return t.unkID
}

// PadID returns the id of [PAD].
func (t *Tokenizer) PadID() int { return t.padID }

// ClsID returns the id of [CLS].
func (t *Tokenizer) ClsID() int { return t.clsID }

// SepID returns the id of [SEP].
func (t *Tokenizer) SepID() int { return t.sepID }

// UnkID returns the id of [UNK].
func (t *Tokenizer) UnkID() int { return t.unkID }

// MaskID returns the id of [MASK].
func (t *Tokenizer) MaskID() int { return t.maskID }

// VocabSize returns the number of ids: the vocabulary's lines plus added
// tokens beyond them (HF's len(tokenizer) when the lines are distinct), the
// row count an embedding matrix needs.
func (t *Tokenizer) VocabSize() int { return t.size }

// ModelMaxLength returns model_max_length from the tokenizer config (0 if unknown).
func (t *Tokenizer) ModelMaxLength() int { return t.modelMaxLen }

// TokenID returns the id of a token as convert_tokens_to_ids does ([UNK]'s id
// for a token not in the vocabulary).
func (t *Tokenizer) TokenID(tok string) int { return t.tokenID(tok) }

// IDToken returns the token of an id ([UNK] for an id out of range).
func (t *Tokenizer) IDToken(id int) string {
	if tok, ok := t.idToToken[id]; ok {
		return tok
	}
	return t.unk
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0]
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
