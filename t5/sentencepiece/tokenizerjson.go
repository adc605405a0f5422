package sentencepiece

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// tokenizerJSON is the part of a HuggingFace tokenizer.json that a Unigram
// (sentencepiece-converted) tokenizer uses.
type tokenizerJSON struct {
	AddedTokens  []addedTokenJSON `json:"added_tokens"`
	Normalizer   *componentJSON   `json:"normalizer"`
	PreTokenizer *componentJSON   `json:"pre_tokenizer"`
	// PostProcessor is T5's TemplateProcessing "$A </s>".
	PostProcessor *struct {
		Type   string `json:"type"`
		Single []struct {
			Sequence     *struct{} `json:"Sequence"`
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
		} `json:"single"`
	} `json:"post_processor"`
	Model struct {
		Type         string            `json:"type"`
		UnkID        *int              `json:"unk_id"`
		Vocab        []json.RawMessage `json:"vocab"`
		ByteFallback bool              `json:"byte_fallback"`
	} `json:"model"`
}

// componentJSON is a normalizer or pre-tokenizer, possibly a Sequence of them.
type componentJSON struct {
	Type                string          `json:"type"`
	Normalizers         []componentJSON `json:"normalizers"`
	Pretokenizers       []componentJSON `json:"pretokenizers"`
	PrecompiledCharsmap string          `json:"precompiled_charsmap"`
	Pattern             struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content        string  `json:"content"`
	Replacement    string  `json:"replacement"`
	AddPrefixSpace *bool   `json:"add_prefix_space"`
	PrependScheme  *string `json:"prepend_scheme"`
}

// flatten lists a component and the members of Sequences, depth first.
func (c *componentJSON) flatten() []componentJSON {
	if c == nil {
		return nil
	}
	if c.Type != "Sequence" {
		return []componentJSON{*c}
	}
	var out []componentJSON
	for i := range c.Normalizers {
		out = append(out, c.Normalizers[i].flatten()...)
	}
	for i := range c.Pretokenizers {
		out = append(out, c.Pretokenizers[i].flatten()...)
	}
	return out
}

// loadTokenizerJSON rebuilds the sentencepiece model that a tokenizer.json
// with a Unigram model was converted from (T5TokenizerFast's file) and puts
// the HuggingFace layer on it. The Precompiled normalizer becomes the charsmap;
// Replace(" {2,}" → " "), Strip and WhitespaceSplit mean sentencepiece's
// remove_extra_whitespaces; Metaspace with a prefix space means
// add_dummy_prefix; special added tokens inside the vocabulary are control
// pieces.
func loadTokenizerJSON(b []byte, cfg hfConfig) (*Tokenizer, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, err
	}
	if tj.Model.Type != "Unigram" {
		return nil, fmt.Errorf("model type %q is not supported: a T5 tokenizer.json has a Unigram model", tj.Model.Type)
	}
	if tj.Model.UnkID == nil {
		return nil, fmt.Errorf("the Unigram model has no unk_id")
	}
	if p := tj.PostProcessor; p != nil {
		if p.Type != "TemplateProcessing" || len(p.Single) != 2 || p.Single[0].Sequence == nil ||
			p.Single[1].SpecialToken == nil || p.Single[1].SpecialToken.ID != cfg.eos {
			return nil, fmt.Errorf("the post-processor is not T5's TemplateProcessing \"$A %s\"", cfg.eos)
		}
	}
	mp := &modelProto{trainer: defaultTrainerSpec(), normalizer: defaultNormalizerSpec()}
	mp.trainer.byteFallback = tj.Model.ByteFallback
	mp.normalizer.removeExtraWhitespaces = false
	mp.normalizer.addDummyPrefix = false

	special := map[string]bool{}
	var extra []addedToken
	for _, a := range tj.AddedTokens {
		if a.ID == nil {
			return nil, fmt.Errorf("added token %q has no id", a.Content)
		}
		extra = append(extra, a.token(*a.ID))
		if a.Special {
			special[a.Content] = true
		}
	}
	for id, raw := range tj.Model.Vocab {
		var entry []json.RawMessage
		var p protoPiece
		if err := json.Unmarshal(raw, &entry); err != nil || len(entry) != 2 {
			return nil, fmt.Errorf("model.vocab[%d] is not a [piece, score] pair", id)
		}
		var score float64
		if err := json.Unmarshal(entry[0], &p.piece); err != nil {
			return nil, fmt.Errorf("model.vocab[%d]: %w", id, err)
		}
		if err := json.Unmarshal(entry[1], &score); err != nil {
			return nil, fmt.Errorf("model.vocab[%d]: %w", id, err)
		}
		p.score = float32(score)
		p.typ = typeNormal
		_, isByte := pieceByte(p.piece)
		switch {
		case id == *tj.Model.UnkID:
			p.typ = typeUnknown
			mp.trainer.unkPiece = p.piece
		case special[p.piece]:
			p.typ = typeControl
		case isByte && tj.Model.ByteFallback:
			p.typ = typeByte
		}
		mp.pieces = append(mp.pieces, p)
	}

	for _, n := range tj.Normalizer.flatten() {
		switch n.Type {
		case "Precompiled":
			cm, err := base64.StdEncoding.DecodeString(n.PrecompiledCharsmap)
			if err != nil {
				return nil, fmt.Errorf("normalizer Precompiled: precompiled_charsmap is not base64: %w", err)
			}
			mp.normalizer.precompiledCharsmap = cm
		case "Replace":
			if n.Pattern.Regex != nil && *n.Pattern.Regex == " {2,}" && n.Content == " " {
				mp.normalizer.removeExtraWhitespaces = true
				continue
			}
			return nil, fmt.Errorf("normalizer Replace %+v is not a sentencepiece normalization", n.Pattern)
		case "Strip":
			mp.normalizer.removeExtraWhitespaces = true
		default:
			return nil, fmt.Errorf("normalizer %q is not supported (a T5 tokenizer.json has Precompiled, Replace and Strip)", n.Type)
		}
	}
	for _, p := range tj.PreTokenizer.flatten() {
		switch p.Type {
		case "WhitespaceSplit":
			mp.normalizer.removeExtraWhitespaces = true
		case "Metaspace":
			if p.Replacement != "" && p.Replacement != spaceSymbol {
				return nil, fmt.Errorf("pre_tokenizer Metaspace replaces spaces with %q; sentencepiece uses %q", p.Replacement, spaceSymbol)
			}
			switch {
			case p.PrependScheme != nil:
				mp.normalizer.addDummyPrefix = *p.PrependScheme != "never"
			case p.AddPrefixSpace != nil:
				mp.normalizer.addDummyPrefix = *p.AddPrefixSpace
			default:
				mp.normalizer.addDummyPrefix = true
			}
		default:
			return nil, fmt.Errorf("pre_tokenizer %q is not supported (a T5 tokenizer.json has Metaspace, possibly after WhitespaceSplit)", p.Type)
		}
	}
	// The converter appends the sentinels to the Unigram vocabulary; the slow
	// tokenizer keeps them out of sentencepiece as added tokens. Drop that
	// tail so the model has the pieces spiece.model has.
	addedAt := map[int]string{}
	for _, a := range extra {
		addedAt[a.id] = a.content
	}
	for n := len(mp.pieces); n > 0; n-- {
		if c, ok := addedAt[n-1]; !ok || c != mp.pieces[n-1].piece || n-1 == *tj.Model.UnkID {
			break
		}
		mp.pieces = mp.pieces[:n-1]
	}
	sp, err := newModel(mp)
	if err != nil {
		return nil, err
	}
	return newTokenizer(sp, cfg, extra)
}

// LoadTokenizerJSON reads a T5 tokenizer from a fast tokenizer's
// tokenizer.json on its own (T5TokenizerFast's file, as transformers'
// T5Converter writes it): the Unigram model with its scores, the Precompiled
// normalizer with the whitespace handling of its Replace and Strip
// normalizers, the Metaspace pre-tokenizer, the "$A </s>" post-processor and
// the added tokens. The sentencepiece model it was converted from is rebuilt
// from them, so the tokenizer encodes as T5Tokenizer does on spiece.model.
// Settings found only in tokenizer_config.json keep T5Tokenizer's defaults
// (</s>, <pad>, <unk>, 100 sentinels, cleaned-up decoding); Load reads them
// from a model folder.
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	t, err := loadTokenizerJSON(b, defaultHFConfig())
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %s: %w", path, err)
	}
	return t, nil
}

// WriteTokenizerJSON writes the tokenizer as the tokenizer.json of a fast
// tokenizer, as transformers' T5Converter builds it from spiece.model: a
// Unigram model over the sentencepiece pieces and their scores, with the
// added tokens beyond them (T5's sentinels) appended with score 0; the
// Precompiled charsmap normalizer; a Metaspace pre-tokenizer (after
// WhitespaceSplit when sentencepiece removes extra whitespace, as in the
// hub's t5-base tokenizer.json) and decoder that add the "▁" prefix when
// sentencepiece does; the "$A </s>" / "$A </s> $B </s>"
// TemplateProcessing and the added tokens. LoadTokenizerJSON reads the file
// back into a tokenizer that tokenizes as t does. A model with user-defined
// pieces, or with added tokens that do not follow the pieces' ids, is an
// error.
func (t *Tokenizer) WriteTokenizerJSON(w io.Writer) error {
	sp := t.sp
	vocab := make([][2]any, 0, sp.size()+len(t.added))
	for id, p := range sp.pieces {
		if p.typ == typeUserDefined {
			return fmt.Errorf("sentencepiece: piece %d %q is user-defined; tokenizer.json has no form for it", id, p.piece)
		}
		vocab = append(vocab, [2]any{p.piece, float64(p.score)})
	}
	added := make([]map[string]any, 0, len(t.added))
	for _, a := range t.added { // in id order
		if a.id >= sp.size() {
			if a.id != len(vocab) {
				return fmt.Errorf("sentencepiece: added token %q has id %d; tokenizer.json needs the next id, %d", a.content, a.id, len(vocab))
			}
			vocab = append(vocab, [2]any{a.content, 0.0})
		}
		added = append(added, map[string]any{"id": a.id, "content": a.content, "single_word": a.singleWord,
			"lstrip": a.lstrip, "rstrip": a.rstrip, "normalized": false, "special": a.special})
	}
	var norms []any
	if len(sp.charsMap) > 0 {
		norms = append(norms, map[string]any{"type": "Precompiled",
			"precompiled_charsmap": base64.StdEncoding.EncodeToString(sp.charsMap)})
	}
	scheme := "never"
	if sp.norm.addDummyPrefix {
		scheme = "always"
	}
	metaspace := map[string]any{"type": "Metaspace", "replacement": spaceSymbol, "add_prefix_space": sp.norm.addDummyPrefix,
		"prepend_scheme": scheme, "split": true}
	preTok := any(metaspace)
	if sp.norm.removeExtraWhitespaces {
		preTok = map[string]any{"type": "Sequence", "pretokenizers": []any{map[string]any{"type": "WhitespaceSplit"}, metaspace}}
	}
	eos := t.IDToPiece(t.eosID)
	seqA := map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}
	seqB := map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 0}}
	end := map[string]any{"SpecialToken": map[string]any{"id": eos, "type_id": 0}}
	tj := map[string]any{
		"version":       "1.0",
		"truncation":    nil,
		"padding":       nil,
		"added_tokens":  added,
		"normalizer":    map[string]any{"type": "Sequence", "normalizers": norms},
		"pre_tokenizer": preTok,
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single": []any{seqA, end}, "pair": []any{seqA, end, seqB, end},
			"special_tokens": map[string]any{eos: map[string]any{"id": eos, "ids": []int{t.eosID}, "tokens": []string{eos}}}},
		"decoder": metaspace,
		"model":   map[string]any{"type": "Unigram", "unk_id": sp.unkID, "vocab": vocab, "byte_fallback": sp.byteFall},
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tj); err != nil {
		return fmt.Errorf("sentencepiece: writing tokenizer.json: %w", err)
	}
	return nil
}
