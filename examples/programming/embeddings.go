package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/search"
)

// corpusIndex embeds the passages with model m (loaded from name) for cosine
// search, or reads them from -out/cache when this model has embedded this
// corpus before. The cache file is named by a hash of the model's
// fingerprint and the passages, so a changed model or corpus never reuses
// stale embeddings.
func (a *app) corpusIndex(ctx context.Context, name string, m *encoder.Model, passages []corpus.Passage) (*search.Corpus, error) {
	fp, err := fingerprint(ctx, name, m)
	if err != nil {
		return nil, err
	}
	key := fp[:16] + "-" + corpusKey(passages)[:16]
	path := filepath.Join(a.out, cacheDir, "embeddings-"+key+".safetensors")
	if _, err := os.Stat(path); err == nil {
		c, err := search.LoadCorpus(path, true)
		switch {
		case err != nil:
			fmt.Fprintf(a.stderr, "ignoring the unreadable cache %s: %v\n", path, err)
		case c.Len() != len(passages) || c.Dim() != m.Dim() || c.Score() != search.Cosine:
			fmt.Fprintf(a.stderr, "ignoring the cache %s: it holds %d×%d %s embeddings, want %d×%d cosine\n",
				path, c.Len(), c.Dim(), c.Score(), len(passages), m.Dim())
		default:
			fmt.Fprintf(a.stderr, "using cached embeddings of %d passages: %s\n", c.Len(), path)
			return c, nil
		}
	}

	fmt.Fprintf(a.stderr, "embedding %d passages with %s\n", len(passages), name)
	texts := make([]string, len(passages))
	for i, p := range passages {
		texts[i] = p.Text
	}
	opts := []encoder.EncodeOption{encoder.WithBatchSize(32)}
	if !a.quiet {
		opts = append(opts, encoder.WithProgress(a.stderr))
	}
	emb, err := m.Encode(ctx, texts, opts...)
	if !a.quiet {
		fmt.Fprintln(a.stderr) // the bar ends without a newline
	}
	if err != nil {
		return nil, fmt.Errorf("embedding the corpus with %s: %w", name, err)
	}
	c, err := search.NewCorpus(emb, true)
	if err != nil {
		return nil, fmt.Errorf("embedding the corpus with %s: %w", name, err)
	}
	if err := saveAtomic(path, c.Save); err != nil {
		fmt.Fprintf(a.stderr, "warning: could not cache the embeddings: %v\n", err)
	}
	return c, nil
}

// saveAtomic writes a file with write(tmp), syncs it, renames it to path
// and syncs the folder, so that an interrupted write never leaves a
// truncated file under path, and a power loss after it returned loses
// nothing.
func saveAtomic(path string, write func(string) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	err := write(tmp)
	if err == nil {
		err = syncPath(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncPath(dir)
}

// syncPath flushes a written file, or a folder's entries (files created,
// renamed or removed in it), to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
