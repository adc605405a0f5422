# Same-machine torch proxy of BenchmarkMine100kx768 (package search): the tensor core of
# sentence-transformers' util.mine_hard_negatives (use_faiss=False) on given embeddings, 1,000
# (query, positive) pairs against a 100,000 x 768 corpus, cosine: model.similarity over the whole
# query set, topk(range_max + max_positives), positives masked to -inf, the margin filter,
# topk(range_max), [range_min:], the first num_negatives. Two recipes, as in the Go benchmark:
# top50 (num_negatives=50, range_max=50) and relative-margin (num_negatives=5,
# relative_margin=0.05, range_max = 10*5 + 1). Reports queries/s and the process's peak RSS.
# Usage: /usr/bin/python3 torch_proxy_mine.py [corpus_rows]   (default 100000)
import resource, sys, time, torch
torch.set_num_threads(2)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
nq, dim = 1000, 768
g = torch.Generator().manual_seed(5)
corpus = torch.randn(n, dim, generator=g); queries = torch.randn(nq, dim, generator=g)
pos = torch.arange(nq) * (n // nq)
def mine(num_negatives, range_max, relative_margin=None):
    q = torch.nn.functional.normalize(queries, p=2, dim=1); c = torch.nn.functional.normalize(corpus, p=2, dim=1)
    scores = q @ c.T
    scores, indices = torch.topk(scores, k=range_max + 1, dim=1)
    pos_scores = (q * c[pos]).sum(-1)
    scores[indices == pos[:, None]] = -float("inf")
    if relative_margin is not None:
        scores[scores > pos_scores[:, None] * (1 - relative_margin)] = -float("inf")
    neg_scores, local = torch.topk(scores, k=range_max, dim=1)
    idx = indices.gather(1, local)[:, :num_negatives]
    return idx.tolist(), neg_scores[:, :num_negatives].tolist()
for name, args in [("top50", (50, 50)), ("relative-margin", (5, 51, 0.05))]:
    mine(*args)  # warm-up
    t = time.perf_counter(); mine(*args); s = time.perf_counter() - t
    print(f"mine {name} {nq} queries x {n} x {dim}: {nq / s:.1f} queries/s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000:.0f} MB", flush=True)
