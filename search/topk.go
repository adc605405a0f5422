package search

// Hit is one search result.
type Hit struct {
	// CorpusID is the index of the corpus row.
	CorpusID int
	// Score is the similarity of the query and the corpus row.
	Score float32
}

// TopK returns, for each query, the min(k, len(corpus)) corpus rows with the
// highest score, best first, as util.semantic_search(queries, corpus,
// top_k=k) does (cosine similarity unless WithScore(Dot)). All vectors must
// have the same, non-zero length and finite values. To search one corpus
// several times, build a Corpus once instead: TopK copies (and for cosine
// normalizes) the corpus on every call.
func TopK(queries, corpus [][]float32, k int, opts ...Option) ([][]Hit, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	// Cheap checks first: building the corpus copies it.
	if k <= 0 {
		return nil, errK(k)
	}
	if len(queries) == 0 {
		return nil, errNoQueries
	}
	c, err := NewCorpus(corpus, o.score == Cosine)
	if err != nil {
		return nil, err
	}
	return c.Search(queries, k, opts...)
}
