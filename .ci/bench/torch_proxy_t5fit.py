# Same-machine proxy of one t5.Model.Fit step (BenchmarkFitStep) in plain torch (HF transformers is not
# installable here): T5 v1.0 shapes, 8 pairs of 128 input and 32 target tokens, model.train() with dropout
# 0.1 (embeddings, attention probabilities, sublayer outputs, FF hidden, final norms), tied scaled lm_head,
# cross-entropy, backward, clip_grad_norm_(1.0), torch.optim.AdamW(lr 5e-5, wd 0.01 except layer norms and
# the relative-attention tables). Usage: torch_proxy_t5fit.py [base|small-check] [steps]
import math, resource, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(2); torch.manual_seed(0)
size = sys.argv[1] if len(sys.argv) > 1 else "base"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
d, dkv, H, ff, L = (768, 64, 12, 3072, 12) if size == "base" else (64, 16, 4, 128, 2)
V, B, S, T, p = 32128, 8, 128, 32, 0.1
decay, nodecay = [], []
def par(*shape, scale=1.0, wd=True):
    t = (torch.randn(*shape) * scale).requires_grad_(); (decay if wd else nodecay).append(t); return t
def lin(i, o): return par(o, i, scale=1 / math.sqrt(i))
def par_ones():
    t = torch.ones(d, requires_grad=True); nodecay.append(t); return t
class Attn:
    def __init__(s): s.q, s.k, s.v, s.o, s.n = lin(d, H * dkv), lin(d, H * dkv), lin(d, H * dkv), lin(H * dkv, d), par_ones()
class Blk:
    def __init__(s, cross):
        s.self = Attn(); s.cross = Attn() if cross else None
        s.wi, s.wo, s.n = lin(d, ff), lin(ff, d), par_ones()
emb = par(V, d)
encb, decb = [Blk(False) for _ in range(L)], [Blk(True) for _ in range(L)]
encrel, decrel = par(32, H, wd=False), par(32, H, wd=False)
encfin, decfin = par_ones(), par_ones()
def rms(x, w): return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))
def heads(x): b, t, _ = x.shape; return x.view(b, t, H, dkv).transpose(1, 2)
def attend(a, x, kv, bias):
    q, k, v = heads(x @ a.q.T), heads(kv @ a.k.T), heads(kv @ a.v.T)
    w = F.dropout(torch.softmax(q @ k.transpose(-1, -2) + bias, -1), p)
    b, _, t, _ = q.shape
    return (w @ v).transpose(1, 2).reshape(b, t, -1) @ a.o.T
def ffn(b, x): return F.dropout(torch.relu(rms(x, b.n) @ b.wi.T), p) @ b.wo.T
def stack(blocks, rel, fin, x, bias, enc=None, cbias=None):
    x = F.dropout(x, p)
    for b in blocks:
        x = x + F.dropout(attend(b.self, rms(x, b.self.n), rms(x, b.self.n), bias), p)
        if b.cross is not None:
            x = x + F.dropout(attend(b.cross, rms(x, b.cross.n), enc, cbias), p)
        x = x + F.dropout(ffn(b, x), p)
    return F.dropout(rms(x, fin), p)
ids = torch.randint(2, V, (B, S)); labels = torch.randint(2, V, (B, T))
dec_in = torch.cat([torch.zeros(B, 1, dtype=torch.long), labels[:, :-1]], 1)
ebk, dbk = torch.randint(0, 32, (S, S)), torch.randint(0, 32, (T, T))
causal = torch.full((T, T), -1e9).triu(1)
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}], lr=5e-5)
def step():
    enc = stack(encb, encrel, encfin, emb[ids], encrel[ebk].permute(2, 0, 1)[None])
    dbias = decrel[dbk].permute(2, 0, 1)[None] + causal
    h = stack(decb, decrel, decfin, emb[dec_in], dbias, enc, 0.0)
    loss = F.cross_entropy(((h * d ** -0.5) @ emb.T).view(-1, V), labels.view(-1))
    loss.backward(); torch.nn.utils.clip_grad_norm_(decay + nodecay, 1.0); opt.step(); opt.zero_grad()
    return loss.item()
step()
for _ in range(steps):
    a = time.perf_counter(); step(); dt = time.perf_counter() - a
    print(f"T5 fit step proxy ({size}): {B / dt:.2f} pairs/s ({dt:.2f} s/step)", flush=True)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
