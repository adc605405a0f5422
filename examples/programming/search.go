package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/search"
)

// searcher answers queries over the corpus with one model.
type searcher struct {
	model    *encoder.Model
	corpus   *search.Corpus
	passages []corpus.Passage
}

// newSearcher loads the model name (given by flag) and embeds the corpus
// with it, from the cache when it can.
func (a *app) newSearcher(ctx context.Context, name, flag string, passages []corpus.Passage) (*searcher, error) {
	m, err := a.loadEncoder(ctx, name, flag)
	if err != nil {
		return nil, err
	}
	c, err := a.corpusIndex(ctx, name, m, passages)
	if err != nil {
		return nil, err
	}
	return &searcher{model: m, corpus: c, passages: passages}, nil
}

// topK returns the best k hits of each query, best first.
func (s *searcher) topK(ctx context.Context, queries []string, k int) ([][]search.Hit, error) {
	emb, err := s.model.Encode(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("embedding the queries: %w", err)
	}
	return s.corpus.Search(emb, k)
}

// search answers the -q queries, or else the lines of stdin, with the best -k
// passages of the corpus: score, title and paragraph.
func (a *app) search(ctx context.Context) error {
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	name, flag := a.model, "-model"
	if name == "" {
		name = a.trainedDir()
	}
	s, err := a.newSearcher(ctx, name, flag, passages)
	if err != nil {
		return err
	}
	if len(a.queries) > 0 {
		return a.answer(ctx, s, a.queries, a.k)
	}
	fmt.Fprintf(a.stderr, "type a query and press Enter (Ctrl-D to quit)\n")
	sc := bufio.NewScanner(a.stdin)
	for {
		fmt.Fprint(a.stderr, "query> ")
		if !sc.Scan() {
			fmt.Fprintln(a.stderr)
			return sc.Err()
		}
		q := strings.TrimSpace(sc.Text())
		if q == "" {
			continue
		}
		if err := a.answer(ctx, s, []string{q}, a.k); err != nil {
			return err
		}
	}
}

// answer prints the best k passages for each query, as the original script
// does: the query, then one hit per line with its score and title, and the
// paragraph below.
func (a *app) answer(ctx context.Context, s *searcher, queries []string, k int) error {
	hits, err := s.topK(ctx, queries, k)
	if err != nil {
		return err
	}
	for i, q := range queries {
		fmt.Fprintf(a.stdout, "\nQuery: %s\n", q)
		for rank, h := range hits[i] {
			p := s.passages[h.CorpusID]
			fmt.Fprintf(a.stdout, "%2d. %.4f  %s (paragraph %d)\n    %s\n", rank+1, h.Score, p.Title, p.Paragraph, p.Text)
		}
	}
	return nil
}
