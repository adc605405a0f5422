package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/t5"
)

// hubOptions are the download settings of both loads: a progress bar per
// downloaded file unless -quiet; the rest (endpoint, token, cache, offline
// mode, timeouts) from the HF_* environment variables.
func (a *app) hubOptions() hub.Options {
	var o hub.Options
	if !a.quiet {
		o.Progress = a.stderr
	}
	return o
}

// loadGenerator loads the T5 query generator named by -generator.
func (a *app) loadGenerator(ctx context.Context, name string) (*t5.Model, error) {
	if err := checkKind(name, "-generator", kindT5); err != nil {
		return nil, err
	}
	m, err := t5.Load(ctx, name, t5.LoadOptions{Hub: a.hubOptions()})
	if err != nil {
		return nil, fmt.Errorf("loading the query generator %q (-generator): %w\n%s", name, err, modelHint(name, "-generator", err))
	}
	if m.Tokenizer() == nil {
		return nil, fmt.Errorf("the query generator %q has no tokenizer (spiece.model); use a folder as save_pretrained writes it", name)
	}
	return m, nil
}

// loadEncoder loads a bi-encoder given by flag (-base, -model or -models).
func (a *app) loadEncoder(ctx context.Context, name, flag string) (*encoder.Model, error) {
	if err := checkKind(name, flag, kindBiEncoder); err != nil {
		return nil, err
	}
	m, err := encoder.Load(ctx, name, encoder.LoadOptions{Hub: a.hubOptions()})
	if err != nil {
		return nil, fmt.Errorf("loading the model %q (%s): %w\n%s", name, flag, err, modelHint(name, flag, err))
	}
	return m, nil
}

// modelKind is what a model flag takes.
type modelKind int

const (
	kindBiEncoder    modelKind = iota // -base, -model, -models, -retrievers
	kindT5                            // -generator
	kindCrossEncoder                  // -cross-encoder
)

// checkKind refuses a model folder of the wrong kind before it is loaded: a
// T5 checkpoint where a bi-encoder or cross-encoder is wanted, a bi-encoder
// (a folder with modules.json) as the cross-encoder, a cross-encoder (a
// *ForSequenceClassification without modules.json) as a bi-encoder, or
// anything else as the generator. It goes by config.json's model_type and
// architectures; names that are not folders, and folders without a
// readable config.json, are left to Load.
func checkKind(name, flag string, want modelKind) error {
	b, err := os.ReadFile(filepath.Join(name, "config.json"))
	if err != nil {
		return nil
	}
	var cfg struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return nil
	}
	isT5 := cfg.ModelType == "t5" || slices.ContainsFunc(cfg.Architectures, func(a string) bool { return strings.HasPrefix(a, "T5") })
	_, stErr := os.Stat(filepath.Join(name, "modules.json"))
	isCE := !isT5 && stErr != nil && slices.ContainsFunc(cfg.Architectures, func(a string) bool { return strings.HasSuffix(a, "ForSequenceClassification") })
	kind := cfg.ModelType
	if kind == "" {
		kind = strings.Join(cfg.Architectures, ", ")
	}
	switch {
	case want == kindT5 && !isT5:
		return fmt.Errorf("%s %s is a %s model, not a T5 query generator: its config.json has model_type %q; pass a T5 checkpoint such as BeIR/query-gen-msmarco-t5-base-v1 (or a folder save_pretrained wrote for one)", flag, name, kind, cfg.ModelType)
	case want != kindT5 && isT5:
		what := "a bi-encoder: " + flag + " takes a BERT/DistilBERT or sentence-transformers model such as distilbert-base-uncased"
		if want == kindCrossEncoder {
			what = "a cross-encoder: " + flag + " takes a sentence-transformers CrossEncoder such as " + encoder.GPLCrossEncoder
		}
		return fmt.Errorf("%s %s is a T5 model (config.json: model_type %q), not %s; T5 checkpoints belong to -generator", flag, name, cfg.ModelType, what)
	case want == kindCrossEncoder && !isCE:
		return fmt.Errorf("%s %s is not a cross-encoder (a sentence-transformers CrossEncoder folder: BertForSequenceClassification with one label, no modules.json) but a %s bi-encoder; pass one such as %s, and bi-encoders to -retrievers", flag, name, kind, encoder.GPLCrossEncoder)
	case want == kindBiEncoder && isCE:
		return fmt.Errorf("%s %s is a cross-encoder (config.json: %s), which scores (query, passage) pairs instead of embedding texts; it belongs to -cross-encoder, and %s takes a bi-encoder such as distilbert-base-uncased", flag, name, strings.Join(cfg.Architectures, ", "), flag)
	}
	return nil
}

// modelHint says how to get a model that did not load: download it, or run
// without it.
func modelHint(name, flag string, err error) string {
	if st, serr := os.Stat(name); serr == nil && st.IsDir() {
		return fmt.Sprintf("%s is a folder but not a usable model: it needs config.json, model.safetensors or pytorch_model.bin and the tokenizer files, as save_pretrained writes them", name)
	}
	if filepath.Base(name) == modelFolder {
		return fmt.Sprintf("there is no trained model in %s yet: run the train subcommand first (or pass another model with %s)", name, flag)
	}
	msg := err.Error()
	why, fix := "it could not be loaded", "unset HF_HUB_OFFLINE and run again (genq downloads it into the cache)"
	switch {
	case strings.Contains(msg, "HF_HUB_OFFLINE is set"):
		why = "it is not in the Hugging Face cache and HF_HUB_OFFLINE is set"
	case strings.Contains(msg, "downloading it failed"):
		why = "it is not in the Hugging Face cache and the download failed"
		fix = "check the network, HF_ENDPOINT and proxy settings, and run again"
	}
	return fmt.Sprintf("%s: %s. Two ways out:\n"+
		"  - download it: "+fix+", or `huggingface-cli download %s` (genq reads the same cache: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub);\n"+
		"  - run without it: -tiny uses the tiny checkpoints of a genq checkout (a quick offline run), or pass a local model folder with %s",
		name, why, name, flag)
}
