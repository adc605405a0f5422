package t5

// Incremental decoding: the decoder run one position at a time for n rows
// with a key/value cache that grows with the positions decoded. This file
// holds the step's state; the arithmetic is each module's step method,
// beside its graph and forward ones (attention.go, ff.go, norm.go,
// block.go, stack.go, model.go).
//
// The step is written directly against the float32 GEMM of internal/gemm
// and the attention kernel of internal/kernel rather than as a gorgonia
// graph. A tape machine allocates every op's output afresh on each run and
// needs equal batch sizes on both sides of a batched product, so the
// samples of one passage would each need their own copy of the encoder's
// keys and values. Here every buffer is allocated once per stepper, the rep
// rows of a passage attend to its cross-attention keys and values packed
// once per generation, each module packs its weights on first use (once
// per Model), and the per-head work runs on all cores.

import (
	"fmt"

	"github.com/genq-go/genq/internal/gemm"
)

// stepper decodes n rows one position at a time. Row r belongs to passage
// r / rep of the encoded batch.
type stepper struct {
	m         *Model
	n, e, L   int               // rows, encoder length, cache slots allocated (grown up to limit)
	limit     int               // the most positions the stepper decodes
	rep       int               // rows per passage
	k, v      [][]float32       // per decoder layer: cache [n·H, L, d_kv]
	ck, cv    [][]*gemm.PackedB // per decoder layer, per (passage, head): Kᵀ (d_kv → e) and V (e → d_kv), packed
	crossBias []float32         // [passages, e]: 0 for real encoder positions, min for padding
	pos       int               // the position the next step decodes
	x, h      []float32         // [n, d_model] states, normed states
	q         []float32         // [n, inner] cross-attention queries
	qkv       []float32         // [n, 3·inner] the current position's self-attention queries, keys and values
	ctx, out  []float32         // [n, inner] attention context; [n, d_model] sublayer output
	ff, ff1   []float32         // [n, d_ff]
	logits    []float32         // [n, vocab], overwritten by every step
	selfBias  []float32         // [H, L]: the current position's bias to each cache slot
	dev       stepDevice        // the step on the GPU (cuda builds, step_cuda.go); nil: on the CPU
}

// stepDevice runs a stepper's step on a GPU (step_cuda.go): step computes
// the current position st.pos for ids into st.logits, reorder is reorder
// on the device's key/value cache. The stepper keeps the position, the
// grown slot count and the biases on the host, so that both share them.
type stepDevice interface {
	step(ids []int) error
	reorder(from []int) error
}

// initialSlots is the number of cache slots a stepper starts with (fewer
// when it decodes fewer positions); the cache doubles when it is full.
var initialSlots = 32

// maxStepBuffer is the most float32 values (8 GiB) that one buffer of the
// decoder step may hold: the logits of all rows, one layer's key/value
// cache, and so on. Sizes are checked against it, and for overflow, before
// anything is allocated.
const maxStepBuffer = 1 << 31

// mulSize returns the product of dims, and false when it overflows int or
// exceeds maxStepBuffer (or a dim is negative).
func mulSize(dims ...int) (int, bool) {
	p := 1
	for _, d := range dims {
		if d < 0 || (d > 0 && p > maxStepBuffer/d) {
			return 0, false
		}
		p *= d
	}
	return p, true
}

// stepRows returns the number of rows of a stepper for rep rows per
// passage of passages, or an error when they or the largest per-row buffer
// (the logits, the feed-forward activations or the attention projections)
// would exceed maxStepBuffer.
func (m *Model) stepRows(passages, rep int) (int, error) {
	cfg := m.cfg
	n, ok := mulSize(passages, rep)
	if _, ok2 := mulSize(n, max(cfg.VocabSize, cfg.DFF, 3*cfg.InnerDim(), cfg.DModel)); !ok || !ok2 {
		return 0, fmt.Errorf("t5: decoding %d passages with %d rows each (NumBeams, or NumReturnSequences when sampling) needs step buffers over %d values (%d GiB) for a vocabulary of %d; lower BatchSize, NumBeams or NumReturnSequences",
			passages, rep, maxStepBuffer, maxStepBuffer>>28, cfg.VocabSize)
	}
	return n, nil
}

// newStepper prepares decoding of rep rows per passage of the encoded batch b
// (enc holds the encoder graph's output "hidden") for up to limit positions:
// it projects and packs every decoder layer's cross-attention keys and
// values. The key/value cache starts small and grows with the positions
// decoded. In a `cuda` build the step runs on the GPU (deviceStep). The
// caller holds m.mu.
func (m *Model) newStepper(b *batch, enc map[string][]float32, rep, limit int) (*stepper, error) {
	cfg := m.cfg
	h, d, dm, inner := cfg.NumHeads, cfg.DKV, cfg.DModel, cfg.InnerDim()
	if limit < 1 {
		return nil, fmt.Errorf("t5: internal error: a decoder for %d positions", limit)
	}
	n, err := m.stepRows(b.n, rep)
	if err != nil {
		return nil, err
	}
	st := &stepper{m: m, n: n, e: b.s, L: min(limit, initialSlots), limit: limit, rep: rep}
	if _, ok := mulSize(n, h, st.L, d); !ok {
		return nil, st.cacheError(st.L)
	}
	hidden := enc["hidden"]
	if len(hidden) != b.n*b.s*dm {
		return nil, fmt.Errorf("t5: internal error: encoder output of %d values, want %d", len(hidden), b.n*b.s*dm)
	}
	// Every buffer comes from the workspace, so that generations of one
	// shape reuse the memory of the last. None needs clearing: each step
	// writes what it reads (cache slot pos before slots 0..pos).
	ws := m.workspace()
	buf := func(role string, size int) []float32 { return ws.get("step."+role, size) }
	st.crossBias = buf("crossBias", b.n*b.s)
	for i, mk := range b.mask {
		st.crossBias[i] = float32(1-mk) * minFloat32
	}
	st.logits = buf("logits", n*cfg.VocabSize)
	st.selfBias = buf("selfBias", h*st.L)
	if st.dev, err = m.deviceStep(st, hidden); err != nil {
		return nil, err
	}
	if st.dev != nil {
		return st, nil // on the GPU, the device holds the rest of the step's state
	}
	kv := buf("kv", b.s*2*inner) // one passage's cross-attention keys and values at a time
	for i, bl := range m.mod.decoder.blocks {
		ck, cv := ws.packs(fmt.Sprintf("step.ck%d", i), b.n*h), ws.packs(fmt.Sprintf("step.cv%d", i), b.n*h)
		bl.cross.attn.stepKeysValues(ck, cv, kv, hidden, b.n, b.s)
		st.ck, st.cv = append(st.ck, ck), append(st.cv, cv)
		st.k = append(st.k, buf(fmt.Sprintf("k%d", i), n*h*st.L*d))
		st.v = append(st.v, buf(fmt.Sprintf("v%d", i), n*h*st.L*d))
	}
	st.x, st.h, st.out = buf("x", n*dm), buf("h", n*dm), buf("out", n*dm)
	st.q, st.qkv, st.ctx = buf("q", n*inner), buf("qkv", n*3*inner), buf("ctx", n*inner)
	st.ff = buf("ff", n*cfg.DFF)
	if cfg.Gated() {
		st.ff1 = buf("ff1", n*cfg.DFF)
	}
	return st, nil
}

// cacheError is the error for a key/value cache of slots positions that
// would exceed maxStepBuffer.
func (st *stepper) cacheError(slots int) error {
	return fmt.Errorf("t5: the decoder's key/value cache for %d rows × %d positions would hold more than %d values per layer (%d GiB); lower MaxLength (or MaxNewTokens), BatchSize, NumBeams or NumReturnSequences",
		st.n, slots, maxStepBuffer, maxStepBuffer>>28)
}

// grow doubles the cache (up to limit slots), moving the pos slots of every
// (row, head) to the wider layout. The caller holds m.mu.
func (st *stepper) grow() error {
	cfg := st.m.cfg
	h, d := cfg.NumHeads, cfg.DKV
	slots := min(max(2*st.L, 1), st.limit)
	size, ok := mulSize(st.n, h, slots, d)
	if !ok {
		return st.cacheError(slots)
	}
	ws := st.m.workspace()
	for i := range st.k {
		for j, c := range []*[]float32{&st.k[i], &st.v[i]} {
			old := *c
			next := ws.get(fmt.Sprintf("step.%c%d", "kv"[j], i), size)
			// Backwards, so that the move is also right in place (when the
			// workspace's buffer is old's): a row's slots only move up.
			for rh := st.n*h - 1; rh >= 0; rh-- {
				copy(next[rh*slots*d:rh*slots*d+st.pos*d], old[rh*st.L*d:rh*st.L*d+st.pos*d])
			}
			*c = next
		}
	}
	st.selfBias = ws.get("step.selfBias", h*slots)
	st.L = slots
	return nil
}

// encoderOutputs names the encoder graph outputs decoding needs.
func (m *Model) encoderOutputs() []string { return []string{"hidden"} }

// step feeds the current token of every row at position st.pos, stores the
// position's keys and values in the cache and returns the logits [n, vocab].
// The logits buffer is reused by the next step.
func (st *stepper) step(ids []int) ([]float32, error) {
	if st.pos >= st.limit {
		return nil, fmt.Errorf("t5: internal error: the decoder was asked for more than its %d positions", st.limit)
	}
	if st.pos >= st.L {
		if err := st.grow(); err != nil {
			return nil, err
		}
	}
	if len(ids) != st.n {
		return nil, fmt.Errorf("t5: internal error: %d tokens for %d decoder rows", len(ids), st.n)
	}
	cfg := st.m.cfg
	for _, id := range ids {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("t5: token id %d is outside the vocabulary [0, %d)", id, cfg.VocabSize)
		}
	}
	if st.dev != nil {
		if err := st.dev.step(ids); err != nil {
			return nil, err
		}
	} else {
		dm, emb := cfg.DModel, st.m.mod.shared.Data
		for r, id := range ids {
			copy(st.x[r*dm:(r+1)*dm], emb[id*dm:(id+1)*dm])
		}
		if err := st.m.mod.decoder.step(st); err != nil {
			return nil, err
		}
		st.m.mod.stepHead(st)
	}
	st.pos++
	return st.logits, nil
}

// reorder makes row r continue from the cache of row from[r] (beam search).
func (st *stepper) reorder(from []int) error {
	if st.dev != nil {
		return st.dev.reorder(from)
	}
	block := st.m.cfg.NumHeads * st.L * st.m.cfg.DKV
	for i := range st.k {
		for _, c := range []*[]float32{&st.k[i], &st.v[i]} {
			old := *c
			next := make([]float32, len(old))
			for r, f := range from {
				copy(next[r*block:(r+1)*block], old[f*block:(f+1)*block])
			}
			*c = next
		}
	}
	return nil
}

// packLinear packs nn.Linear weights (out_i, in) in PyTorch's layout side by
// side, as one (in → Σ out_i) operand of the step's products.
func packLinear(ws ...*Tensor) *gemm.PackedB {
	in := ws[0].Shape[1]
	if len(ws) == 1 {
		return gemm.PackB(true, in, ws[0].Shape[0], ws[0].Data, in)
	}
	var stacked []float32 // the weights' rows one after the other: (Σ out_i, in)
	for _, w := range ws {
		stacked = append(stacked, w.Data...)
	}
	return gemm.PackB(true, in, len(stacked)/in, stacked, in)
}

// linear writes x [rows, in] times the packed weight (in → out) to dst
// [rows, out] (nn.Linear without bias).
func linear(dst, x []float32, w *gemm.PackedB, rows int) {
	gemm.SgemmPacked(false, rows, 1, x, w.K(), w, 0, dst, w.N())
}

// addTo adds y to x elementwise.
func addTo(x, y []float32) {
	for i, v := range y {
		x[i] += v
	}
}
