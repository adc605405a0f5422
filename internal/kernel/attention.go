package kernel

import (
	"fmt"

	"github.com/genq-go/genq/internal/gemm"
)

// Layout locates the per-head blocks of one attention operand inside a flat
// slice, so that the kernels read projections in place (no split into
// heads, no copy): element j of row i of head h of sequence b is at
//
//	Off + b·Batch + h·Head + i·Row + j
//
// with j < HeadDim (q, k, v, output) or j < Keys (bias, columns contiguous).
// A stride of 0 broadcasts: a bias with Row 0 is one row of key biases (a
// padding mask) for every query, with Head 0 the same for every head.
type Layout struct{ Off, Batch, Head, Row int }

// Rows is the layout of heads side by side in rows of width ld, seq rows per
// sequence, head h in columns col + h·headDim … + headDim: a [B·seq, ld]
// projection, ld = H·headDim, or one of a fused projection (q|k|v with ld =
// 3·H·headDim and col 0, H·headDim or 2·H·headDim; k|v with ld =
// 2·H·headDim).
func Rows(seq, ld, col, headDim int) Layout {
	return Layout{Off: col, Batch: seq * ld, Head: headDim, Row: ld}
}

// Blocks is the layout of a [B·H, rows, width] tensor: one contiguous
// rows×width block per (sequence, head); T5's bias [B·H, S, T] or a key/
// value cache [B·H, slots, headDim].
func Blocks(heads, rows, width int) Layout {
	return Layout{Batch: heads * rows * width, Head: rows * width, Row: width}
}

// at returns the index of row i of head h of sequence b.
func (l Layout) at(b, h, i int) int { return l.Off + b*l.Batch + h*l.Head + i*l.Row }

// span returns how many elements a slice in this layout must hold.
func (l Layout) span(batch, heads, rows, width int) int {
	if batch == 0 || heads == 0 || rows == 0 || width == 0 {
		return 0
	}
	return l.at(batch-1, heads-1, rows-1) + width
}

// Attention describes multi-head attention over a batch: for each sequence
// b < Batch and head h < Heads,
//
//	out[b,h] = softmax(Scale · q[b,h]·k[b,h]ᵀ + bias[b,h]) · v[b,h]
//
// with q[b,h] Queries×HeadDim, k[b,h] and v[b,h] Keys×HeadDim, bias[b,h]
// Queries×Keys and out[b,h] Queries×HeadDim, each located by its Layout.
// The bias is optional and carries everything additive: T5's relative
// position bias with the padding/causal mask folded in (T5: Scale 1, bias
// Blocks(H, S, T)), or BERT's additive padding mask (Scale 1/√HeadDim, bias
// Layout{Batch: T}: one row per sequence, broadcast over heads and
// queries). The softmax is SoftmaxRow's (float64 from the row maximum).
//
// The three ways genq runs attention map onto it as follows:
//   - a differentiable graph (training) and a fused forward (inference):
//     q, k, v read in place from [B·S, ld] projections with Rows (fused
//     q|k|v for self-attention, q and k|v for cross-attention);
//   - a cached decoder step: Batch rows, Queries 1, Keys the filled cache
//     slots, K and V Blocks(H, slots, HeadDim) of the cache, bias Layout{Head:
//     slots} (the current position's bias row per head);
//   - cross-attention of a step over encoder keys packed once per
//     generation: PackedK and PackedV, with the rows that share a passage as
//     the Queries of one sequence.
//
// Every (sequence, head) pair is one job; jobs run on all cores (ForEach),
// each as two small products on its goroutine. An Attention holds no
// buffers: one value may be used from several goroutines.
type Attention struct {
	Batch, Heads, Queries, Keys, HeadDim int

	// Scale multiplies q·kᵀ before the bias is added.
	Scale float64

	// Q, K, V and Out locate the operands; Bias the bias when one is given.
	Q, K, V, Out, Bias Layout

	// Keep, when not nil, is attention dropout: the keep mask of the
	// probabilities, [Batch, Heads, Queries, Keys] row-major; kept
	// probabilities are multiplied by KeepScale (1/(1 − p)), the others
	// zeroed. The caller draws it; Attend and AttendBackward only read it.
	Keep      []bool
	KeepScale float64

	// PackedK and PackedV, when not nil, replace k and v (float32 forward
	// only): for job b·Heads + h, PackedK holds k[b,h]ᵀ packed as gemm's B
	// operand (HeadDim → Keys) and PackedV v[b,h] (Keys → HeadDim), packed
	// once and multiplied many times.
	PackedK, PackedV []*gemm.PackedB
}

// check reports an attention whose operands do not fit their slices.
func (a *Attention) check(q, k, v, bias, out int, backward bool) error {
	if a.Batch < 0 || a.Heads <= 0 || a.Queries < 0 || a.Keys <= 0 || a.HeadDim <= 0 {
		return fmt.Errorf("attention over %d sequences, %d heads, %d queries, %d keys of dim %d: every size must be positive", a.Batch, a.Heads, a.Queries, a.Keys, a.HeadDim)
	}
	jobs := a.Batch * a.Heads
	type operand struct {
		name       string
		have       int
		l          Layout
		rows, cols int
	}
	ops := []operand{{"queries", q, a.Q, a.Queries, a.HeadDim}, {"output", out, a.Out, a.Queries, a.HeadDim}}
	if a.PackedK != nil || a.PackedV != nil {
		if backward {
			return fmt.Errorf("attention: packed keys and values have no backward pass")
		}
		if len(a.PackedK) != jobs || len(a.PackedV) != jobs {
			return fmt.Errorf("attention: %d packed keys and %d packed values for %d (sequence, head) pairs", len(a.PackedK), len(a.PackedV), jobs)
		}
	} else {
		ops = append(ops, operand{"keys", k, a.K, a.Keys, a.HeadDim}, operand{"values", v, a.V, a.Keys, a.HeadDim})
	}
	if bias >= 0 {
		ops = append(ops, operand{"bias", bias, a.Bias, a.Queries, a.Keys})
	}
	for _, o := range ops {
		if need := o.l.span(a.Batch, a.Heads, o.rows, o.cols); o.have < need {
			return fmt.Errorf("attention: %s hold %d values, the layout %+v needs %d", o.name, o.have, o.l, need)
		}
	}
	if a.Keep != nil && len(a.Keep) != jobs*a.Queries*a.Keys {
		return fmt.Errorf("attention: dropout mask of %d values, want %d", len(a.Keep), jobs*a.Queries*a.Keys)
	}
	return nil
}

// lenOr returns len(x), or -1 for nil (an absent optional operand).
func lenOr[T Float](x []T) int {
	if x == nil {
		return -1
	}
	return len(x)
}

// probs sets p (Queries×Keys) to the attention probabilities of job (b, h)
// and returns the job's dropout keep mask (nil without dropout).
func probs[T Float](a *Attention, q, k, bias []T, b, h int, p []T) []bool {
	s, t, d, job := a.Queries, a.Keys, a.HeadDim, b*a.Heads+h
	qp := q[a.Q.at(b, h, 0):]
	switch {
	case a.PackedK != nil:
		gemm.SgemmPacked(false, s, float32(a.Scale), any(qp).([]float32), a.Q.Row, a.PackedK[job], 0, any(p).([]float32), t)
	case s == 1:
		qr := qp[:d]
		for j := range t {
			p[j] = T(float64(Dot(qr, k[a.K.at(b, h, j):])) * a.Scale)
		}
	default:
		GemmSerial(false, true, s, t, d, T(a.Scale), qp, a.Q.Row, k[a.K.at(b, h, 0):], a.K.Row, 0, p, t)
	}
	for i := range s {
		var m []T
		if bias != nil {
			m = bias[a.Bias.at(b, h, i):][:t]
		}
		SoftmaxRow(p[i*t:(i+1)*t], m)
	}
	if a.Keep == nil {
		return nil
	}
	return a.Keep[job*s*t : (job+1)*s*t]
}

// dropout applies a job's keep mask to p in place.
func dropout[T Float](p []T, keep []bool, scale float64) {
	for i, kp := range keep {
		if kp {
			p[i] = T(float64(p[i]) * scale)
		} else {
			p[i] = 0
		}
	}
}

// Attend computes a's attention into out from q, k, v and bias (nil for
// none; k and v are ignored with PackedK/PackedV). q, k and v may be the
// same slice (a fused projection). It writes every head row of out and
// nothing else. Operands that do not fit their layouts are an error.
func Attend[T Float](a *Attention, out, q, k, v, bias []T) error {
	if err := a.check(len(q), len(k), len(v), lenOr(bias), len(out), false); err != nil {
		return err
	}
	s, t, d := a.Queries, a.Keys, a.HeadDim
	if s == 0 || a.Batch == 0 {
		return nil
	}
	if _, ok := any(q).([]float32); !ok && a.PackedK != nil {
		return fmt.Errorf("attention: packed keys and values need float32 queries")
	}
	scratch := make([]T, min(Workers(), a.Batch*a.Heads)*s*t)
	ForEach(a.Batch*a.Heads, func(w, job int) {
		b, h := job/a.Heads, job%a.Heads
		p := scratch[w*s*t : (w+1)*s*t]
		if keep := probs(a, q, k, bias, b, h, p); keep != nil {
			dropout(p, keep, a.KeepScale)
		}
		o := out[a.Out.at(b, h, 0):]
		switch {
		case a.PackedV != nil:
			gemm.SgemmPacked(false, s, 1, any(p).([]float32), t, a.PackedV[job], 0, any(o).([]float32), a.Out.Row)
		case s == 1:
			o = o[:d]
			clear(o)
			for j, pj := range p {
				Axpy(pj, v[a.V.at(b, h, j):][:d], o)
			}
		default:
			GemmSerial(false, false, s, d, t, 1, p, t, v[a.V.at(b, h, 0):], a.V.Row, 0, o, a.Out.Row)
		}
	})
	return nil
}

// AttendBackward computes the gradients of Attend from its inputs and the
// output gradient dout (in a.Out's layout), recomputing the probabilities
// and reusing a.Keep: dq, dk and dv in the layouts of q, k and v (each may
// be nil to skip it; for a fused projection they may be one slice, each
// (sequence, head) block being written by one job), and, when dbias is not
// nil, the gradient of the scores, which is the bias gradient, as a
// contiguous [Batch, Heads, Queries, Keys] tensor whatever the bias layout
// (sum it over broadcast axes). Only head rows are written: clear a fused
// gradient's other columns first if it has any.
func AttendBackward[T Float](a *Attention, dq, dk, dv, dbias, q, k, v, bias, dout []T) error {
	if err := a.check(len(q), len(k), len(v), lenOr(bias), len(dout), true); err != nil {
		return err
	}
	s, t, d, jobs := a.Queries, a.Keys, a.HeadDim, a.Batch*a.Heads
	for _, g := range []struct {
		name string
		x    []T
		l    Layout
		rows int
	}{{"dq", dq, a.Q, s}, {"dk", dk, a.K, t}, {"dv", dv, a.V, t}} {
		if need := g.l.span(a.Batch, a.Heads, g.rows, d); g.x != nil && len(g.x) < need {
			return fmt.Errorf("attention: %s holds %d values, the layout %+v needs %d", g.name, len(g.x), g.l, need)
		}
	}
	if dbias != nil && len(dbias) < jobs*s*t {
		return fmt.Errorf("attention: dbias holds %d values, want %d", len(dbias), jobs*s*t)
	}
	if s == 0 || a.Batch == 0 {
		return nil
	}
	scratch := make([]T, min(Workers(), jobs)*3*s*t)
	ForEach(jobs, func(w, job int) {
		b, h := job/a.Heads, job%a.Heads
		buf := scratch[w*3*s*t : (w+1)*3*s*t]
		p, pd, dp := buf[:s*t], buf[s*t:2*s*t], buf[2*s*t:]
		keep := probs(a, q, k, bias, b, h, p)
		copy(pd, p)
		if keep != nil {
			dropout(pd, keep, a.KeepScale)
		}
		g := dout[a.Out.at(b, h, 0):]
		qo, ko, vo := a.Q.at(b, h, 0), a.K.at(b, h, 0), a.V.at(b, h, 0)
		if dv != nil { // dv = pdᵀ·g
			GemmSerial(true, false, t, d, s, 1, pd, t, g, a.Out.Row, 0, dv[vo:], a.V.Row)
		}
		// d(pd) = g·vᵀ, through dropout, then softmax: ds = p ⊙ (dp − Σ dp ⊙ p)
		GemmSerial(false, true, s, t, d, 1, g, a.Out.Row, v[vo:], a.V.Row, 0, dp, t)
		if keep != nil {
			dropout(dp, keep, a.KeepScale)
		}
		for i := range s {
			pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
			dot := Dot64(dr, pr)
			for j := range dr {
				dr[j] = T(float64(pr[j]) * (float64(dr[j]) - dot))
			}
		}
		if dbias != nil {
			copy(dbias[job*s*t:(job+1)*s*t], dp)
		}
		if dq != nil { // dq = Scale·ds·k
			GemmSerial(false, false, s, d, t, T(a.Scale), dp, t, k[ko:], a.K.Row, 0, dq[qo:], a.Q.Row)
		}
		if dk != nil { // dk = Scale·dsᵀ·q
			GemmSerial(true, false, t, d, s, T(a.Scale), dp, t, q[qo:], a.Q.Row, 0, dk[ko:], a.K.Row)
		}
	})
	return nil
}

// Dot returns Σ a[i]·b[i] in T, in four interleaved partial sums (b at
// least as long as a).
func Dot[T Float](a, b []T) T {
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy adds a·x to y (x at least as long as y).
func Axpy[T Float](a T, x, y []T) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}
