package sentencepiece

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// tokenizerJSON is the part of a HuggingFace tokenizer.json that a Unigram
// (sentencepiece-converted) tokenizer uses.
type tokenizerJSON struct {
	AddedTokens  []addedTokenJSON `json:"added_tokens"`
	Normalizer   *componentJSON   `json:"normalizer"`
	PreTokenizer *componentJSON   `json:"pre_tokenizer"`
	Model        struct {
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
