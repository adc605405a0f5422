package t5

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/devopt"
)

// Model is a T5ForConditionalGeneration: the weights, the tokenizer when one
// was loaded, and the compiled graphs. Its methods may be called from several
// goroutines; they run one at a time.
type Model struct {
	cfg Config
	mod *modules                     // the weights, as the checkpoint's module tree (model.go)
	tok atomic.Pointer[tokenizerBox] // SetTokenizer may replace it while a pass runs

	mu     sync.Mutex // guards graphs, tick, builds, ws and the modules' packed step weights
	graphs map[string]*compiled
	tick   int64
	builds int        // graphs built so far (each shape once while it stays cached)
	ws     *workspace // buffers of the inference graphs, built on first use
	// fitDev, while Fit runs with a device optimizer, takes the training
	// graphs' gradients on the device (see internal/devopt); guarded by mu.
	fitDev *devopt.Optimizer

	files map[string][]byte // config.json and generation_config.json as Load read them, for Save
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

// LoadOptions configures Load.
type LoadOptions struct {
	// Hub says where a model named by a hub id comes from: revision, token,
	// endpoint, cache folder, offline mode, HTTP client, progress writer and
	// timeouts, as from_pretrained's keyword arguments. The zero value
	// follows the environment (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE,
	// HF_HUB_OFFLINE, ...) as huggingface_hub does.
	Hub hub.Options
	// AllowUnused accepts checkpoints holding tensors the model does not use
	// (by default they are an error that names them).
	AllowUnused bool
}

// Load reads a T5 checkpoint, as T5ForConditionalGeneration.from_pretrained
// and T5Tokenizer.from_pretrained do: config.json, model.safetensors (or
// pytorch_model.bin) and the SentencePiece tokenizer of a folder, or of a hub
// id ("org/name") at opts.Hub.Revision. A hub id is read from the local
// Hugging Face cache when its snapshot there is complete; otherwise the
// missing files are downloaded into the cache (unless offline). ctx bounds
// the download: canceling it stops Load promptly with ctx's error.
func Load(ctx context.Context, nameOrDir string, opts LoadOptions) (*Model, error) {
	dir, err := hub.Fetch(ctx, nameOrDir, hub.T5, opts.Hub)
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
	tok, err := loadTokenizer(dir, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.keepFiles(dir, tok); err != nil {
		return nil, err
	}
	return m, nil
}
