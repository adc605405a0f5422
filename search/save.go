package search

import (
	"fmt"
	"os"

	"github.com/genq-go/genq/internal/checkpoint"
)

// EmbeddingsTensor is the tensor name under which Save stores the corpus
// embeddings ([rows, dim] float32).
const EmbeddingsTensor = "embeddings"

// scoreKey is the safetensors metadata key that records the corpus' score.
const scoreKey = "genq.search.score"

// Save writes the corpus embeddings, as stored (normalized for a cosine
// corpus), to a safetensors file with one F32 tensor "embeddings" [rows, dim]
// and metadata {"format": "pt", "genq.search.score": "cosine" | "dot"}.
// Python reads it with safetensors.torch.load_file(path)["embeddings"].
func (c *Corpus) Save(path string) error {
	t := &checkpoint.Tensor{DType: "F32", Shape: []int{c.n, c.dim}, F32: c.data}
	meta := map[string]string{"format": "pt", scoreKey: c.score.String()}
	if err := checkpoint.WriteSafetensors(path, map[string]*checkpoint.Tensor{EmbeddingsTensor: t}, meta); err != nil {
		return fmt.Errorf("search: saving the corpus: %w", err)
	}
	return nil
}

// LoadCorpus reads corpus embeddings from a safetensors file: the tensor
// "embeddings", or the file's only tensor, of shape [rows, dim]. A file
// written by Save comes back as it was saved (a cosine corpus stays cosine,
// without normalizing twice). For any other file, normalize chooses as in
// NewCorpus.
func LoadCorpus(path string, normalize bool) (*Corpus, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("search: loading the corpus: %w", err)
	}
	tensors, meta, err := checkpoint.ParseSafetensors(buf)
	if err != nil {
		return nil, fmt.Errorf("search: loading the corpus from %s: %w", path, err)
	}
	t, ok := tensors[EmbeddingsTensor]
	if !ok && len(tensors) == 1 {
		for _, only := range tensors {
			t = only
		}
	}
	if t == nil {
		return nil, fmt.Errorf("search: %s holds %d tensors and none is named %q; which one holds the embeddings?", path, len(tensors), EmbeddingsTensor)
	}
	if len(t.Shape) != 2 || t.F32 == nil {
		return nil, fmt.Errorf("search: %s: the embeddings tensor is %v; want a floating-point [rows, dim] matrix", path, t)
	}
	n, dim := t.Shape[0], t.Shape[1]
	if n == 0 || dim == 0 {
		return nil, fmt.Errorf("search: %s: the embeddings tensor %v is empty", path, t)
	}
	for i, x := range t.F32 {
		if x-x != 0 { // NaN or ±Inf
			return nil, fmt.Errorf("search: %s: corpus row %d holds %v at dimension %d", path, i/dim, x, i%dim)
		}
	}
	c := &Corpus{data: t.F32, n: n, dim: dim, score: Dot}
	switch meta[scoreKey] {
	case Cosine.String():
		c.score = Cosine
	case Dot.String():
	case "":
		if normalize {
			c.score = Cosine
			normalizeRows(c.data, dim)
		}
	default:
		return nil, fmt.Errorf("search: %s: unknown %s %q in the metadata", path, scoreKey, meta[scoreKey])
	}
	return c, nil
}
