package sentencepiece

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Tokenizer is a T5 tokenizer: a sentencepiece Unigram model plus
// HuggingFace's added tokens (</s>, <pad>, <unk>, <extra_id_N>). It is safe
// for concurrent use.
type Tokenizer struct {
	sp        *model
	added     []addedToken   // the added tokens, in id order
	addedByID map[int]int    // id → index in added
	addedEnc  map[string]int // content → id
	addedTrie *pieceTrie     // contents → index in added

	specialIDs    map[int]bool    // all_special_ids
	specialTokens map[string]bool // all_special_tokens
	legacyAdded   map[string]bool // tokens _decode keeps out of convert_tokens_to_string

	eosID, padID, unkID int
	cleanUp             bool
	addPrefixSpace      bool
	length              int
	vocabSize           int // largest id + 1
}

// maxID bounds the ids of added tokens: sentencepiece's ids are int32.
const maxID = 1<<31 - 1

// Load reads a T5 tokenizer from a checkpoint folder: spiece.model when there
// is one (what the slow T5Tokenizer reads), else tokenizer.json with a Unigram
// model; plus tokenizer_config.json, special_tokens_map.json and
// added_tokens.json when present.
func Load(dir string) (*Tokenizer, error) {
	cfg, err := readHFConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	spPath := filepath.Join(dir, "spiece.model")
	b, err := os.ReadFile(spPath)
	switch {
	case err == nil:
		mp, err := parseModelProto(b)
		if err != nil {
			return nil, fmt.Errorf("sentencepiece: %s: %w", spPath, err)
		}
		sp, err := newModel(mp)
		if err != nil {
			return nil, fmt.Errorf("sentencepiece: %s: %w", spPath, err)
		}
		t, err := newTokenizer(sp, cfg, nil)
		if err != nil {
			return nil, fmt.Errorf("sentencepiece: %s: %w", dir, err)
		}
		return t, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	tjPath := filepath.Join(dir, "tokenizer.json")
	b, err = os.ReadFile(tjPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sentencepiece: %s has neither spiece.model nor tokenizer.json; point Load at a T5 checkpoint folder", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	t, err := loadTokenizerJSON(b, cfg)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %s: %w", tjPath, err)
	}
	return t, nil
}

// newTokenizer puts HuggingFace's layer on a sentencepiece model. extra are
// added tokens declared by tokenizer.json (they win over the defaults).
func newTokenizer(sp *model, cfg hfConfig, extra []addedToken) (*Tokenizer, error) {
	if !cfg.legacy {
		return nil, fmt.Errorf("tokenizer_config.json sets legacy=false; only the legacy T5 behaviour (every checkpoint saved before transformers 4.31, and the default) is implemented")
	}
	t := &Tokenizer{sp: sp, cleanUp: cfg.cleanUp, addPrefixSpace: cfg.addPrefixSpace}
	byID := map[int]addedToken{}

	// T5Tokenizer.__init__: the sentinels sit after the sentencepiece pieces,
	// <extra_id_0> last, stripping whitespace on both sides.
	additional, sentinels, err := sentinelTokens(cfg, sp.size())
	if err != nil {
		return nil, err
	}
	for i := 0; i < sentinels; i++ {
		id := sp.size() - 1 + max(cfg.extraIDs, sentinels) - i
		byID[id] = addedToken{content: fmt.Sprintf("<extra_id_%d>", i), id: id, lstrip: true, rstrip: true, special: true}
	}
	// The special tokens that are sentencepiece pieces keep their ids.
	for _, s := range []string{cfg.pad, cfg.eos, cfg.unk} {
		if s == "" {
			continue
		}
		id := sp.pieceToID(s)
		if sp.pieces[id].piece != s {
			continue // not in the sentencepiece vocabulary; declared elsewhere
		}
		if _, ok := byID[id]; !ok {
			byID[id] = addedToken{content: s, id: id, special: true}
		}
	}
	// Explicitly declared tokens win, also over a default at another id.
	override := func(a addedToken) {
		for id, b := range byID {
			if b.content == a.content && id != a.id {
				delete(byID, id)
			}
		}
		byID[a.id] = a
	}
	if !cfg.hasAddedDecoderKey && cfg.addedTokensFile != nil {
		specials := map[string]bool{cfg.eos: true, cfg.unk: true, cfg.pad: true}
		for _, a := range additional {
			specials[a] = true
		}
		for s, id := range cfg.addedTokensFile {
			override(addedToken{content: s, id: id, special: specials[s]})
		}
	}
	for _, a := range cfg.addedDecoder {
		override(a)
	}
	for _, a := range extra {
		override(a)
	}

	ids := make([]int, 0, len(byID))
	for id := range byID {
		if id < 0 || id > maxID {
			return nil, fmt.Errorf("added token %q has id %d, outside 0..%d", byID[id].content, id, maxID)
		}
		ids = append(ids, id)
	}
	sort.Ints(ids)
	t.vocabSize = sp.size()
	if len(ids) > 0 {
		t.vocabSize = max(t.vocabSize, ids[len(ids)-1]+1)
	}
	t.addedByID = map[int]int{}
	t.addedEnc = map[string]int{}
	for _, id := range ids {
		a := byID[id]
		if a.content == "" {
			return nil, fmt.Errorf("added token %d has empty content", id)
		}
		t.addedByID[id] = len(t.added)
		t.addedEnc[a.content] = id
		t.added = append(t.added, a)
	}
	if len(t.added) > 0 {
		t.addedTrie = newPieceTrie()
		for i, a := range t.added {
			t.addedTrie.insert(a.content, i)
		}
		t.addedTrie.freeze()
	}

	t.specialTokens = map[string]bool{}
	t.specialIDs = map[int]bool{}
	for _, s := range append([]string{cfg.eos, cfg.unk, cfg.pad}, additional...) {
		if s == "" {
			continue
		}
		t.specialTokens[s] = true
		t.specialIDs[t.tokenToID(s)] = true
	}
	// PreTrainedTokenizer._decode sends these through on their own: added
	// tokens that are not special, and additional special tokens outside the
	// sentencepiece vocabulary (T5's sentinels).
	t.legacyAdded = map[string]bool{}
	for _, a := range t.added {
		if !t.specialTokens[a.content] {
			t.legacyAdded[a.content] = true
		}
	}
	for _, s := range additional {
		if t.tokenToID(s) >= sp.size() {
			t.legacyAdded[s] = true
		}
	}

	t.eosID = t.tokenToID(cfg.eos)
	t.padID = t.tokenToID(cfg.pad)
	t.unkID = t.tokenToID(cfg.unk)

	// len(tokenizer): the distinct token strings of the vocabulary.
	seen := make(map[string]bool, sp.size()+len(t.added))
	for _, p := range sp.pieces {
		seen[p.piece] = true
	}
	for _, a := range t.added {
		seen[a.content] = true
	}
	t.length = len(seen)
	return t, nil
}

// tokenToID is convert_tokens_to_ids for one token: added tokens first, then
// the sentencepiece vocabulary (unk when absent).
func (t *Tokenizer) tokenToID(tok string) int {
	if id, ok := t.addedEnc[tok]; ok {
		return id
	}
	return t.sp.pieceToID(tok)
}

// PieceToID returns the id of a token (an added token or a sentencepiece
// piece), UnkID() when the vocabulary lacks it.
func (t *Tokenizer) PieceToID(piece string) int { return t.tokenToID(piece) }

// IDToPiece returns the token string of id (convert_ids_to_tokens), "" when id
// is outside the vocabulary.
func (t *Tokenizer) IDToPiece(id int) string {
	if i, ok := t.addedByID[id]; ok {
		return t.added[i].content
	}
	if id >= 0 && id < t.sp.size() {
		return t.sp.pieces[id].piece
	}
	return ""
}

// Len is len(tokenizer) in Python: the number of distinct tokens, sentencepiece
// pieces and added tokens together (32100 for T5).
func (t *Tokenizer) Len() int { return t.length }

// VocabSize is the number of ids the tokenizer can give: its largest id
// plus one, the rows a model's embedding needs (32100 for T5, whose
// checkpoints have 32128 rows).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// PadID is the id of <pad> (0 for T5), also the decoder start token.
func (t *Tokenizer) PadID() int { return t.padID }

// EOSID is the id of </s> (1 for T5).
func (t *Tokenizer) EOSID() int { return t.eosID }

// UnkID is the id of <unk> (2 for T5).
func (t *Tokenizer) UnkID() int { return t.unkID }

// sentinelTokens returns the additional special tokens and how many of them
// are sentinels, as T5Tokenizer.__init__ completes them: extra_ids sentinels
// when the config lists none. extra_ids may not exceed the size of the
// sentencepiece vocabulary, pieces, or T5's 100 when that is larger (T5 has
// 100 sentinels for 32000 pieces): the sentinels are made before any model
// config can bound them.
func sentinelTokens(cfg hfConfig, pieces int) (additional []string, sentinels int, err error) {
	if limit := max(pieces, defaultExtraIDs); cfg.extraIDs > limit {
		return nil, 0, fmt.Errorf("tokenizer_config.json: extra_ids is %d, more than the sentencepiece model's %d pieces allow (T5 checkpoints have %d); fix extra_ids", cfg.extraIDs, pieces, defaultExtraIDs)
	}
	additional = cfg.additional
	for _, a := range additional {
		if strings.Contains(a, "<extra_id_") {
			sentinels++
		}
	}
	if sentinels > 0 && cfg.extraIDs > 0 && sentinels != cfg.extraIDs {
		return nil, 0, fmt.Errorf("extra_ids is %d but additional_special_tokens lists %d <extra_id_N> tokens; they must agree (as T5Tokenizer requires)", cfg.extraIDs, sentinels)
	}
	if sentinels == 0 {
		for i := 0; i < cfg.extraIDs; i++ {
			additional = append(additional, fmt.Sprintf("<extra_id_%d>", i))
		}
		sentinels = max(cfg.extraIDs, 0)
	}
	return additional, sentinels, nil
}
