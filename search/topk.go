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
// have the same, non-zero length and finite values. TopK does not copy the
// corpus as a whole: each worker copies one chunk of rows at a time into a
// cache-sized buffer, measures their norms and scores them there, scaling
// cosine scores by the rows' reciprocal norms (the scores agree with those
// of a normalized Corpus to float32 rounding). To search one corpus many
// times, build a Corpus once instead: it skips that per-call copy.
func TopK(queries, corpus [][]float32, k int, opts ...Option) ([][]Hit, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, errK(k)
	}
	if len(queries) == 0 {
		return nil, errNoQueries
	}
	dim, err := checkShape("corpus", corpus)
	if err != nil {
		return nil, err
	}
	src := &source{n: len(corpus), dim: dim, score: o.score, rows: corpus}
	return search(queries, src, min(k, len(corpus)), o)
}
