package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
)

// distilBERT is transformers' DistilBertModel: embeddings (word + position,
// LayerNorm with eps 1e-12, dropout; no token types), then post-LN
// transformer blocks.
type distilBERT struct {
	cfg                    *Config
	word, pos, embLN, embB *param
	layers                 []distilLayer
}

// distilLayer is one TransformerBlock: multi-head self-attention (q/k/v/out
// projections), sa_layer_norm, the two-layer GELU feed-forward, output_layer_norm.
type distilLayer struct {
	q, qb, k, kb, v, vb, o, ob *param
	qkv, qkvb                  *param // q, k, v stacked (fuse): one projection
	saLN, saLNb                *param
	lin1, lin1b, lin2, lin2b   *param
	outLN, outLNb              *param
}

func loadDistilBERT(w *checkpoint.Weights, cfg *Config) (*distilBERT, error) {
	l := &loader{w: w, prefix: "distilbert."}
	h, f := cfg.Hidden, cfg.Intermediate
	m := &distilBERT{cfg: cfg,
		word:  l.get("embeddings.word_embeddings.weight", cfg.VocabSize, h),
		pos:   l.get("embeddings.position_embeddings.weight", cfg.MaxPositions, h),
		embLN: l.get("embeddings.LayerNorm.weight", h),
		embB:  l.get("embeddings.LayerNorm.bias", h),
	}
	for i := range cfg.Layers {
		p := fmt.Sprintf("transformer.layer.%d.", i)
		m.layers = append(m.layers, distilLayer{
			q: l.get(p+"attention.q_lin.weight", h, h), qb: l.get(p+"attention.q_lin.bias", h),
			k: l.get(p+"attention.k_lin.weight", h, h), kb: l.get(p+"attention.k_lin.bias", h),
			v: l.get(p+"attention.v_lin.weight", h, h), vb: l.get(p+"attention.v_lin.bias", h),
			o: l.get(p+"attention.out_lin.weight", h, h), ob: l.get(p+"attention.out_lin.bias", h),
			saLN: l.get(p+"sa_layer_norm.weight", h), saLNb: l.get(p+"sa_layer_norm.bias", h),
			lin1: l.get(p+"ffn.lin1.weight", f, h), lin1b: l.get(p+"ffn.lin1.bias", f),
			lin2: l.get(p+"ffn.lin2.weight", h, f), lin2b: l.get(p+"ffn.lin2.bias", h),
			outLN: l.get(p+"output_layer_norm.weight", h), outLNb: l.get(p+"output_layer_norm.bias", h),
		})
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	for i := range m.layers {
		y := &m.layers[i]
		y.qkv = fuse(y.q.name+"+k+v", y.q, y.k, y.v)
		y.qkvb = fuse(y.qb.name+"+k+v", y.qb, y.kb, y.vb)
	}
	return m, nil
}

func (m *distilBERT) params() []*param {
	ps := []*param{m.word, m.pos, m.embLN, m.embB}
	for _, y := range m.layers {
		ps = append(ps, y.q, y.qb, y.k, y.kb, y.v, y.vb, y.o, y.ob, y.saLN, y.saLNb,
			y.lin1, y.lin1b, y.lin2, y.lin2b, y.outLN, y.outLNb)
	}
	return ps
}

func (m *distilBERT) extras() []*param { return nil }

func (m *distilBERT) forward(b *builder, in *batchNodes) (*G.Node, error) {
	if in.t > m.cfg.MaxPositions {
		return nil, fmt.Errorf("encoder: %d tokens exceed max_position_embeddings %d", in.t, m.cfg.MaxPositions)
	}
	word, err := b.wordEmbeddings(m.word, in)
	if err != nil {
		return nil, err
	}
	pos, err := nn.Embedding(b.node(m.pos), in.pos)
	if err != nil {
		return nil, err
	}
	x, err := b.addNorm(word, pos, m.embLN, m.embB, m.cfg.LayerNormEps)
	if err != nil {
		return nil, err
	}
	if x, err = nn.DropoutOp(x, b.hidden); err != nil {
		return nil, err
	}
	for i := range m.layers {
		if x, err = m.layer(b, &m.layers[i], x, in); err != nil {
			return nil, fmt.Errorf("encoder: layer %d: %w", i, err)
		}
	}
	return x, nil
}

// layer is TransformerBlock.forward: attention, sa_layer_norm(attn + x), then
// output_layer_norm(ffn + that).
func (m *distilBERT) layer(b *builder, y *distilLayer, x *G.Node, in *batchNodes) (_ *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // G.Must
			err = fmt.Errorf("%v", r)
		}
	}()
	qkv := b.into("qkv", G.Must(b.linear(x, y.qkv, y.qkvb)))
	ctx := b.into("ctx", G.Must(nn.SelfAttention(qkv, in.addMask, nn.AttentionConfig{Batch: in.b, Heads: m.cfg.Heads, Dropout: b.attnDrp})))
	sa := b.residual(G.Must(b.addNorm(b.into("o", G.Must(b.linear(ctx, y.o, y.ob))), x, y.saLN, y.saLNb, m.cfg.LayerNormEps)))
	f := b.into("gelu", G.Must(nn.GELU(b.into("ff1", G.Must(b.linear(sa, y.lin1, y.lin1b))))))
	f = G.Must(nn.DropoutOp(b.into("ff2", G.Must(b.linear(f, y.lin2, y.lin2b))), b.hidden))
	return b.residual(G.Must(b.addNorm(f, sa, y.outLN, y.outLNb, m.cfg.LayerNormEps))), nil
}
