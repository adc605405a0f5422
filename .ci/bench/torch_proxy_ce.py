# Same-machine torch proxy of encoder's BenchmarkCrossEncoderPredict (see BENCHMARKS.md): a
# BertForSequenceClassification of cross-encoder/ms-marco-MiniLM-L-6-v2's shapes (6 layers, hidden 384,
# 12 heads, intermediate 1536, pooler + one-label classifier), random weights, eval mode, scoring N
# pre-tokenized pairs of T tokens ([CLS] q [SEP] p [SEP], token types 0 then 1) in batches of 32.
# Usage: /usr/bin/python3 torch_proxy_ce.py [N=256] [T=128] [reps=3]   (Debian python3-torch 1.13)
import math, resource, sys, time, torch
torch.set_num_threads(2); torch.manual_seed(0)
N, T = (int(a) for a in (sys.argv[1:3] + ["256", "128"][len(sys.argv[1:3]):]))
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
D, H, FF, L, V = 384, 12, 1536, 6, 30522
class Layer(torch.nn.Module):  # BertLayer: post-LN, exact GELU
    def __init__(s):
        super().__init__()
        s.q, s.k, s.v, s.o = (torch.nn.Linear(D, D) for _ in range(4))
        s.ln1 = torch.nn.LayerNorm(D, eps=1e-12); s.l1 = torch.nn.Linear(D, FF); s.l2 = torch.nn.Linear(FF, D)
        s.ln2 = torch.nn.LayerNorm(D, eps=1e-12)
    def forward(s, x, mask):
        B, T, _ = x.shape; hd = D // H
        sp = lambda y: y.view(B, T, H, hd).transpose(1, 2)
        sc = sp(s.q(x)) @ sp(s.k(x)).transpose(2, 3) / math.sqrt(hd)
        sc = sc + (1.0 - mask[:, None, None, :].float()) * torch.finfo(sc.dtype).min
        c = (torch.softmax(sc, -1) @ sp(s.v(x))).transpose(1, 2).reshape(B, T, D)
        x = s.ln1(s.o(c) + x)
        return s.ln2(s.l2(torch.nn.functional.gelu(s.l1(x))) + x)
class CrossEncoder(torch.nn.Module):  # BertForSequenceClassification(num_labels=1), eval
    def __init__(s):
        super().__init__()
        s.we, s.pe, s.te = torch.nn.Embedding(V, D), torch.nn.Embedding(512, D), torch.nn.Embedding(2, D)
        s.ln = torch.nn.LayerNorm(D, eps=1e-12); s.layers = torch.nn.ModuleList(Layer() for _ in range(L))
        s.pooler = torch.nn.Linear(D, D); s.classifier = torch.nn.Linear(D, 1)
    def forward(s, ids, types, mask):
        x = s.ln(s.we(ids) + s.te(types) + s.pe(torch.arange(ids.shape[1])))
        for l in s.layers: x = l(x, mask)
        return s.classifier(torch.tanh(s.pooler(x[:, 0])))
m = CrossEncoder().eval()
ids = torch.randint(1000, 30000, (N, T)); mask = torch.ones_like(ids)
types = torch.zeros_like(ids); types[:, 14:] = 1  # a query of 12 tokens between [CLS] and [SEP]
def run():
    with torch.no_grad():
        return torch.cat([m(ids[i:i + 32], types[i:i + 32], mask[i:i + 32])[:, 0] for i in range(0, N, 32)])
assert run().shape == (N,)
ts = []
for _ in range(REPS):
    a = time.perf_counter(); run(); ts.append(time.perf_counter() - a)
s = sorted(ts)[len(ts) // 2]
print(f"CE proxy MiniLM-L6 {N} pairs x {T} tokens, batch 32 (no tokenization): {N / s:.1f} pairs/s ({s:.3f} s)", flush=True)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
