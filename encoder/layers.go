package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
)

// The building blocks of the encoder's forward pass, on gorgonia nodes of
// float32 or float64, each differentiable (gorgonia.Grad) and computed by
// the same kernels as Encode and Fit, for use in one's own graphs and
// tests.

// LayerNorm is torch.nn.LayerNorm over the last axis of x [..., D]:
// (x - mean) / sqrt(var + eps) · weight + bias, with weight and bias [D]
// (BERT and DistilBERT use eps 1e-12).
func LayerNorm(x, weight, bias *G.Node, eps float64) (*G.Node, error) {
	return wrap(nn.LayerNorm(x, weight, bias, eps))
}

// AddLayerNorm is LayerNorm(x + res, weight, bias, eps) as one op: the
// residual connection and layer norm that close every BERT sublayer.
func AddLayerNorm(x, res, weight, bias *G.Node, eps float64) (*G.Node, error) {
	return wrap(nn.AddLayerNorm(x, res, weight, bias, eps))
}

// GELU is the exact Gaussian error linear unit x·Φ(x), Φ the standard
// normal CDF (erf), as torch.nn.functional.gelu and transformers' "gelu"
// activation, which BERT and DistilBERT use.
func GELU(x *G.Node) (*G.Node, error) { return wrap(nn.GELU(x)) }

// GELUNew is the tanh approximation of GELU,
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): transformers' "gelu_new"
// (and "gelu_pytorch_tanh"), as GPT-2 and T5 v1.1 use it.
func GELUNew(x *G.Node) (*G.Node, error) { return wrap(nn.GELUNew(x)) }

// ReLU is max(0, x) element-wise, as torch.relu.
func ReLU(x *G.Node) (*G.Node, error) { return wrap(nn.ReLU(x)) }

// Linear is torch.nn.Linear: x [..., in] times the transpose of weight
// [out, in], plus bias [out].
func Linear(x, weight, bias *G.Node) (*G.Node, error) { return wrap(nn.Linear(x, weight, bias)) }

// AttentionConfig sizes a multi-head attention.
type AttentionConfig struct {
	Batch int // sequences in the batch (B)
	Heads int // attention heads; the model dim must be a multiple of it
}

// Attention is the core of BERT's and DistilBERT's self-attention between
// the q/k/v projections and the output projection: for each sequence b and
// head h, softmax(q·kᵀ/√d_head + mask[b])·v, the heads side by side in the
// last axis. q, k and v are [B·T, D] (or [B, T, D]); mask is the [B, T]
// additive mask of AdditiveMask. The result has q's shape; mask gets no
// gradient.
func Attention(q, k, v, mask *G.Node, cfg AttentionConfig) (*G.Node, error) {
	return wrap(nn.Attention(q, k, v, mask, nn.AttentionConfig{Batch: cfg.Batch, Heads: cfg.Heads}))
}

// SelfAttention is Attention over one fused projection qkv [B·T, 3·D], q, k
// and v side by side in the last axis (what a Linear with the three weight
// matrices stacked computes); the kernels read them in place.
func SelfAttention(qkv, mask *G.Node, cfg AttentionConfig) (*G.Node, error) {
	return wrap(nn.SelfAttention(qkv, mask, nn.AttentionConfig{Batch: cfg.Batch, Heads: cfg.Heads}))
}

// Normalize scales each row of x [N, D] to unit L2 norm, x / max(‖x‖, 1e-12),
// as sentence-transformers' Normalize module and
// torch.nn.functional.normalize do.
func Normalize(x *G.Node) (*G.Node, error) { return wrap(nn.Normalize(x)) }

// wrap prefixes an error of the kernel layer with the package name.
func wrap(n *G.Node, err error) (*G.Node, error) {
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return n, nil
}
