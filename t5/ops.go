package t5

// The T5 graphs' operations, each one of internal/nn's wrappers of an
// internal/kernel kernel: RMS norm (T5LayerNorm), gelu_new, the embedding
// gather (whose gradient scatter-adds), the relative-position bias,
// cross-entropy, and for inference graphs the fused linear layer
// (nn.Project); attention is nn.Attend (Attention.attend, attention.go),
// reading its heads in place from the projections. Inference
// graphs write their outputs into the Model's workspace (see outBuf);
// training graphs give every node its own output, which the backward pass
// reads.

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// IgnoreIndex is the label value the loss skips, as in PyTorch.
const IgnoreIndex = kernel.IgnoreIndex

// opts returns the nn options that make an op write to o: the workspace
// buffer of its role in inference graphs, none (an output of the node's
// own) in training graphs.
func (o outBuf) opts() []nn.Option {
	if o.ws == nil {
		return nil
	}
	return []nn.Option{nn.Into(nn.BufferFunc(o.alloc))}
}

// rmsNorm is T5LayerNorm of x [N, D] with weight w [D].
func (b *builder) rmsNorm(eps float64, out outBuf, x, w *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.RMSNorm(x, w, eps, out.opts()...) })
}

// geluNew is gelu_new of x.
func (b *builder) geluNew(x *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.GELUNew(x) })
}

// gather looks up the rows of table [V, D] named by ids [N].
func (b *builder) gather(out outBuf, table, ids *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.Embedding(table, ids, out.opts()...) })
}

// relBias is the attention bias [n·H, s, t] from the bucket table [buckets,
// H], the buckets [s·t] and the additive mask [n, s, t].
func (b *builder) relBias(out outBuf, table, buckets, mask *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.PositionBias(table, buckets, mask, out.opts()...) })
}

// crossEntropy is torch's CrossEntropyLoss(ignore_index=-100) of logits
// [N, V] against labels [N].
func (b *builder) crossEntropy(logits, labels *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.CrossEntropy(logits, labels) })
}

// activation is what a fused projection applies to its product.
type activation = nn.Activation

const (
	actNone      = nn.ActNone
	actReLU      = nn.ActReLU         // max(0, x)
	actGatedGelu = nn.ActGatedGELUNew // gelu_new(x·W₀) ⊙ x·W₁ (T5DenseGatedActDense)
)

// fusedLinear is the inference graphs' linear layer: x times the
// transposed weights (out_i, in) side by side, times alpha, with act, or
// onto residual when it is not nil (nn.Project); the gated products go to
// the buffer of out's role + ".pre".
func (b *builder) fusedLinear(alpha float32, act activation, out outBuf, x, residual *G.Node, weights ...*G.Node) *G.Node {
	cfg := nn.ProjectConfig{Alpha: float64(alpha), Act: act}
	if out.ws != nil && act == actGatedGelu {
		cfg.Pre = nn.BufferFunc(outBuf{out.ws, out.role + ".pre"}.alloc)
	}
	return b.call(func() (*G.Node, error) { return nn.Project(x, weights, residual, cfg, out.opts()...) })
}

// logSoftmaxAt returns log_softmax(row)[k].
func logSoftmaxAt(row []float32, k int) float32 {
	return float32(float64(row[k]) - kernel.LogSumExp(row))
}

// f32s returns the float32 data of a graph value.
func f32s(v G.Value) ([]float32, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		if x.IsView() {
			x = x.Materialize().(*tensor.Dense)
		}
		d, ok := x.Data().([]float32)
		if !ok {
			if s, ok := x.Data().(float32); ok {
				return []float32{s}, nil
			}
			return nil, fmt.Errorf("t5: expected float32 data, got %T", x.Data())
		}
		return d, nil
	case *G.F32:
		return []float32{float32(*x)}, nil
	}
	return nil, fmt.Errorf("t5: expected a float32 value, got %T", v)
}
