package t5

// T5LayerNorm, in its three ways of running: graph (a node of a training or
// inference graph), forward (on a Tensor) and step (on the decoder step's
// rows).

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
)

// LayerNorm is T5LayerNorm, an RMS norm: each row x of d_model values
// becomes Weight ⊙ x / sqrt(mean(x²) + Eps), with no mean subtraction and
// no bias.
type LayerNorm struct {
	// Weight is the learned scale [d_model] (layer_norm.weight).
	Weight *Tensor
	// Eps is the config's layer_norm_epsilon (1e-6 for T5).
	Eps float64
}

// loadLayerNorm takes layer_norm.weight-style weights at v.
func loadLayerNorm(v vars, cfg Config) *LayerNorm {
	return &LayerNorm{Weight: v.get("weight", cfg.DModel), Eps: cfg.LayerNormEpsilon}
}

// Forward normalizes every row of x [..., d_model] and returns a new tensor
// of x's shape.
func (l *LayerNorm) Forward(x *Tensor) (*Tensor, error) {
	if err := l.Weight.check("LayerNorm.Weight", -1); err != nil {
		return nil, err
	}
	d := l.Weight.Shape[0]
	if len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != d || len(x.Data) != numel(x.Shape...) {
		return nil, fmt.Errorf("t5: LayerNorm over %d features cannot take an input of shape %v", d, x.Shape)
	}
	out := &Tensor{Shape: append([]int(nil), x.Shape...), Data: make([]float32, len(x.Data))}
	l.step(out.Data, x.Data)
	return out, nil
}

// graph adds the norm of x [N, d_model] to the graph, written to the buffer
// of role in inference graphs. The op is differentiable, so training and
// inference graphs share it.
func (l *LayerNorm) graph(b *builder, x *G.Node, role string) *G.Node {
	return b.rmsNorm(l.Eps, b.out(role), x, b.param(l.Weight))
}

// step writes the norm of the rows of x [N, d_model] to dst.
func (l *LayerNorm) step(dst, x []float32) {
	kernel.RMSNorm(dst, x, l.Weight.Data, l.Eps)
}
