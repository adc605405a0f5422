# Same-machine torch proxies of bench_hf.py P2, P3, P4 and GEMM (see BENCHMARKS.md).
# Usage: /usr/bin/python3 torch_proxy.py [gemm] [p2] [p3] [p4]   (Debian python3-torch + libopenblas0-pthread)
import time, torch, math, sys
torch.set_num_threads(2)
import os as _os
if _os.environ.get("GENQ_TORCH_DEVICE"):  # .ci/gpu/torch_gpu.py runs these on the GPU (torch >= 2.0)
    torch.set_default_device(_os.environ["GENQ_TORCH_DEVICE"])
torch.manual_seed(0)
def t(fn, rep=3, warm=1):
    for _ in range(warm): fn()
    ts=[]
    for _ in range(rep):
        a=time.perf_counter(); fn()
        if torch.cuda.is_available() and _os.environ.get("GENQ_TORCH_DEVICE"): torch.cuda.synchronize()
        ts.append(time.perf_counter()-a)
    ts.sort(); return ts[len(ts)//2]
what = sys.argv[1:] or ["gemm","p4","p3","p2"]
if "gemm" in what:
    for n in (1024, 2048):
        a=torch.randn(n,n); b=torch.randn(n,n)
        s=t(lambda: a@b, rep=5)
        print(f"gemm {n}^3: {2*n**3/s/1e9:.1f} GFLOP/s", flush=True)
    a=torch.randn(4096,768); w=torch.randn(3072,768)
    s=t(lambda: a@w.T, rep=5); print(f"gemm 4096x768x3072 (x@W^T): {2*4096*768*3072/s/1e9:.1f} GFLOP/s", flush=True)
if "p4" in what:
    g=torch.Generator().manual_seed(0)
    corpus=torch.randn(100_000,768,generator=g); q=torch.randn(100,768,generator=g)
    def run():  # util.semantic_search core: cos_sim (normalize both) + topk over one chunk
        qn=torch.nn.functional.normalize(q,p=2,dim=1); cn=torch.nn.functional.normalize(corpus,p=2,dim=1)
        sc=qn@cn.T
        v,i=torch.topk(sc,10,dim=1,largest=True,sorted=False)
        return v.tolist(), i.tolist()
    s=t(run); print(f"P4 proxy: {100/s:.1f} queries/s", flush=True)
class Layer(torch.nn.Module):  # DistilBERT TransformerBlock: post-LN, exact GELU
    def __init__(s, d=768, h=12, ff=3072, p=0.1):
        super().__init__(); s.h=h
        s.q=torch.nn.Linear(d,d); s.k=torch.nn.Linear(d,d); s.v=torch.nn.Linear(d,d); s.o=torch.nn.Linear(d,d)
        s.ln1=torch.nn.LayerNorm(d,eps=1e-12); s.l1=torch.nn.Linear(d,ff); s.l2=torch.nn.Linear(ff,d); s.ln2=torch.nn.LayerNorm(d,eps=1e-12)
        s.drop=torch.nn.Dropout(p)
    def forward(s,x,mask):
        B,T,D=x.shape; hd=D//s.h
        sp=lambda y: y.view(B,T,s.h,hd).transpose(1,2)
        q=sp(s.q(x))/math.sqrt(hd); k=sp(s.k(x)); v=sp(s.v(x))
        sc=q@k.transpose(2,3); sc=sc.masked_fill((mask==0).view(B,1,1,T), torch.finfo(sc.dtype).min)
        w=s.drop(torch.softmax(sc,-1)); c=(w@v).transpose(1,2).reshape(B,T,D)
        x=s.ln1(s.o(c)+x); y=s.l2(s.drop(torch.nn.functional.gelu(s.l1(x)))) ; return s.ln2(s.drop(y)+x)
class Enc(torch.nn.Module):
    def __init__(s, d=768, h=12, ff=3072, L=6, vocab=30522):
        super().__init__(); s.we=torch.nn.Embedding(vocab,d); s.pe=torch.nn.Embedding(512,d); s.ln=torch.nn.LayerNorm(d,eps=1e-12)
        s.layers=torch.nn.ModuleList([Layer(d,h,ff) for _ in range(L)])
    def forward(s,ids,mask):
        x=s.ln(s.we(ids)+s.pe(torch.arange(ids.shape[1])))
        for l in s.layers: x=l(x,mask)
        m=mask.unsqueeze(-1).float(); return (x*m).sum(1)/m.sum(1).clamp(min=1e-9)
if "p3" in what:
    for name,(d,h,ff) in {"distilbert":(768,12,3072),"minilm":(384,12,1536)}.items():
        m=Enc(d,h,ff).eval(); ids=torch.randint(1000,30000,(256,128)); mask=torch.ones_like(ids)
        def run():
            with torch.no_grad():
                for i in range(0,256,32): m(ids[i:i+32],mask[i:i+32])
        s=t(run, rep=3); print(f"P3 proxy {name} (no tokenization): {256/s:.1f} passages/s", flush=True)
if "p2" in what:
    m=Enc().train(); opt=torch.optim.AdamW(m.parameters(), lr=2e-5)
    qi=torch.randint(1000,30000,(16,16)); pi=torch.randint(1000,30000,(16,128))
    qm=torch.ones_like(qi); pm=torch.ones_like(pi)
    def step():
        a=m(qi,qm); b=m(pi,pm)
        sc=torch.nn.functional.normalize(a,dim=1)@torch.nn.functional.normalize(b,dim=1).T*20
        loss=torch.nn.functional.cross_entropy(sc,torch.arange(16)); loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step(); opt.zero_grad()
    s=t(step, rep=3, warm=2); print(f"P2 proxy: {16/s:.2f} pairs/s", flush=True)
import resource; print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MiB")
