# PyTorch doing P1-P3 on the GPU, beside genq's cuda build in .ci/gpu/run.sh (issue 14's yardstick):
#   P1  HF T5ForConditionalGeneration.generate, t5-base v1.0 config (random weights), 8 x 256 input ids,
#       do_sample, top_p 0.95, 3 sequences each, exactly 32 new tokens (bench_hf.py's P1 call)
#   P2  a DistilBERT bi-encoder MNRL step (mean pooling, cos-sim x 20, cross-entropy, backward,
#       clip_grad_norm_ 1.0, AdamW lr 2e-5), 16 pairs of 16 / 128 tokens (bench_hf.py's P2 step)
#   P3  encoding 256 passages of 128 tokens in batches of 32, eval mode, no tokenization
# Uses transformers when the GPU machine has it; otherwise the plain-torch proxies of .ci/bench
# (the same shapes) with GENQ_TORCH_DEVICE=cuda. Prints one line per workload and the peak GPU
# memory torch allocated (torch.cuda.max_memory_allocated) for each.
#
#   python3 .ci/gpu/torch_gpu.py [p1] [p2] [p3]
import os, subprocess, sys, time

import torch

what = sys.argv[1:] or ["p2", "p3", "p1"]
if not torch.cuda.is_available():
    sys.exit("torch_gpu.py: torch sees no CUDA device")
dev = torch.device("cuda")
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}", flush=True)
try:
    import transformers
    from transformers import DistilBertConfig, DistilBertModel, T5Config, T5ForConditionalGeneration
except ImportError:
    transformers = None


def timed(fn, rep=3, warm=1):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(rep):
        a = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - a)
    ts.sort()
    return ts[len(ts) // 2]


def peak(name):
    print(f"{name} peak GPU memory allocated by torch: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB", flush=True)
    torch.cuda.reset_peak_memory_stats()


if transformers is None:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench")
    env = dict(os.environ, GENQ_TORCH_DEVICE="cuda")
    print("torch_gpu.py: transformers is not installed; running the plain-torch proxies on the GPU", flush=True)
    rest = [w for w in what if w in ("p2", "p3")]
    if rest:
        subprocess.run([sys.executable, os.path.join(here, "torch_proxy.py")] + rest, env=env, check=True)
    if "p1" in what:
        subprocess.run([sys.executable, os.path.join(here, "torch_proxy_p1.py"), "3"], env=env, check=True)
    sys.exit(0)

torch.manual_seed(0)
if "p2" in what or "p3" in what:
    enc = DistilBertModel(DistilBertConfig()).to(dev)  # distilbert-base-uncased shapes

    def embed(ids, mask):
        x = enc(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)

if "p2" in what:
    qi = torch.randint(1000, 30000, (16, 16), device=dev)
    pi = torch.randint(1000, 30000, (16, 128), device=dev)
    qm, pm = torch.ones_like(qi), torch.ones_like(pi)
    enc.train()
    opt = torch.optim.AdamW(enc.parameters(), lr=2e-5)
    labels = torch.arange(16, device=dev)

    def step():
        a = torch.nn.functional.normalize(embed(qi, qm), dim=1)
        b = torch.nn.functional.normalize(embed(pi, pm), dim=1)
        loss = torch.nn.functional.cross_entropy(a @ b.T * 20, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
        opt.step()
        opt.zero_grad()

    torch.cuda.reset_peak_memory_stats()
    s = timed(step, rep=5, warm=2)
    print(f"P2 torch eager on the GPU: {16 / s:.2f} pairs/s", flush=True)
    peak("P2")

if "p3" in what:
    enc.eval()
    ids = torch.randint(1000, 30000, (256, 128), device=dev)
    mask = torch.ones_like(ids)

    def run():
        with torch.no_grad():
            for i in range(0, 256, 32):
                embed(ids[i:i + 32], mask[i:i + 32]).cpu()

    s = timed(run)
    print(f"P3 torch eager on the GPU (no tokenization): {256 / s:.1f} passages/s", flush=True)
    peak("P3")

if "p1" in what:
    cfg = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_decoder_layers=12,
                   num_heads=12, relative_attention_num_buckets=32, relative_attention_max_distance=128,
                   feed_forward_proj="relu", tie_word_embeddings=True, dropout_rate=0.1,
                   layer_norm_epsilon=1e-6, initializer_factor=1.0, decoder_start_token_id=0, pad_token_id=0,
                   eos_token_id=1)
    model = T5ForConditionalGeneration(cfg).to(dev).eval()
    ids = torch.randint(3, 32000, (8, 256), device=dev)
    mask = torch.ones_like(ids)

    def run():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, top_p=0.95,
                                 num_return_sequences=3, min_new_tokens=32, max_new_tokens=32)
        assert tuple(out.shape) == (24, 33), out.shape
        out.cpu()

    torch.manual_seed(1)
    torch.cuda.reset_peak_memory_stats()
    s = timed(run)
    print(f"P1 HF generate on the GPU (transformers {transformers.__version__}): {24 / s:.2f} queries/s", flush=True)
    peak("P1")
