# Same-machine torch proxy of encoder.BenchmarkMarginMSEStep (issue 13, see BENCHMARKS.md): one GPL training
# step of distilbert-base (torch_proxy.py's Enc, train mode, dropout 0.1) with sentence-transformers'
# MarginMSELoss on dot-product scores: 32 (query, positive, negative) triples, queries of 16 tokens, passages
# of 128, labels the teacher margins; backward, clip_grad_norm_ 1.0, AdamW lr 2e-5.
# Usage: /usr/bin/python3 torch_proxy_marginmse.py [small]   (small: 2 layers of width 64, a check that it runs)
import contextlib, io, os, sys, resource, torch
small = "small" in sys.argv[1:]
sys.argv = [sys.argv[0], "none"]  # torch_proxy.py: its definitions only, none of its workloads
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
with contextlib.redirect_stdout(io.StringIO()):  # its closing peak-RSS line
    from torch_proxy import Enc, t  # noqa: E402
torch.manual_seed(0)
B = 32
m = (Enc(d=64, h=4, ff=256, L=2) if small else Enc()).train()
opt = torch.optim.AdamW(m.parameters(), lr=2e-5, weight_decay=0.01)
qi, pi, ni = (torch.randint(1000, 30000, (B, n)) for n in (16, 128, 128))
qm, pm, nm = (torch.ones_like(x) for x in (qi, pi, ni))
labels = torch.tensor([float(i % 7 - 2) for i in range(B)])
def step():
    q, p, n = m(qi, qm), m(pi, pm), m(ni, nm)
    margin = (q * p).sum(-1) - (q * n).sum(-1)  # util.pairwise_dot_score
    loss = torch.nn.functional.mse_loss(margin, labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); opt.zero_grad()
s = t(step, rep=3, warm=2)
print(f"MarginMSE step proxy{' (small)' if small else ''}: {B/s:.2f} triples/s ({s*1e3/B:.1f} ms/triple)", flush=True)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MiB")
