package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/t5"
)

// loadGenerator loads the T5 query generator named by -generator.
func loadGenerator(name string) (*t5.Model, error) {
	m, err := t5.Load(name)
	if err != nil {
		return nil, fmt.Errorf("loading the query generator %q (-generator): %w\n%s", name, err, modelHint(name, "-generator", err))
	}
	if m.Tokenizer() == nil {
		return nil, fmt.Errorf("the query generator %q has no tokenizer (spiece.model); use a folder as save_pretrained writes it", name)
	}
	return m, nil
}

// loadEncoder loads a bi-encoder given by flag (-base, -model or -models).
func loadEncoder(name, flag string) (*encoder.Model, error) {
	m, err := encoder.Load(name)
	if err != nil {
		return nil, fmt.Errorf("loading the model %q (%s): %w\n%s", name, flag, err, modelHint(name, flag, err))
	}
	return m, nil
}

// modelHint says how to get a model that did not load, unless the library's
// error already does.
func modelHint(name, flag string, err error) string {
	if strings.Contains(err.Error(), "huggingface-cli download") {
		return fmt.Sprintf("or pass a local model folder with %s", flag)
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return fmt.Sprintf("%s is a folder but not a usable model: it needs config.json, model.safetensors or pytorch_model.bin and the tokenizer files, as save_pretrained writes them", name)
	}
	if filepath.Base(name) == modelFolder {
		return fmt.Sprintf("there is no trained model in %s yet: run the train subcommand first (or pass another model with %s)", name, flag)
	}
	return fmt.Sprintf("download it into the Hugging Face cache with `huggingface-cli download %s` (genq reads the same cache: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub), or pass a local model folder with %s", name, flag)
}
