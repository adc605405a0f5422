package t5

// Save: the model and its tokenizer as a folder that transformers'
// T5ForConditionalGeneration.from_pretrained and T5Tokenizer.from_pretrained
// (and this package's Load) read back.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/genq-go/genq/internal/atomicfile"
	"github.com/genq-go/genq/internal/checkpoint"
)

// modelFiles are the files besides the weights that describe the model,
// kept as Load read them (config.json is required, the others optional).
var modelFiles = []string{"config.json", "generation_config.json"}

// tokenizerFiles are the files save_pretrained writes for a T5 tokenizer,
// kept as Load read them: the SentencePiece model, the tokenizer's settings
// and special tokens, and the fast tokenizer's tokenizer.json where the
// folder had one.
var tokenizerFiles = []string{"spiece.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json"}

// keepFiles reads the model's and the tokenizer's files from dir, the folder
// Load read the model from, so that Save can write them back, and installs
// tok with its files.
func (m *Model) keepFiles(dir string, tok Tokenizer) error {
	read := func(names []string) (map[string][]byte, error) {
		out := map[string][]byte{}
		for _, name := range names {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("t5: reading %s: %w", name, err)
			}
			out[name] = b
		}
		return out, nil
	}
	var err error
	if m.files, err = read(modelFiles); err != nil {
		return err
	}
	files, err := read(tokenizerFiles)
	if err != nil {
		return err
	}
	m.tok.Store(&tokenizerBox{t: tok, files: files})
	return nil
}

// Save writes the model to dir as save_pretrained does, creating dir if
// needed: config.json (as Load read it, or the Config of a model made with
// New), generation_config.json where the loaded folder had one, and
// model.safetensors with the hub's tensor names and {"format": "pt"}
// metadata. Tied embeddings are stored once, as shared.weight (transformers
// drops encoder.embed_tokens, decoder.embed_tokens and a tied lm_head.weight
// from the file and ties them again on load); an untied lm_head.weight is
// stored. After Fit the file holds the trained weights.
//
// The tokenizer's files (spiece.model, tokenizer_config.json,
// special_tokens_map.json, added_tokens.json, tokenizer.json) are written
// back as Load read them, so T5Tokenizer.from_pretrained(dir) loads the same
// tokenizer. A model made with New, or whose tokenizer was replaced with
// SetTokenizer, has no such files: Save then writes the model files only and
// a tokenizer has to be saved beside them by other means.
//
// Each file is written to a temporary file in dir and renamed into place,
// so an interrupted Save never leaves a partial file behind.
func (m *Model) Save(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	files := map[string][]byte{}
	maps.Copy(files, m.files)
	if files["config.json"] == nil {
		cfg := m.cfg
		cfg.Architectures = []string{"T5ForConditionalGeneration"}
		cfg.ModelType = "t5"
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return fmt.Errorf("t5: Save: encoding config.json: %w", err)
		}
		files["config.json"] = append(b, '\n')
	}
	if box := m.tok.Load(); box != nil {
		maps.Copy(files, box.files)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("t5: Save: %w", err)
	}
	tensors := make(map[string]*checkpoint.Tensor, len(m.mod.order))
	for _, t := range m.mod.order {
		tensors[m.mod.names[t]] = &checkpoint.Tensor{DType: "F32", Shape: t.Shape, F32: t.Data}
	}
	if err := checkpoint.WriteSafetensors(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("t5: Save: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b := files[name]
		err := atomicfile.Write(filepath.Join(dir, name), func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		})
		if err != nil {
			return fmt.Errorf("t5: Save: writing %s: %w", name, err)
		}
	}
	return nil
}
