package search

import (
	"fmt"
	"math"
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
	return parseCorpus(buf, path, normalize)
}

// parseCorpus is LoadCorpus of a file's bytes; path only names the file in
// errors.
func parseCorpus(buf []byte, path string, normalize bool) (*Corpus, error) {
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
	if n <= 0 || dim <= 0 {
		return nil, fmt.Errorf("search: %s: the embeddings tensor %v is empty", path, t)
	}
	// The reader checked the shape against the data; check again without
	// multiplying, so that no shape can make rows reach past the data.
	if len(t.F32)/dim != n || len(t.F32)%dim != 0 {
		return nil, fmt.Errorf("search: %s: the embeddings tensor %v holds %d values, not rows × dim (corrupt file)", path, t, len(t.F32))
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
		if i, norm := unnormalizedRow(c.data, dim); i >= 0 {
			return nil, fmt.Errorf("search: %s says %s=cosine but row %d has norm %g, not 1: the file was not written by Corpus.Save; remove the metadata key or normalize the rows", path, scoreKey, i, norm)
		}
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

// unnormalizedRow returns the first row whose L2 norm exceeds 1 by more
// than float32 rounding, and its norm; -1 when there is none. Rows that
// torch.nn.functional.normalize returns have norm 1, or less when the row
// was (nearly) zero.
func unnormalizedRow(data []float32, dim int) (int, float64) {
	for i := 0; i+dim <= len(data); i += dim {
		var ss float64
		for _, x := range data[i : i+dim] {
			ss += float64(x) * float64(x)
		}
		if ss > 1.001 {
			return i / dim, math.Sqrt(ss)
		}
	}
	return -1, 0
}
