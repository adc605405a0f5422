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
// A [Corpus] holds its embeddings in one contiguous row-major block,
// normalized once when it is built for cosine scores, so it can be searched
// many times. A search splits the corpus into chunks that goroutines take in
// turn; within a chunk, tiles of corpus rows small enough to stay in cache are
// scored against blocks of queries by an unrolled kernel (AVX2 and FMA
// assembly on amd64 when the CPU has them), and each query keeps its best k
// in a small heap.
package search
