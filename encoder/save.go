package encoder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/genq-go/genq/internal/atomicfile"
	"github.com/genq-go/genq/internal/checkpoint"
)

// Save writes the model as SentenceTransformer.save does: modules.json,
// sentence_bert_config.json, config_sentence_transformers.json,
// 1_Pooling/config.json (and 2_Normalize/ when the model normalizes), the
// Hugging Face config.json, the tokenizer files, a README.md model card and
// model.safetensors with the hub's tensor names (no model-type prefix).
//
// A new folder is written under a temporary name and renamed into place; in
// an existing folder every file is first written to a temporary file and
// then renamed over the old one, so an interrupted Save never leaves a
// half-written file behind. Every file and folder is synced to disk before
// Save returns: once it has returned, a power loss cannot tear the model.
// What a crashed Save left (the hidden ".<dir>.tmp-<digits>" folder beside
// dir, ".<file>.tmp-<digits>" files inside it) is removed by the next Save.
func (m *Model) Save(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.save(dir)
}

// save is Save with m.mu held.
func (m *Model) save(dir string) error {
	files, err := m.savedFiles()
	if err != nil {
		return err
	}
	dirs := []string{"1_Pooling"}
	if m.normalize {
		dirs = append(dirs, "2_Normalize")
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return writeNewFolder(dir, dirs, files)
	}
	return overwriteFolder(dir, dirs, files)
}

// savedFiles returns every file Save writes, by path relative to the folder.
func (m *Model) savedFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	var err error
	add := func(name string, v any) {
		if err == nil {
			files[name], err = pyJSON(v)
		}
	}
	mods := []module{{0, "0", "", stTransformer}, {1, "1", "1_Pooling", stPooling}}
	if m.normalize {
		mods = append(mods, module{2, "2", "2_Normalize", stNormalize})
	}
	add("modules.json", mods)
	add("sentence_bert_config.json", struct {
		MaxSeqLength int  `json:"max_seq_length"`
		DoLowerCase  bool `json:"do_lower_case"`
	}{m.maxSeqLen, m.lowerCase})
	add("1_Pooling/config.json", m.pooling)
	if m.files.stConfig != nil {
		files["config_sentence_transformers.json"] = m.files.stConfig
	} else {
		add("config_sentence_transformers.json", freshSTConfig())
	}
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	files["config.json"] = m.files.config
	for name, b := range m.files.tokenizer {
		files[name] = b
	}
	files["README.md"] = []byte(m.modelCard())
	tensors := map[string]*checkpoint.Tensor{}
	for _, p := range append(m.body.params(), m.body.extras()...) {
		tensors[p.name] = &checkpoint.Tensor{DType: "F32", Shape: append([]int{}, p.t.Shape()...), F32: p.data()}
	}
	if files["model.safetensors"], err = checkpoint.MarshalSafetensors(tensors, map[string]string{"format": "pt"}); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return files, nil
}

// freshSTConfig is config_sentence_transformers.json for a model that came
// without one (a plain Hugging Face folder).
func freshSTConfig() any {
	return struct {
		Version struct {
			SentenceTransformers string `json:"sentence_transformers"`
			Transformers         string `json:"transformers"`
			Pytorch              string `json:"pytorch"`
		} `json:"__version__"`
		Prompts           map[string]string `json:"prompts"`
		DefaultPromptName *string           `json:"default_prompt_name"`
	}{Version: struct {
		SentenceTransformers string `json:"sentence_transformers"`
		Transformers         string `json:"transformers"`
		Pytorch              string `json:"pytorch"`
	}{"2.7.0", "4.40.0", "1.13.0"}, Prompts: map[string]string{}}
}

// pyJSON formats v as Python's json.dump(v, indent=2) does (no trailing newline).
func pyJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeNewFolder writes files into a temporary sibling of dir and renames it
// to dir. Every file and folder is synced before the rename and the parent
// after it, so dir exists only once all of it is on disk.
func writeNewFolder(dir string, dirs []string, files map[string][]byte) (err error) {
	parent, base := filepath.Dir(filepath.Clean(dir)), filepath.Base(filepath.Clean(dir))
	if err := atomicfile.MkdirAll(parent); err != nil {
		return fmt.Errorf("encoder: saving: %w", err)
	}
	// The temporary folders of a Save that crashed.
	if err := atomicfile.RemoveTemps(parent, base); err != nil {
		return fmt.Errorf("encoder: saving: removing what an interrupted Save left: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, atomicfile.TempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("encoder: saving: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("encoder: saving: %w", err)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
	}
	for _, name := range sortedNames(files) {
		if err := atomicfile.WriteSynced(filepath.Join(tmp, name), files[name]); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
	}
	for _, d := range append(dirs, ".") {
		if err := atomicfile.SyncDir(filepath.Join(tmp, d)); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("encoder: saving: %w", err)
	}
	if err := atomicfile.SyncDir(parent); err != nil {
		return fmt.Errorf("encoder: saving: %w", err)
	}
	return nil
}

// overwriteFolder writes every file next to its destination under a
// temporary name and syncs it, then renames them all into place and syncs
// the folders. Temporary files an interrupted Save left are removed first.
func overwriteFolder(dir string, dirs []string, files map[string][]byte) (err error) {
	for _, d := range dirs {
		if err := atomicfile.MkdirAll(filepath.Join(dir, d)); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
	}
	names := sortedNames(files)
	tmps := map[string]string{}
	defer func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}()
	for _, name := range names {
		dst := filepath.Join(dir, name)
		if err := atomicfile.RemoveTemps(filepath.Dir(dst), filepath.Base(dst)); err != nil {
			return fmt.Errorf("encoder: saving: removing what an interrupted Save left: %w", err)
		}
		tmp, err := atomicfile.WriteTemp(filepath.Dir(dst), filepath.Base(dst), files[name])
		if err != nil {
			return fmt.Errorf("encoder: saving %s: %w", dst, err)
		}
		tmps[name] = tmp
	}
	for _, name := range names {
		if err := os.Rename(tmps[name], filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
		delete(tmps, name)
	}
	for _, d := range append(dirs, ".") {
		if err := atomicfile.SyncDir(filepath.Join(dir, d)); err != nil {
			return fmt.Errorf("encoder: saving: %w", err)
		}
	}
	return nil
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
