package sugarme

import (
	"errors"
	"fmt"
	"sync"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// ErrPanicked is wrapped by the errors of calls in which the sugarme
// tokenizer panicked; the error also says what the panic was.
var ErrPanicked = errors.New("the sugarme tokenizer panicked")

// Tokenizer adapts a sugarme *tokenizer.Tokenizer to genq's tokenizer
// interfaces: it is a t5.Tokenizer (Encode, Decode) and an encoder.Tokenizer
// (EncodeBatch). It is safe for concurrent use: calls into the sugarme
// tokenizer take turns.
type Tokenizer struct {
	mu     sync.Mutex
	tk     *tokenizer.Tokenizer
	padID  int
	hasPad bool
}

// New adapts tk. The pad id EncodeBatch pads with is the one of tk's padding
// settings, or else the id of "[PAD]" or "<pad>", whichever the vocabulary
// has first. tk's own truncation and padding settings are not used: the
// lengths are the methods' arguments. tk must not be changed after New.
func New(tk *tokenizer.Tokenizer) (*Tokenizer, error) {
	if tk == nil {
		return nil, errors.New("sugarme: New got a nil tokenizer")
	}
	t := &Tokenizer{tk: tk}
	err := t.guard(func() error {
		if p := tk.GetPadding(); p != nil {
			t.padID, t.hasPad = p.PadId, true
			return nil
		}
		for _, pad := range []string{"[PAD]", "<pad>"} {
			if id, ok := tk.TokenToId(pad); ok {
				t.padID, t.hasPad = id, true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sugarme: New: %w", err)
	}
	return t, nil
}

// Load reads a tokenizer.json (a Hugging Face fast tokenizer's file: BPE,
// WordPiece, WordLevel or Unigram models) with sugarme's pretrained.FromFile
// and adapts it with New.
func Load(path string) (*Tokenizer, error) {
	var tk *tokenizer.Tokenizer
	err := (&Tokenizer{}).guard(func() (err error) {
		tk, err = pretrained.FromFile(path)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sugarme: loading %s: %w", path, err)
	}
	return New(tk)
}

// PadID returns the id EncodeBatch pads with, and whether there is one.
func (t *Tokenizer) PadID() (int, bool) { return t.padID, t.hasPad }

// Encode returns the ids of text with the special tokens the tokenizer's
// post-processor adds ("$A </s>" for T5, "[CLS] $A [SEP]" for BERT, "<s> $A
// </s>" for RoBERTa). maxLen > 0 truncates the text's tokens so that the
// result, special tokens included, has at most maxLen ids; a maxLen that
// leaves no room for one text token is an error.
func (t *Tokenizer) Encode(text string, maxLen int) ([]int, error) {
	enc, err := t.encode(text, maxLen)
	if err != nil {
		return nil, err
	}
	return enc.Ids, nil
}

// encode is Encode, returning the whole sugarme encoding.
func (t *Tokenizer) encode(text string, maxLen int) (*tokenizer.Encoding, error) {
	var out *tokenizer.Encoding
	err := t.guard(func() error {
		enc, err := t.tk.EncodeSingle(text, false)
		if err != nil {
			return err
		}
		proc := t.tk.GetPostProcessor()
		if maxLen > 0 {
			added := 0
			if proc != nil {
				added = proc.AddedTokens(false)
			}
			keep := maxLen - added
			if keep < 1 {
				return fmt.Errorf("maxLen %d leaves no room for text beside the %d special tokens", maxLen, added)
			}
			if enc, err = enc.Truncate(keep, 0); err != nil {
				return err
			}
			enc.Overflowing = nil
		}
		if proc != nil {
			enc = proc.Process(enc, nil, true)
		}
		out = enc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sugarme: encoding %.40q: %w", text, err)
	}
	return out, nil
}

// Decode turns ids back into text with the tokenizer's decoder, dropping
// special tokens when skipSpecial.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	var s string
	err := t.guard(func() error {
		s = t.tk.Decode(ids, skipSpecial)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("sugarme: decoding %v: %w", ids, err)
	}
	return s, nil
}

// EncodeBatch encodes every text as Encode does, one at a time (sugarme's
// own EncodeBatch exits the process on an error), and right-pads the rows to
// the longest with PadID: ids, typeIDs (the post-processor's type ids, 0 on
// padding) and mask (1 on tokens, 0 on padding). It fails on the first text
// that fails, naming it, and when rows need padding but the tokenizer has no
// pad token.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) (ids, typeIDs, mask [][]int, err error) {
	encs := make([]*tokenizer.Encoding, len(texts))
	width := 0
	for i, text := range texts {
		if encs[i], err = t.encode(text, maxLen); err != nil {
			return nil, nil, nil, fmt.Errorf("text %d: %w", i, err)
		}
		width = max(width, len(encs[i].Ids))
	}
	ids, typeIDs, mask = make([][]int, len(texts)), make([][]int, len(texts)), make([][]int, len(texts))
	for i, e := range encs {
		n := len(e.Ids)
		if n < width && !t.hasPad {
			return nil, nil, nil, errors.New("sugarme: the texts need padding but the tokenizer has no pad token ([PAD] or <pad>, or padding settings)")
		}
		ids[i], typeIDs[i], mask[i] = make([]int, width), make([]int, width), make([]int, width)
		copy(ids[i], e.Ids)
		copy(typeIDs[i], e.TypeIds)
		for j := range width {
			if j < n {
				mask[i][j] = 1
			} else {
				ids[i][j] = t.padID
			}
		}
	}
	return ids, typeIDs, mask, nil
}

// guard runs f with the tokenizer to itself and turns a panic into an error
// wrapping ErrPanicked.
func (t *Tokenizer) guard(f func() error) (err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return f()
}
