package encoder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/checkpoint"
)

// LoadOptions configures Load.
type LoadOptions struct {
	// Hub is how a hub id is fetched (see hub.Options; the zero value
	// follows the HF_* environment variables).
	Hub hub.Options
}

// Load reads a bi-encoder, as SentenceTransformer(nameOrDir) does, from a
// sentence-transformers folder (modules.json listing Transformer, Pooling
// and optionally Normalize modules), a plain Hugging Face BERT / DistilBERT
// folder (which gets mean pooling, as sentence-transformers gives it), or a
// hub id ("org/name") at opts.Hub.Revision. A hub id is read from the local
// Hugging Face cache when its snapshot there is complete; otherwise the
// missing files are downloaded into the cache (unless offline). ctx bounds
// the download: canceling it stops Load promptly with ctx's error.
//
// The maximum sequence length is sentence_bert_config.json's max_seq_length,
// or else the tokenizer's model_max_length capped at the model's
// max_position_embeddings. Weights are read from model.safetensors or
// pytorch_model.bin, with or without a "bert." / "distilbert." prefix.
func Load(ctx context.Context, nameOrDir string, opts LoadOptions) (*Model, error) {
	dir, err := hub.Fetch(ctx, nameOrDir, hub.SentenceTransformer, opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	mods, err := readModules(dir)
	if err != nil {
		return nil, err
	}
	if mods == nil {
		if err := notCrossEncoder(dir); err != nil {
			return nil, err
		}
	}
	var (
		m       = &Model{graphs: map[[2]int]*inferGraph{}}
		bodyDir = dir
		poolDir string
		seen    = map[string]bool{}
	)
	for _, mod := range mods {
		p := filepath.Join(dir, mod.Path)
		switch mod.Type {
		case stTransformer:
			bodyDir = p
		case stPooling:
			poolDir = p
		case stNormalize:
			m.normalize = true
		default:
			return nil, fmt.Errorf("encoder: %s: module %q of type %q is not supported (only Transformer, Pooling and Normalize are)",
				filepath.Join(dir, "modules.json"), mod.Name, mod.Type)
		}
		if seen[mod.Type] {
			return nil, fmt.Errorf("encoder: %s lists %s twice", filepath.Join(dir, "modules.json"), mod.Type)
		}
		seen[mod.Type] = true
	}
	if mods != nil && (!seen[stTransformer] || !seen[stPooling]) {
		return nil, fmt.Errorf("encoder: %s must list a Transformer and a Pooling module", filepath.Join(dir, "modules.json"))
	}
	if m.cfg, err = ReadConfig(bodyDir); err != nil {
		return nil, err
	}
	if m.files.config, err = os.ReadFile(filepath.Join(bodyDir, "config.json")); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config_sentence_transformers.json")); err == nil {
		m.files.stConfig = b
	}
	m.files.tokenizer = map[string][]byte{}
	for _, name := range tokenizerFiles {
		if b, err := os.ReadFile(filepath.Join(bodyDir, name)); err == nil {
			m.files.tokenizer[name] = b
		}
	}
	w, err := checkpoint.Open(bodyDir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if m.body, err = loadBody(w, m.cfg); err != nil {
		return nil, err
	}
	m.unused = w.Unused()
	tok, err := wordpiece.Load(bodyDir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if n := tok.VocabSize(); n > m.cfg.VocabSize {
		return nil, fmt.Errorf("encoder: the tokenizer in %s has ids up to %d (%q), but config.json's vocab_size is %d: the tokenizer files (vocabulary, added tokens) do not belong to this model",
			bodyDir, n-1, tok.IDToken(n-1), m.cfg.VocabSize)
	}
	m.tok = tok
	if poolDir == "" {
		m.pooling = MeanPooling(m.cfg.Hidden)
	} else {
		path := filepath.Join(poolDir, "config.json")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("encoder: %w", err)
		}
		if m.pooling, err = parsePooling(b, m.cfg.Hidden); err != nil {
			return nil, fmt.Errorf("encoder: %s: %w", path, err)
		}
	}
	if _, err := m.pooling.Modes(); err != nil {
		return nil, err
	}
	var sc stConfig
	if path := filepath.Join(bodyDir, "sentence_bert_config.json"); fileExists(path) {
		if err := readJSON(path, &sc); err != nil {
			return nil, err
		}
	}
	m.lowerCase = sc.DoLowerCase
	m.maxSeqLen, err = maxSeqLength(sc.MaxSeqLength, bodyDir, m.cfg.MaxPositions)
	return m, err
}

// loadBody loads the transformer that cfg.ModelType names, with or without
// the "bert." or "distilbert." prefix of task-head checkpoints.
func loadBody(w *checkpoint.Weights, cfg *Config) (transformer, error) {
	if cfg.ModelType == "bert" {
		return newBert(newVars(w, "bert"), cfg)
	}
	return newDistilBERT(newVars(w, "distilbert"), cfg)
}
