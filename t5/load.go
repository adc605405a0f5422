package t5

import (
	"context"
	"fmt"
	"sync"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/hub"
)

// Model is a T5ForConditionalGeneration: the weights, the tokenizer when one
// was loaded, and the compiled graphs. Its methods may be called from several
// goroutines; they run one at a time.
type Model struct {
	cfg Config
	mod *modules // the weights, as the checkpoint's module tree (model.go)
	tok Tokenizer

	mu     sync.Mutex // guards graphs, tick, builds, ws and the modules' packed step weights
	graphs map[string]*compiled
	tick   int64
	builds int        // graphs built so far (each shape once while it stays cached)
	ws     *workspace // buffers of the inference graphs, built on first use
}

// workspace returns the buffers of the inference graphs. The caller holds m.mu.
func (m *Model) workspace() *workspace {
	if m.ws == nil {
		m.ws = &workspace{}
	}
	return m.ws
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Load reads a T5 checkpoint: config.json, model.safetensors (or
// pytorch_model.bin) and the SentencePiece tokenizer of a folder, or of a hub
// id ("org/name") in the local Hugging Face cache; an id that is not cached
// is downloaded into the cache (as from_pretrained does) unless
// HF_HUB_OFFLINE is set.
func Load(nameOrDir string) (*Model, error) {
	return LoadWithOptions(nameOrDir, LoadOptions{})
}

// LoadWithOptions is Load with options.
func LoadWithOptions(nameOrDir string, opts LoadOptions) (*Model, error) {
	dir, err := hub.Fetch(context.Background(), nameOrDir, hub.T5)
	if err != nil {
		return nil, fmt.Errorf("t5: %w", err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	w, err := checkpoint.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("t5: %w", err)
	}
	m, err := newModel(cfg, w, opts)
	if err != nil {
		return nil, err
	}
	if m.tok, err = loadTokenizer(dir); err != nil {
		return nil, err
	}
	return m, nil
}
