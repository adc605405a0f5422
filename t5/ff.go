package t5

// The feed-forward modules — T5DenseActDense (ReLU, T5 v1.0) and
// T5DenseGatedActDense (gated gelu_new, T5 v1.1), both stored under
// DenseReluDense — and T5LayerFF, each in its three ways of running: graph
// (differentiable), forward (fused inference ops) and step (the decoder
// step's rows).

import (
	"fmt"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
)

// FeedForward is the DenseReluDense module of a T5 block: without gating
// (T5DenseActDense, feed_forward_proj "relu") it computes Wo·relu(Wi·x);
// gated (T5DenseGatedActDense, "gated-gelu") it computes
// Wo·(gelu_new(Wi0·x) ⊙ Wi1·x). The weights are bias-free nn.Linear weights
// in PyTorch's (out, in) layout. There is no dropout: the module computes
// eval-mode outputs.
type FeedForward struct {
	// Wi is wi.weight [d_ff, d_model], set when the module is not gated.
	Wi *Tensor
	// Wi0 and Wi1 are wi_0.weight and wi_1.weight [d_ff, d_model], set
	// when it is gated.
	Wi0, Wi1 *Tensor
	// Wo is wo.weight [d_model, d_ff].
	Wo *Tensor

	packed *packedFeedForward // the step's weight layout, built on first use
}

// packedFeedForward holds a FeedForward's weights packed for the step's
// products (wi is wi or wi_0, wi1 is wi_1 or nil).
type packedFeedForward struct {
	wi, wi1, wo *gemm.PackedB
}

// loadFeedForward takes the DenseReluDense weights at v.
func loadFeedForward(v vars, cfg Config) *FeedForward {
	d, ff := cfg.DModel, cfg.DFF
	f := &FeedForward{}
	if cfg.Gated() {
		f.Wi0 = v.pp("wi_0").get("weight", ff, d)
		f.Wi1 = v.pp("wi_1").get("weight", ff, d)
	} else {
		f.Wi = v.pp("wi").get("weight", ff, d)
	}
	f.Wo = v.pp("wo").get("weight", d, ff)
	return f
}

// Gated reports whether the module is T5DenseGatedActDense.
func (f *FeedForward) Gated() bool { return f.Wi0 != nil }

// Forward applies the module to every row of x [..., d_model] and returns a
// new tensor of x's shape.
func (f *FeedForward) Forward(x *Tensor) (*Tensor, error) {
	if f.Wo == nil || len(f.Wo.Shape) != 2 {
		return nil, fmt.Errorf("t5: FeedForward.Wo must be a [d_model, d_ff] tensor")
	}
	d, ff := f.Wo.Shape[0], f.Wo.Shape[1]
	if err := f.Wo.check("FeedForward.Wo", d, ff); err != nil {
		return nil, err
	}
	in := []*Tensor{f.Wi}
	if f.Gated() {
		in = []*Tensor{f.Wi0, f.Wi1}
	}
	for _, w := range in {
		if err := w.check("FeedForward's input weight", ff, d); err != nil {
			return nil, err
		}
	}
	if len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != d || len(x.Data) != numel(x.Shape...) {
		return nil, fmt.Errorf("t5: FeedForward over d_model %d cannot take an input of shape %v", d, x.Shape)
	}
	rows := len(x.Data) / d
	h := linearRows(x.Data, rows, in...)
	if f.Gated() {
		// Row r of h holds wi_0·x | wi_1·x; its gate goes to h's r-th ff
		// values, which rows before r have already been read from.
		for r := range rows {
			kernel.GatedGELUNew(h[r*ff:(r+1)*ff], h[2*r*ff:(2*r+1)*ff], h[(2*r+1)*ff:(2*r+2)*ff])
		}
		h = h[:rows*ff]
	} else {
		kernel.ReLU(h, h)
	}
	return &Tensor{Shape: append([]int(nil), x.Shape...), Data: linearRows(h, rows, f.Wo)}, nil
}

// graph is the module in a training graph, over x [N, d_model].
func (f *FeedForward) graph(b *builder, x *G.Node) *G.Node {
	if f.Gated() {
		gate := b.geluNew(b.linear(x, f.Wi0))
		return b.linear(b.dropout(b.mul(gate, b.linear(x, f.Wi1))), f.Wo)
	}
	h := b.call(func() (*G.Node, error) { return nn.ReLU(b.linear(x, f.Wi)) })
	return b.linear(b.dropout(h), f.Wo)
}

// forward is the module in an inference graph: residual + f(x) in two fused
// products, the activation in the first and the residual sum in the second.
func (f *FeedForward) forward(b *builder, x, residual *G.Node) *G.Node {
	var h *G.Node
	if f.Gated() {
		h = b.project(x, nil, 1, actGatedGelu, b.role("ff"), f.Wi0, f.Wi1)
	} else {
		h = b.project(x, nil, 1, actReLU, b.role("ff"), f.Wi)
	}
	return b.project(h, residual, 1, actNone, b.nextResidual(), f.Wo)
}

// step writes f(x) for the step's rows x [n, d_model] to dst.
func (f *FeedForward) step(st *stepper, dst, x []float32) {
	if f.packed == nil {
		p := &packedFeedForward{wo: packLinear(f.Wo)}
		if f.Gated() {
			p.wi, p.wi1 = packLinear(f.Wi0), packLinear(f.Wi1)
		} else {
			p.wi = packLinear(f.Wi)
		}
		f.packed = p
	}
	p := f.packed
	linear(st.ff, x, p.wi, st.n)
	if p.wi1 != nil {
		linear(st.ff1, x, p.wi1, st.n)
		kernel.GatedGELUNew(st.ff, st.ff, st.ff1)
	} else {
		kernel.ReLU(st.ff, st.ff)
	}
	linear(dst, st.ff, p.wo, st.n)
}

// ffLayer is T5LayerFF: x + DenseReluDense(layer_norm(x)).
type ffLayer struct {
	ff   *FeedForward // DenseReluDense
	norm *LayerNorm   // layer_norm
}

func loadFFLayer(v vars, cfg Config) *ffLayer {
	return &ffLayer{ff: loadFeedForward(v.pp("DenseReluDense"), cfg), norm: loadLayerNorm(v.pp("layer_norm"), cfg)}
}

// graph adds the layer over x [N, d_model] to a training or inference graph.
func (l *ffLayer) graph(b *builder, x *G.Node) *G.Node {
	h := l.norm.graph(b, x, b.role("h"))
	if !b.infer {
		return b.add(x, b.dropout(l.ff.graph(b, h)))
	}
	return l.ff.forward(b, h, x)
}

// step runs the layer on the step's rows st.x in place.
func (l *ffLayer) step(st *stepper) {
	l.norm.step(st.h, st.x)
	l.ff.step(st, st.out, st.h)
	addTo(st.x, st.out)
}
