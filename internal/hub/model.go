package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ModelKind says which library a model is for, and so which files it needs.
type ModelKind int

const (
	// T5 is a transformers T5ForConditionalGeneration (a query generator).
	T5 ModelKind = iota
	// SentenceTransformer is a sentence-transformers bi-encoder.
	SentenceTransformer
	// CrossEncoder is a sentence-transformers CrossEncoder (a transformers
	// sequence classifier with its tokenizer).
	CrossEncoder
)

// String names the kind.
func (k ModelKind) String() string {
	switch k {
	case T5:
		return "T5"
	case SentenceTransformer:
		return "SentenceTransformer"
	case CrossEncoder:
		return "CrossEncoder"
	}
	return fmt.Sprintf("ModelKind(%d)", int(k))
}

// WeightFiles lists, in order of preference, the weight files of a model
// folder; a model has one of them (an index file names its shards).
var WeightFiles = []string{
	"model.safetensors",
	"model.safetensors.index.json",
	"pytorch_model.bin",
	"pytorch_model.bin.index.json",
}

// ModelFiles lists the files a model of the given kind needs besides its
// weights (see WeightFiles): those it cannot do without, and those a given
// repository may or may not have.
func ModelFiles(kind ModelKind) (required, optional []string) {
	switch kind {
	case T5:
		return []string{"config.json"}, []string{
			"generation_config.json", "spiece.model", "tokenizer.json",
			"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
		}
	case SentenceTransformer:
		return []string{"config.json"}, []string{
			"modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
			"1_Pooling/config.json", "vocab.txt", "tokenizer.json",
			"tokenizer_config.json", "special_tokens_map.json",
		}
	case CrossEncoder:
		return []string{"config.json"}, []string{
			"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
		}
	}
	return nil, nil
}

// tokenizerFiles lists the files of which a model needs at least one.
func tokenizerFiles(kind ModelKind) []string {
	if kind == T5 {
		return []string{"spiece.model", "tokenizer.json"}
	}
	return []string{"vocab.txt", "tokenizer.json"}
}

// DownloadModel downloads everything a model of the given kind needs into the
// cache and returns its snapshot folder: ModelFiles(kind), the first of
// WeightFiles the repository has (with the shards an index names), and, for
// sentence-transformers, the config (and weights) of every module folder
// modules.json lists. It fails when the repository has no weights or no
// tokenizer.
func DownloadModel(ctx context.Context, repoID, revision string, kind ModelKind, opts Options) (string, error) {
	s, err := newSession(repoID, revision, opts)
	if err != nil {
		return "", err
	}
	required, optional := ModelFiles(kind)
	if required == nil {
		return "", fmt.Errorf("hub: unknown model kind %v", kind)
	}
	done := map[string]bool{}
	get := func(f string, opt bool) (bool, error) {
		if done[f] {
			return true, nil
		}
		ok, err := s.fetch(ctx, f, opt)
		done[f] = ok
		return ok, err
	}
	for _, f := range required {
		if _, err := get(f, false); err != nil {
			return "", err
		}
	}
	for _, f := range optional {
		if _, err := get(f, true); err != nil {
			return "", err
		}
	}
	if err := s.weights(ctx, "", get); err != nil {
		return "", err
	}
	snap := filepath.Join(s.repo, "snapshots", s.commit)
	if kind == SentenceTransformer && done["modules.json"] {
		modules, err := readModules(filepath.Join(snap, "modules.json"))
		if err != nil {
			return "", err
		}
		for _, m := range modules {
			if m.Path == "" {
				continue
			}
			if _, err := get(m.Path+"/config.json", true); err != nil {
				return "", err
			}
			if strings.HasSuffix(m.Type, ".Dense") {
				if err := s.weights(ctx, m.Path, get); err != nil {
					return "", err
				}
			}
		}
	}
	tok := tokenizerFiles(kind)
	if !done[tok[0]] && !done[tok[1]] {
		return "", fmt.Errorf("hub: %s (revision %q) has no tokenizer: neither %s nor %s", repoID, s.revision, tok[0], tok[1])
	}
	return s.finish()
}

// weights fetches the first weight file the folder dir of the repository
// has, and the shards its index names.
func (s *session) weights(ctx context.Context, dir string, get func(string, bool) (bool, error)) error {
	for _, w := range WeightFiles {
		f := path.Join(dir, w)
		ok, err := get(f, true)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !strings.HasSuffix(w, ".index.json") {
			return nil
		}
		shards, err := readShards(filepath.Join(s.repo, "snapshots", s.commit, filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		for _, sh := range shards {
			if _, err := get(path.Join(dir, sh), false); err != nil {
				return err
			}
		}
		return nil
	}
	where := "the repository root"
	if dir != "" {
		where = dir + "/"
	}
	return fmt.Errorf("hub: %s (revision %q) has no weights in %s: looked for %s", s.repoID, s.revision, where, strings.Join(WeightFiles, ", "))
}

// readShards returns the shard files a sharded checkpoint's index names.
func readShards(index string) ([]string, error) {
	b, err := os.ReadFile(index)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("hub: %s is not a shard index with a weight_map (%v)", index, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range idx.WeightMap {
		if !seen[f] {
			if !validFile(f) || strings.Contains(f, "/") {
				return nil, fmt.Errorf("hub: %s names shard %q, not a file name", index, f)
			}
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

type stModule struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

// readModules reads a sentence-transformers modules.json.
func readModules(p string) ([]stModule, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var ms []stModule
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("hub: %s: %v", p, err)
	}
	for _, m := range ms {
		if m.Path != "" && !validFile(m.Path) {
			return nil, fmt.Errorf("hub: %s lists module path %q outside the model folder", p, m.Path)
		}
	}
	return ms, nil
}
