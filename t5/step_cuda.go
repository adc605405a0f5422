//go:build cuda

package t5

// The decoder step on the GPU (a `cuda` build): step.go's incremental
// decoding with every buffer, the key/value cache and the encoder's
// cross-attention keys and values in device memory. Each module's device
// step mirrors its CPU step (attention.go, ff.go, norm.go, block.go,
// stack.go, model.go), in that order below: matrix products on cuBLAS
// (device.linear), norms, activations, attention and the embedding lookup
// as genq's kernels (internal/cuda/kernels, the device twins of
// internal/kernel). The host keeps the stepper's position, slot count and
// biases (shared with the CPU step) and reads back each step's logits [n,
// vocab] only, so that the warpers, sampling and beam bookkeeping run
// unchanged: the same seed gives the same queries as on the CPU. A step,
// a reorder and a stepper's setup each run as one piece of work on the
// device's thread (device.run), as do all the methods below but step and
// reorder.
//
// The cache is position-major, [slots, n, inner] per layer: a position's
// keys and values are one contiguous block that the k and v products write
// in place, growing the cache keeps its filled prefix where it is, and
// attention reads it through its layout (kernel.Layout{Batch: inner, Head:
// d_kv, Row: n·inner}).

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda/kernels"
	"github.com/genq-go/genq/internal/kernel"
	"gorgonia.org/cu"
)

// deviceStep is a stepper's state on the GPU.
type deviceStep struct {
	d     *device
	st    *stepper
	slots int // cache slots allocated on the device

	k, v, ck, cv []cu.DevicePtr // per decoder layer: the cache [slots, n, inner]; cross keys and values [passages·e, inner]

	ids                 cu.DevicePtr // [n] int64: the step's tokens (or a reorder's rows)
	x, h                cu.DevicePtr // [n, d_model] states, normed states
	q, ctx              cu.DevicePtr // [n, inner] queries, attention context
	ff, ff1             cu.DevicePtr // [n, d_ff]
	logits              cu.DevicePtr // [n, vocab]
	selfBias, crossBias cu.DevicePtr // [H, L] (st.selfBias), [passages, e] (st.crossBias)
}

// deviceStep returns st's step on the GPU, with the cross-attention keys
// and values of every decoder layer projected from the encoder output
// hidden [passages·e, d_model]; nil when the model's step runs on the CPU.
func (m *Model) deviceStep(st *stepper, hidden []float32) (stepDevice, error) {
	d, err := m.mod.gpu()
	if d == nil || err != nil {
		return nil, err
	}
	cfg := m.cfg
	if cfg.DKV > kernels.MaxHeadDim || st.e > kernels.MaxKeys {
		return nil, fmt.Errorf("t5: the decoder step on the GPU supports heads of at most %d values and inputs of at most %d tokens, not d_kv %d and %d tokens",
			kernels.MaxHeadDim, kernels.MaxKeys, cfg.DKV, st.e)
	}
	ds := &deviceStep{d: d, st: st}
	if err := d.run(func() error { return ds.open(hidden) }); err != nil {
		return nil, err
	}
	return ds, nil
}

// open allocates ds's buffers and projects the encoder output hidden to
// the cross-attention keys and values.
func (ds *deviceStep) open(hidden []float32) error {
	st, d, cfg := ds.st, ds.d, ds.st.m.cfg
	n, dm, inner, passages := st.n, cfg.DModel, cfg.InnerDim(), st.n/st.rep
	var err error
	gated := 0
	if cfg.Gated() {
		gated = 1
	}
	for _, b := range []struct {
		p    *cu.DevicePtr
		role string
		n    int // float32s or int64s
	}{
		{&ds.x, "x", n * dm}, {&ds.h, "h", n * dm}, {&ds.q, "q", n * inner}, {&ds.ctx, "ctx", n * inner},
		{&ds.ff, "ff", n * cfg.DFF}, {&ds.ff1, "ff1", gated * n * cfg.DFF}, {&ds.logits, "logits", n * cfg.VocabSize},
		{&ds.crossBias, "crossBias", len(st.crossBias)}, {&ds.ids, "ids", 2 * n}, // int64s
	} {
		if *b.p, err = d.floats("step."+b.role, b.n); err != nil {
			return err
		}
	}
	enc, err := d.floats("step.hidden", len(hidden))
	if err != nil {
		return err
	}
	if err := upload(enc, hidden); err != nil {
		return err
	}
	if err := upload(ds.crossBias, st.crossBias); err != nil {
		return err
	}
	for i, bl := range st.m.mod.decoder.blocks {
		ck, err := d.floats(fmt.Sprintf("step.ck%d", i), passages*st.e*inner)
		if err != nil {
			return err
		}
		cv, err := d.floats(fmt.Sprintf("step.cv%d", i), passages*st.e*inner)
		if err != nil {
			return err
		}
		if err := bl.cross.attn.deviceKeysValues(d, ck, cv, enc, passages*st.e); err != nil {
			return err
		}
		ds.ck, ds.cv = append(ds.ck, ck), append(ds.cv, cv)
	}
	ds.k, ds.v = make([]cu.DevicePtr, len(ds.ck)), make([]cu.DevicePtr, len(ds.ck))
	return ds.grow()
}

// grow makes the device's cache as wide as the stepper's (st.L slots),
// keeping the filled slots, and its bias buffer as large.
func (ds *deviceStep) grow() error {
	st, d := ds.st, ds.d
	if ds.slots >= st.L {
		return nil
	}
	block := int64(4 * st.n * st.m.cfg.InnerDim()) // one slot's bytes
	var err error
	for i := range ds.k {
		if ds.k[i], err = d.buf(fmt.Sprintf("step.k%d", i), int64(st.L)*block, int64(st.pos)*block); err != nil {
			return err
		}
		if ds.v[i], err = d.buf(fmt.Sprintf("step.v%d", i), int64(st.L)*block, int64(st.pos)*block); err != nil {
			return err
		}
	}
	if ds.selfBias, err = d.floats("step.selfBias", len(st.selfBias)); err != nil {
		return err
	}
	ds.slots = st.L
	return nil
}

// cacheSlot returns the address of slot pos of a cache.
func (ds *deviceStep) cacheSlot(cache cu.DevicePtr, pos int) cu.DevicePtr {
	return cache + cu.DevicePtr(4*pos*ds.st.n*ds.st.m.cfg.InnerDim())
}

// step is stepper.step on the GPU: it embeds ids, runs the decoder and the
// head for position st.pos and reads the logits back into st.logits.
func (ds *deviceStep) step(ids []int) error {
	if ds.st.pos >= kernels.MaxKeys {
		return fmt.Errorf("t5: the decoder step on the GPU attends over at most %d positions (output tokens); lower MaxLength or MaxNewTokens", kernels.MaxKeys)
	}
	return ds.d.run(func() error { return ds.run(ids) })
}

// run is step on the device's thread.
func (ds *deviceStep) run(ids []int) error {
	st, d := ds.st, ds.d
	if err := ds.grow(); err != nil {
		return err
	}
	cfg := st.m.cfg
	if err := upload(ds.ids, ids); err != nil {
		return err
	}
	shared, err := d.weight(st.m.mod.shared)
	if err != nil {
		return err
	}
	if err := d.k.Gather(ds.x, shared, ds.ids, st.n, cfg.DModel, cfg.VocabSize); err != nil {
		return deviceError("embedding", err)
	}
	if err := st.m.mod.decoder.deviceStep(ds); err != nil {
		return err
	}
	if err := st.m.mod.deviceStepHead(ds); err != nil {
		return err
	}
	return download(st.logits, ds.logits)
}

// reorder is stepper.reorder on the GPU: row r of every filled cache slot
// becomes row from[r] of the old cache, gathered into scratch memory and
// copied back.
func (ds *deviceStep) reorder(from []int) error {
	return ds.d.run(func() error { return ds.reorderRows(from) })
}

// reorderRows is reorder on the device's thread.
func (ds *deviceStep) reorderRows(from []int) error {
	st, d := ds.st, ds.d
	n, inner, filled := st.n, st.m.cfg.InnerDim(), st.pos
	rows := make([]int, filled*n) // slot i's row r comes from row i·n + from[r] of the old cache
	for i := range filled {
		for r, f := range from {
			rows[i*n+r] = i*n + f
		}
	}
	idx, err := d.buf("step.reorderRows", 8*int64(len(rows)), 0)
	if err != nil {
		return err
	}
	tmp, err := d.floats("step.reorder", filled*n*inner)
	if err != nil {
		return err
	}
	if err := upload(idx, rows); err != nil {
		return err
	}
	for i := range ds.k {
		for _, c := range []cu.DevicePtr{ds.k[i], ds.v[i]} {
			if err := d.k.Gather(tmp, c, idx, len(rows), inner, ds.slots*n); err != nil {
				return deviceError("beam reorder", err)
			}
			if err := copyDevice(c, tmp, len(rows)*inner); err != nil {
				return err
			}
		}
	}
	return nil
}

// deviceError is the error of a kernel of the device step.
func deviceError(what string, err error) error {
	return fmt.Errorf("t5: decoder step on the GPU, %s: %w", what, err)
}

// ---------------------------------------------------------------- modules

// deviceKeysValues is stepKeysValues on the GPU: it projects the encoder
// output enc [rows, d_model] (rows = passages·e) to the module's
// cross-attention keys ck and values cv [rows, inner].
func (a *Attention) deviceKeysValues(d *device, ck, cv, enc cu.DevicePtr, rows int) error {
	dm, inner := a.K.Shape[1], a.K.Shape[0]
	if err := d.linear(ck, inner, enc, dm, a.K, rows, 1, 0); err != nil {
		return err
	}
	return d.linear(cv, inner, enc, dm, a.V, rows, 1, 0)
}

// deviceStepSelf is stepSelf on the GPU, adding its output to res: the
// position's keys and values go straight to slot pos of layer's cache, and
// the query attends over slots 0..pos with the bias ds.selfBias [H, L].
func (a *Attention) deviceStepSelf(ds *deviceStep, layer int, res, x cu.DevicePtr) error {
	st, d := ds.st, ds.d
	cfg := st.m.cfg
	hh, dkv, dm, inner, n := a.NumHeads, cfg.DKV, cfg.DModel, cfg.InnerDim(), st.n
	kc, vc := ds.k[layer], ds.v[layer]
	for _, p := range []struct {
		dst cu.DevicePtr
		w   *Tensor
	}{{ds.q, a.Q}, {ds.cacheSlot(kc, st.pos), a.K}, {ds.cacheSlot(vc, st.pos), a.V}} {
		if err := d.linear(p.dst, inner, x, dm, p.w, n, 1, 0); err != nil {
			return err
		}
	}
	cache := kernel.Layout{Batch: inner, Head: dkv, Row: n * inner}
	att := &kernels.Attention{
		Batch: n, Heads: hh, Queries: 1, Keys: st.pos + 1, HeadDim: dkv, Scale: 1,
		Q: kernel.Rows(1, inner, 0, dkv), K: cache, V: cache,
		Bias: kernel.Layout{Head: st.L},
		Out:  kernel.Rows(1, inner, 0, dkv),
	}
	if err := d.k.Attend(att, ds.ctx, ds.q, kc, vc, ds.selfBias, 0); err != nil {
		return deviceError("self-attention", err)
	}
	return d.linear(res, dm, ds.ctx, inner, a.O, n, 1, 1)
}

// deviceStepCross is stepCross on the GPU, adding its output to res: the
// rep rows of each passage are the queries of one attention over its
// encoder keys and values, with the padding bias ds.crossBias.
func (a *Attention) deviceStepCross(ds *deviceStep, layer int, res, x cu.DevicePtr) error {
	st, d := ds.st, ds.d
	cfg := st.m.cfg
	hh, dkv, dm, inner, n, rep := a.NumHeads, cfg.DKV, cfg.DModel, cfg.InnerDim(), st.n, st.rep
	if err := d.linear(ds.q, inner, x, dm, a.Q, n, 1, 0); err != nil {
		return err
	}
	att := &kernels.Attention{
		Batch: n / rep, Heads: hh, Queries: rep, Keys: st.e, HeadDim: dkv, Scale: 1,
		Q: kernel.Rows(rep, inner, 0, dkv),
		K: kernel.Rows(st.e, inner, 0, dkv), V: kernel.Rows(st.e, inner, 0, dkv),
		Bias: kernel.Layout{Batch: st.e},
		Out:  kernel.Rows(rep, inner, 0, dkv),
	}
	if err := d.k.Attend(att, ds.ctx, ds.q, ds.ck[layer], ds.cv[layer], ds.crossBias, 0); err != nil {
		return deviceError("cross-attention", err)
	}
	return d.linear(res, dm, ds.ctx, inner, a.O, n, 1, 1)
}

// deviceStep is attentionLayer.step on the GPU: ds.x += attend(norm(ds.x)).
func (l *attentionLayer) deviceStep(ds *deviceStep, layer int, attend func(ds *deviceStep, layer int, res, x cu.DevicePtr) error) error {
	if err := l.norm.deviceStep(ds, ds.h, ds.x); err != nil {
		return err
	}
	return attend(ds, layer, ds.x, ds.h)
}

// deviceStep is FeedForward.step on the GPU, adding f(x) to res.
func (f *FeedForward) deviceStep(ds *deviceStep, res, x cu.DevicePtr) error {
	st, d := ds.st, ds.d
	n, dm, dff := st.n, st.m.cfg.DModel, st.m.cfg.DFF
	if f.Gated() {
		if err := d.linear(ds.ff, dff, x, dm, f.Wi0, n, 1, 0); err != nil {
			return err
		}
		if err := d.linear(ds.ff1, dff, x, dm, f.Wi1, n, 1, 0); err != nil {
			return err
		}
		if err := d.k.GatedGELUNew(ds.ff, ds.ff, ds.ff1, n*dff); err != nil {
			return deviceError("feed-forward gate", err)
		}
	} else {
		if err := d.linear(ds.ff, dff, x, dm, f.Wi, n, 1, 0); err != nil {
			return err
		}
		if err := d.k.ReLU(ds.ff, ds.ff, n*dff); err != nil {
			return deviceError("feed-forward ReLU", err)
		}
	}
	return d.linear(res, dm, ds.ff, dff, f.Wo, n, 1, 1)
}

// deviceStep is ffLayer.step on the GPU: ds.x += ff(norm(ds.x)).
func (l *ffLayer) deviceStep(ds *deviceStep) error {
	if err := l.norm.deviceStep(ds, ds.h, ds.x); err != nil {
		return err
	}
	return l.ff.deviceStep(ds, ds.x, ds.h)
}

// deviceStep is LayerNorm.step on the GPU over the step's rows.
func (l *LayerNorm) deviceStep(ds *deviceStep, dst, x cu.DevicePtr) error {
	w, err := ds.d.weight(l.Weight)
	if err != nil {
		return err
	}
	if err := ds.d.k.RMSNorm(dst, x, w, ds.st.n, len(l.Weight.Data), float32(l.Eps)); err != nil {
		return deviceError("layer norm", err)
	}
	return nil
}

// deviceStep is block.step on the GPU.
func (bl *block) deviceStep(ds *deviceStep, i int) error {
	if err := bl.self.deviceStep(ds, i, bl.self.attn.deviceStepSelf); err != nil {
		return err
	}
	if err := bl.cross.deviceStep(ds, i, bl.cross.attn.deviceStepCross); err != nil {
		return err
	}
	return bl.ff.deviceStep(ds)
}

// deviceStep is stack.step on the GPU: the bias row computed on the host
// (stepBias) and uploaded, the blocks, the final norm into ds.h.
func (s *stack) deviceStep(ds *deviceStep) error {
	if err := s.stepBias(ds.st); err != nil {
		return err
	}
	if err := upload(ds.selfBias, ds.st.selfBias); err != nil {
		return err
	}
	for i, bl := range s.blocks {
		if err := bl.deviceStep(ds, i); err != nil {
			return err
		}
	}
	return s.final.deviceStep(ds, ds.h, ds.x)
}

// deviceStepHead is stepHead on the GPU: the logits [n, vocab] of ds.h,
// rescaled (tied embeddings) as the product's alpha.
func (mod *modules) deviceStepHead(ds *deviceStep) error {
	cfg := ds.st.m.cfg
	return ds.d.linear(ds.logits, cfg.VocabSize, ds.h, cfg.DModel, mod.lmHead, ds.st.n, mod.headScale(cfg), 0)
}
