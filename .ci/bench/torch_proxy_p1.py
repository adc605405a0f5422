# Same-machine proxy of bench_hf.py's P1 in plain torch (HF transformers is not installable here):
# t5-base v1.0 shapes, encoder once, outputs expanded x3 (as HF's generate does), 32 sampled steps
# with a torch.cat-grown KV cache, top-k 50 then top-p 0.95, multinomial.
import time, math, torch, resource, sys
torch.set_num_threads(2); torch.manual_seed(0)
import os as _os
if _os.environ.get("GENQ_TORCH_DEVICE"):  # .ci/gpu/torch_gpu.py runs these on the GPU (torch >= 2.0)
    torch.set_default_device(_os.environ["GENQ_TORCH_DEVICE"])
d, dkv, H, ff, L, V = 768, 64, 12, 3072, 12, 32128
def lin(i, o): return torch.randn(o, i) * (1 / math.sqrt(i))
class Blk:
    def __init__(s, cross):
        s.q, s.k, s.v, s.o = [lin(d, H*dkv) for _ in range(3)] + [lin(H*dkv, d)]
        if cross: s.cq, s.ck, s.cv, s.co = [lin(d, H*dkv) for _ in range(3)] + [lin(H*dkv, d)]
        s.wi, s.wo = lin(d, ff), lin(ff, d)
def rms(x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
def heads(x): B, T, _ = x.shape; return x.view(B, T, H, dkv).transpose(1, 2)
def attn(q, k, v, bias): 
    s = q @ k.transpose(-1, -2) + bias; return (torch.softmax(s.float(), -1) @ v)
emb = torch.randn(V, d)
encb = [Blk(False) for _ in range(L)]; decb = [Blk(True) for _ in range(L)]
relb = torch.randn(32, H)
def enc(ids, mask):
    x = emb[ids]; B, T, _ = x.shape
    bias = relb[torch.randint(0, 32, (T, T))].permute(2, 0, 1)[None] + (1 - mask[:, None, None, :]) * -1e9
    for b in encb:
        h = rms(x); q, k, v = heads(h @ b.q.T), heads(h @ b.k.T), heads(h @ b.v.T)
        x = x + (attn(q, k, v, bias).transpose(1, 2).reshape(B, T, -1) @ b.o.T)
        x = x + torch.relu(rms(x) @ b.wi.T) @ b.wo.T
    return rms(x)
def generate(ids, mask, n=3, steps=32):
    with torch.no_grad():
        e = enc(ids, mask).repeat_interleave(n, 0); m = mask.repeat_interleave(n, 0)
        B = e.shape[0]; cbias = (1 - m[:, None, None, :]) * -1e9
        ck = [heads(e @ b.ck.T) for b in decb]; cv = [heads(e @ b.cv.T) for b in decb]
        cache = [None] * L; tok = torch.zeros(B, dtype=torch.long); out = [tok]
        for t in range(steps):
            x = emb[tok][:, None]; sb = relb[torch.randint(0, 32, (1, t + 1))].permute(2, 0, 1)[None]
            for i, b in enumerate(decb):
                h = rms(x); q, k, v = heads(h @ b.q.T), heads(h @ b.k.T), heads(h @ b.v.T)
                if cache[i] is not None: k = torch.cat([cache[i][0], k], 2); v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                x = x + attn(q, k, v, sb).transpose(1, 2).reshape(B, 1, -1) @ b.o.T
                h = rms(x); x = x + attn(heads(h @ b.cq.T), ck[i], cv[i], cbias).transpose(1, 2).reshape(B, 1, -1) @ b.co.T
                x = x + torch.relu(rms(x) @ b.wi.T) @ b.wo.T
            logits = (rms(x)[:, 0] * d ** -0.5) @ emb.T
            kth = torch.topk(logits, 50)[0][..., -1, None]; logits = logits.masked_fill(logits < kth, -float("inf"))
            sl, si = torch.sort(logits, descending=False); cp = sl.softmax(-1).cumsum(-1)
            rm = cp <= 1 - 0.95; rm[..., -1:] = 0; logits = logits.masked_fill(rm.scatter(1, si, rm), -float("inf"))
            tok = torch.multinomial(logits.softmax(-1), 1)[:, 0]; out.append(tok)
        return torch.stack(out, 1)
ids = torch.randint(3, 32000, (8, 256)); mask = torch.ones(8, 256)
generate(ids[:1, :16], mask[:1, :16], steps=2)
ts = []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    a = time.perf_counter(); t0 = time.perf_counter(); enc(ids, mask); te = time.perf_counter() - t0
    a = time.perf_counter(); generate(ids, mask).cpu(); ts.append(time.perf_counter() - a)
    print(f"P1 proxy: {24/ts[-1]:.2f} queries/s ({ts[-1]:.1f} s/batch, encoder alone {te:.1f} s)", flush=True)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MiB")
