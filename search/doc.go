// Package search finds, for each query embedding, the k corpus embeddings
// with the highest score: the same hits, order and scores as
// sentence-transformers 2.7's util.semantic_search, computed exactly (no
// approximate index) and spread over all cores.
//
// # Scores
//
// [Cosine] (the default, util.cos_sim) divides every query and corpus vector
// by max(‖x‖₂, 1e-12), as torch.nn.functional.normalize does, and takes dot
// products; [Dot] (util.dot_score) takes raw dot products. Products are
// accumulated in float32 like torch's matrix multiply, in a different order,
// so scores agree with the reference to float32 rounding (~1e-6 relative),
// not bit for bit.
//
// # Order and ties
//
// Hits come best first. Among equal scores the lower corpus id ranks first,
// and when equal scores straddle the k-th place the lower ids are kept. The
// reference picks among exact ties by an artifact of its implementation
// (libstdc++'s heap-based partial_sort inside torch.topk, then Python's heapq
// and a stable sort), which changes with chunking; exact ties only arise from
// duplicate embeddings, and this package makes them deterministic instead,
// whatever the number of workers or the chunk size. util.semantic_search's
// query_chunk_size and corpus_chunk_size only bound its memory use: they do
// not change which hits it returns, so they have no counterpart here.
// When k exceeds the corpus size every corpus entry is returned, as the
// reference does.
//
// # Performance
//
// Scoring is one float32 multiply-add per query, corpus row and dimension,
// so a search costs 2·queries·rows·dim flops, and its time grows linearly
// with the corpus (BenchmarkScaling measures the rate). Workers, one per
// core by default, take chunks of corpus rows in turn. A batch of at least
// 96 queries (16 on CPUs with AVX-512) is scored chunk by chunk with matrix
// products (internal/gemm's packed, cache-blocked Sgemm); a smaller
// batch, which is bound by reading the corpus rather than by arithmetic, is
// scored by an unrolled AVX2/FMA assembly kernel (portable Go elsewhere)
// that reads each corpus row once. Each query keeps its best k in a small
// heap, fed straight from the cache-resident block of scores.
//
// A [Corpus] holds its embeddings in one contiguous row-major block,
// normalized once when it is built for cosine scores, so it can be searched
// many times at no cost but the scoring. [TopK] never copies the whole
// corpus: each worker copies one chunk of rows at a time into a buffer that
// stays in cache, measures the rows' norms in the same pass, and multiplies
// the raw scores by the reciprocal norms instead of dividing the rows.
//
// A score does not depend on the number of workers, the chunk size or the
// other queries of the batch, as long as the batch stays on the same side of
// that threshold: the two scoring paths, and TopK's scaled scores versus a
// Corpus's normalized rows, sum in different orders and so agree to float32
// rounding, not bit for bit.
//
// # Hard negatives
//
// [MineHardNegatives] adds hard negatives to (query, positive) pairs as
// sentence-transformers' util.mine_hard_negatives does, from embeddings
// rather than a model (this package holds no model code): each query's best
// corpus rows less its positives, with the reference's rank window, score
// and margin filters and top or random sampling, from one or more
// retrievers whose negatives are pooled as GPL pools those of its two
// dense retrievers. It scores the corpus with the same blocked machinery
// as [TopK], a batch of queries at a time, so that mining a corpus of a
// million rows takes memory for the embeddings and the candidate heaps of
// one batch, never a queries × corpus score matrix. [Triplets] and
// [Tuples] give the reference's "triplet" and "n-tuple" output as indices.
//
// # Files
//
// [LoadCorpus] reads an embeddings file under one rule: no allocation is
// sized by a number read from the file until that number is checked against
// the file's actual size, and every product (rows × dim, and each shape's
// element count in the safetensors reader) is checked for overflow before it
// is taken. A malformed file costs memory proportional to its size and is an
// error naming the file, the tensor and the problem, never a panic. A file
// that says its rows are normalized (genq.search.score "cosine") is checked
// to hold unit rows, so a stray file cannot give silently wrong scores.
package search
