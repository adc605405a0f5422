package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
)

// fingerprint identifies a model's weights and settings, so that cached
// corpus embeddings are used only with the model that computed them.
//
// For a local folder it hashes the contents of every file a loader may read
// (configs, tokenizer, the weights) — a retrained model saved over the same
// folder gets a new fingerprint. A hub id is resolved inside encoder.Load and
// its folder is not visible here, so the id is hashed together with the
// embeddings the loaded model gives to a few probe texts, which change with
// any change of the weights that the probe texts see.
func fingerprint(ctx context.Context, name string, m *encoder.Model) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "dim %d, max_seq_length %d, pooling %+v\n", m.Dim(), m.MaxSeqLength(), m.Pooling())
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		if err := hashFolder(h, name); err != nil {
			return "", fmt.Errorf("fingerprinting the model folder %s: %w", name, err)
		}
	} else {
		fmt.Fprintf(h, "hub id %s\n", name)
		emb, err := m.Encode(ctx, probeTexts)
		if err != nil {
			return "", err
		}
		var b [4]byte
		for _, row := range emb {
			for _, v := range row {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				h.Write(b[:])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// probeTexts cover common and rare word pieces, for the hub-id fingerprint
// and for checking a saved model against the trained one (verifySaved).
var probeTexts = []string{
	"The quick brown fox jumps over the lazy dog.",
	"Go, Rust, C++ and Python: compilers, interpreters, garbage collection, 1234567890.",
	"Ünïcödé façade naïve — 東京 ∑ λx.x",
}

// skippedFiles are files of a model folder that no loader here reads:
// weights for other frameworks, model cards, train's training.json and
// version-control data.
func skippedFile(rel string) bool {
	base := filepath.Base(rel)
	switch {
	case base == "README.md" || base == trainingFile || strings.HasPrefix(base, "."):
		return true
	case strings.HasSuffix(base, ".h5"), strings.HasSuffix(base, ".msgpack"), strings.HasSuffix(base, ".onnx"),
		strings.HasSuffix(base, ".ot"), strings.HasSuffix(base, ".tflite"), strings.HasSuffix(base, ".mlmodel"):
		return true
	}
	top := strings.Split(filepath.ToSlash(rel), "/")[0]
	return top == "onnx" || top == "openvino" || top == "coreml" || top == ".git" || top == ".cache"
}

// hashFolder writes into h the relative name, size and contents of each file
// under dir that a loader may read, in a fixed order. pytorch_model.bin is
// skipped next to a model.safetensors, which the loaders prefer.
func hashFolder(h hash.Hash, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if path != dir && skippedFile(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !skippedFile(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	for _, rel := range files {
		if filepath.Base(rel) == "pytorch_model.bin" && have[filepath.Join(filepath.Dir(rel), "model.safetensors")] {
			continue
		}
		f, err := os.Open(filepath.Join(dir, rel)) // follows the hub cache's symlinks
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %s\n", filepath.ToSlash(rel))
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "\n%d bytes\n", n)
	}
	return nil
}

// corpusKey hashes the passages in order, for the embeddings cache.
func corpusKey(passages []corpus.Passage) string {
	h := sha256.New()
	for _, p := range passages {
		fmt.Fprintf(h, "%d:%s|%d|%d:%s\n", len(p.Title), p.Title, p.Paragraph, len(p.Text), p.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}
